-- Registries linked to clusters (issue 7): a registry environment ("registry:HOST") is scanned by
-- the engines of the clusters ("cluster:NAME") it is linked to (ScanRequested.sites).
-- Once linked, a registry keeps at least one link: services/common/store/links.py unlinks under a
-- row lock on all of the registry's links, so two concurrent unlinks cannot remove the last two.

CREATE TABLE registry_links (
    registry   text NOT NULL CHECK (registry <> ''),  -- the host, without "registry:"
    cluster    text NOT NULL CHECK (cluster <> ''),   -- the cluster name, without "cluster:"
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registry, cluster)
);

CREATE INDEX registry_links_cluster_idx ON registry_links (cluster);
