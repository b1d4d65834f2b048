-- +goose Up
-- Placement: the Postgres cluster that holds a tenant's schema. 'main' is the
-- control database itself, so every existing tenant stays where it is; other
-- names come from TOLLGATE_TENANT_DATABASE_URLS. SQLite (file per tenant) keeps
-- 'main' for all.
ALTER TABLE tenants ADD COLUMN cluster TEXT NOT NULL DEFAULT 'main';
-- The tenant migration version its schema was last migrated to, recorded by the
-- migrator: `serve` migrates only the tenants recorded behind instead of opening
-- every schema at start-up. 0 = unknown (checked once, then recorded).
ALTER TABLE tenants ADD COLUMN schema_version BIGINT NOT NULL DEFAULT 0;
-- New tenants go to the cluster with the fewest tenants (a count by cluster).
CREATE INDEX tenants_cluster_idx ON tenants (cluster);
CREATE INDEX tenants_schema_version_idx ON tenants (schema_version);

-- +goose Down
DROP INDEX tenants_schema_version_idx;
DROP INDEX tenants_cluster_idx;
ALTER TABLE tenants DROP COLUMN schema_version;
ALTER TABLE tenants DROP COLUMN cluster;
