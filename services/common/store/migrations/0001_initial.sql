-- Images by manifest digest, where they were seen, their scans and the findings about them.

CREATE TABLE images (
    digest      text PRIMARY KEY,
    image_ref   text,
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'scanning', 'scanned', 'failed', 'too_large')),
    error       text,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    scan_id     text,
    scanned_at  timestamptz
);

CREATE TABLE image_environments (
    digest      text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    environment text NOT NULL,
    repository  text NOT NULL,
    tag         text NOT NULL DEFAULT '',
    last_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (digest, environment, repository, tag)
);

-- The package inventory is kept so that new advisories can be matched without a rescan.
CREATE TABLE scans (
    scan_id          text PRIMARY KEY,
    digest           text NOT NULL,
    analyzer_version text NOT NULL DEFAULT '',
    completed_at     timestamptz NOT NULL DEFAULT now(),
    packages         jsonb NOT NULL DEFAULT '[]',
    unknowns         jsonb NOT NULL DEFAULT '[]',
    image            jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX scans_digest_idx ON scans (digest);

-- No foreign key to images: a one-off `assay scan` records findings for images no crawler saw.
CREATE TABLE findings (
    finding_id        text PRIMARY KEY,
    digest            text NOT NULL,
    category          text NOT NULL,
    vuln_id           text NOT NULL,
    severity          text NOT NULL,
    title             text NOT NULL DEFAULT '',
    description       text NOT NULL DEFAULT '',
    package_name      text NOT NULL DEFAULT '',
    purl              text NOT NULL DEFAULT '',
    installed_version text NOT NULL DEFAULT '',
    fixed_version     text NOT NULL DEFAULT '',
    layer_digest      text NOT NULL DEFAULT '',
    environment       text NOT NULL DEFAULT '',
    ruleset           text NOT NULL DEFAULT 'default',
    state             text NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'changed', 'unchanged')),
    first_seen        timestamptz NOT NULL DEFAULT now(),
    last_seen         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX findings_digest_idx ON findings (digest);
CREATE INDEX findings_severity_idx ON findings (severity);
