-- Advisory database builds made by the updater (services/updater/), newest last, and the
-- analysis version each engine configuration records at start-up (dedupe and rescan read it).

CREATE TABLE advisory_builds (
    build_id     text PRIMARY KEY,
    object_key   text NOT NULL,            -- advisories/<build_id>/vulndb.sqlite in the object store
    sha256       text NOT NULL,
    size_bytes   bigint NOT NULL DEFAULT 0,
    built_at     timestamptz NOT NULL,     -- when the updater finished building it
    sources      jsonb NOT NULL DEFAULT '[]',  -- ["osv:<location>", "kev:<location>", ...]
    advisories   integer NOT NULL DEFAULT 0,
    published_at timestamptz,              -- announced on assay.advisories.v1
    checked_at   timestamptz NOT NULL DEFAULT now(),  -- last time the updater found its sources unchanged
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX advisory_builds_built_at_idx ON advisory_builds (built_at DESC);

CREATE TABLE analysis_versions (
    version     text PRIMARY KEY,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);
