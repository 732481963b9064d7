-- Environments added at run time (`assay environments add`, issue 19). A 'watch' cluster is watched
-- by the central inventory (from within its poll interval until it is removed, without a restart);
-- an 'agent' cluster runs its own inventory, which publishes to the central bus.

CREATE TABLE environments (
    kind       text NOT NULL CHECK (kind IN ('cluster')),
    name       text NOT NULL,              -- the environment is "<kind>:<name>"
    mode       text NOT NULL DEFAULT 'watch' CHECK (mode IN ('watch', 'agent')),
    kubeconfig text NOT NULL DEFAULT '',   -- the kubeconfig's contents ('' = the in-cluster account)
    context    text NOT NULL DEFAULT '',   -- '' = its current-context
    ou         text NOT NULL DEFAULT '',
    namespaces text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, name)
);
