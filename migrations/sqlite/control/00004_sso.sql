-- +goose Up
-- Single sign-on (OIDC). One identity provider per tenant: the client secret is
-- sealed with the master key (bound to the tenant), never stored in clear.
CREATE TABLE sso_providers (
    tenant_id            TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    issuer               TEXT NOT NULL,
    client_id            TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL DEFAULT '',
    -- role_mapping is a JSON array of {"group","role"}.
    role_mapping         TEXT NOT NULL DEFAULT '[]',
    default_role         TEXT NOT NULL DEFAULT '',
    groups_claim         TEXT NOT NULL DEFAULT 'groups',
    enabled              BOOLEAN NOT NULL DEFAULT 1,
    required             BOOLEAN NOT NULL DEFAULT 0,
    created_at           DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at           DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- The email domains a tenant's provider may sign in; sign-in discovers the
-- tenant by the domain of the email typed. A domain may be claimed by several
-- tenants: sign-in then asks which one.
CREATE TABLE sso_domains (
    tenant_id TEXT NOT NULL REFERENCES sso_providers(tenant_id) ON DELETE CASCADE,
    domain    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, domain)
);
CREATE INDEX sso_domains_domain_idx ON sso_domains (domain);

-- One row per sign-in attempt: the state (stored as its SHA-256, used once),
-- the browser binding (SHA-256 of a cookie), the nonce and PKCE verifier, and
-- after the provider answered, the one-time hand-off to the console.
CREATE TABLE sso_logins (
    id                 TEXT PRIMARY KEY,
    state_hash         TEXT NOT NULL UNIQUE,
    browser_hash       TEXT NOT NULL,
    tenant_id          TEXT NOT NULL,
    nonce              TEXT NOT NULL,
    code_verifier      TEXT NOT NULL,
    return_to          TEXT NOT NULL DEFAULT '',
    created_at         DATETIME NOT NULL,
    expires_at         DATETIME NOT NULL,
    used_at            DATETIME,
    user_id            TEXT NOT NULL DEFAULT '',
    handoff_hash       TEXT UNIQUE,
    handoff_expires_at DATETIME,
    handoff_used_at    DATETIME
);
CREATE INDEX sso_logins_expires_idx ON sso_logins (expires_at);

-- A session started through a tenant's provider reaches only that tenant; a
-- password session stops refreshing once a tenant of its user requires SSO.
ALTER TABLE refresh_tokens ADD COLUMN tenant_scope TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'password';

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN auth_method;
ALTER TABLE refresh_tokens DROP COLUMN tenant_scope;
DROP TABLE sso_logins;
DROP TABLE sso_domains;
DROP TABLE sso_providers;
