-- +goose Up
-- Which lease-meter instances may hold budget of which tenant, outside Redis: when
-- Redis loses a tenant's counters, a recovering instance waits for exactly the live
-- holders to put their leases back (billing/meter.Peers).
CREATE TABLE meter_instances (
    instance_id TEXT PRIMARY KEY,
    beat_at_ms  BIGINT NOT NULL
);
CREATE TABLE meter_holders (
    tenant_id   TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, instance_id)
);
CREATE INDEX meter_holders_instance_idx ON meter_holders (instance_id);

-- +goose Down
DROP TABLE meter_holders;
DROP TABLE meter_instances;
