-- Inventory's own state (issue 19). Inventory writes both tables; the engine reads pull_secret_refs.

-- The last pass of each polling source (the registry crawl, ECR, ECS): every sighting it last
-- published. A restarted inventory diffs its first pass against it, so a tag deleted while inventory
-- was down is unlinked (services/inventory/crawlstate.py).
CREATE TABLE crawl_state (
    source      text NOT NULL,          -- the poller's name: 'registry crawl', 'ecr', 'ecs'
    key         text NOT NULL,          -- the sighting's identity (services/inventory/deltas.py), JSON
    environment text NOT NULL,
    registry    text NOT NULL,
    repository  text NOT NULL,
    tag         text NOT NULL,
    digest      text NOT NULL,
    sighting    jsonb NOT NULL,         -- the ImageDiscovered last published
    last_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, key)
);

-- The image pull secrets the pods running a digest name (references only: namespace and name, never
-- the secret's content). The engine reads the named secrets from the cluster's API server when it
-- pulls that digest (services/oci/credentials/kube.py).
CREATE TABLE pull_secret_refs (
    environment text NOT NULL,          -- 'cluster:<name>'
    repository  text NOT NULL,
    digest      text NOT NULL,
    namespace   text NOT NULL,
    name        text NOT NULL,          -- the Secret's name
    position    integer NOT NULL,       -- its place in the pod's imagePullSecrets (the kubelet's order)
    seen_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (environment, repository, digest, namespace, name)
);
CREATE INDEX pull_secret_refs_digest ON pull_secret_refs (digest);
