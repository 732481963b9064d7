-- Policy: ruleset assignments, finding lifecycle (resolved), the fields rules match on,
-- evaluations already applied (idempotency on scan id) and the advisory build last rematched.

CREATE TABLE ruleset_assignments (
    scope       text NOT NULL CHECK (scope IN ('environment', 'ou')),
    name        text NOT NULL,  -- the environment ("registry:host", "cluster:prod") or the OU
    ruleset     text NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, name)
);

ALTER TABLE findings DROP CONSTRAINT IF EXISTS findings_state_check;
ALTER TABLE findings ADD CONSTRAINT findings_state_check
    CHECK (state IN ('new', 'changed', 'unchanged', 'resolved'));

ALTER TABLE findings
    ADD COLUMN fix_state        text NOT NULL DEFAULT '',
    ADD COLUMN known_exploited  boolean NOT NULL DEFAULT false,
    ADD COLUMN cvss_score       double precision NOT NULL DEFAULT 0,
    ADD COLUMN path             text NOT NULL DEFAULT '',
    ADD COLUMN evidence         text NOT NULL DEFAULT '',
    ADD COLUMN suppression      text NOT NULL DEFAULT '',
    ADD COLUMN policy_rule      text NOT NULL DEFAULT '',
    ADD COLUMN changed_by       text NOT NULL DEFAULT '',  -- the evaluation that set ``state``
    ADD COLUMN state_changed_at timestamptz NOT NULL DEFAULT now();

CREATE INDEX findings_digest_ruleset_idx ON findings (digest, ruleset);

-- One row per (evaluation, digest, ruleset) applied: a redelivered scan is recognised here.
CREATE TABLE policy_evaluations (
    evaluation_id text NOT NULL,
    digest        text NOT NULL,
    ruleset       text NOT NULL,
    applied_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (evaluation_id, digest, ruleset)
);

-- Small key/value state of the policy service (``advisory_build``: the build last rematched).
CREATE TABLE policy_state (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
