-- +goose Up
-- One-time links: invitations to join a tenant (purpose 'invite') and password
-- resets (purpose 'reset'). Only the SHA-256 of the token is stored; a link is used
-- at most once (accepted_at), expires (expires_at) and can be revoked (revoked_at).
CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    purpose          TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    tenant_id        TEXT NOT NULL DEFAULT '',
    email            TEXT NOT NULL,
    role             TEXT NOT NULL DEFAULT '',
    invited_by       TEXT NOT NULL DEFAULT '',
    invited_by_email TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    expires_at       DATETIME NOT NULL,
    accepted_at      DATETIME,
    accepted_by      TEXT NOT NULL DEFAULT '',
    revoked_at       DATETIME
);
CREATE INDEX invitations_tenant_idx ON invitations (tenant_id, created_at);
CREATE INDEX invitations_email_idx ON invitations (email);

-- +goose Down
DROP TABLE invitations;
