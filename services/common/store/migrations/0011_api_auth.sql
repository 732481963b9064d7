-- Who may use the API and console (services/api/auth/): API tokens stored hashed, console sessions
-- stored hashed, and the audit log of every change (issue 15).

CREATE TABLE api_tokens (
    token_id    text PRIMARY KEY,              -- the public part of the token ("assay_<token_id>_<secret>")
    name        text NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    hash        bytea NOT NULL,                -- SHA-256 of the whole token; the token itself is never stored
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT '',
    expires_at  timestamptz,                   -- NULL: never
    revoked_at  timestamptz,
    last_used_at timestamptz
);

CREATE TABLE console_sessions (
    hash        bytea PRIMARY KEY,             -- SHA-256 of the cookie value
    actor       text NOT NULL,                 -- "token:<name>" or "oidc:<issuer>#<subject>"
    role        text NOT NULL,
    token_id    text REFERENCES api_tokens (token_id) ON DELETE CASCADE,  -- a token login ends with its token
    csrf        text NOT NULL,                 -- the synchronizer token every form carries
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

CREATE INDEX console_sessions_expiry_idx ON console_sessions (expires_at);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,                 -- who: "token:<name>", "oidc:<issuer>#<sub>", "cli:<user>"
    role        text NOT NULL DEFAULT '',
    action      text NOT NULL,                 -- what: "registry.link", "image.rescan", "token.create", ...
    target      text NOT NULL DEFAULT '',      -- on what: a digest, "registry:HOST cluster:NAME", a token name
    source      text NOT NULL DEFAULT '',      -- from where: the client address, or "cli"
    outcome     text NOT NULL DEFAULT 'ok',    -- ok, refused, failed
    detail      text NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
