-- Tokens limited to environments or organisational units (issue 15): the scope of an API token, of
-- the console session it (or an OIDC login) opened, and of every audited action. Entries are
-- environments as the API names them ("cluster:prod-eu") or OUs as "ou:NAME"; none = every environment.

ALTER TABLE api_tokens ADD COLUMN scope text[] NOT NULL DEFAULT '{}';
ALTER TABLE console_sessions ADD COLUMN scope text[] NOT NULL DEFAULT '{}';
ALTER TABLE audit_log ADD COLUMN scope text[] NOT NULL DEFAULT '{}';
