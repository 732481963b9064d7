-- Where in a cluster an image runs: one row per (digest, environment, namespace, workload kind,
-- workload, container), kept by dedupe from ImageDiscovered sightings (issue 14, defect 5).

CREATE TABLE image_workloads (
    digest        text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    environment   text NOT NULL,   -- "cluster:<name>"
    namespace     text NOT NULL,
    workload_kind text NOT NULL,
    workload      text NOT NULL,
    container     text NOT NULL DEFAULT '',
    repository    text NOT NULL DEFAULT '',
    pod_count     integer NOT NULL DEFAULT 0,
    last_seen     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (digest, environment, namespace, workload_kind, workload, container)
);

CREATE INDEX image_workloads_workload_idx ON image_workloads (environment, namespace, workload_kind, workload);
