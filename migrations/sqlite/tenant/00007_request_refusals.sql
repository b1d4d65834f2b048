-- +goose Up
-- Refused requests (401 with a known key, 403, 4xx validation, 429 budget and
-- rate limits, upstream errors), recorded without content for the request
-- explorer. A separate table so refusals never reach usage_daily, budgets or
-- invoices; keyed by the server's request id (idempotent spool replays).
CREATE TABLE request_refusals (
    request_id        TEXT PRIMARY KEY,
    created_at        DATETIME NOT NULL,
    client_request_id TEXT NOT NULL DEFAULT '',
    key_id            TEXT NOT NULL DEFAULT '',
    member_id         TEXT NOT NULL DEFAULT '',
    model_requested   TEXT NOT NULL DEFAULT '',
    route_reason      TEXT NOT NULL DEFAULT '',
    api               TEXT NOT NULL DEFAULT '',
    status_code       INTEGER NOT NULL DEFAULT 0,
    error_type        TEXT NOT NULL DEFAULT '',
    error_code        TEXT NOT NULL DEFAULT '',
    latency_ms        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX request_refusals_created_idx ON request_refusals (created_at DESC, request_id DESC);
CREATE INDEX request_refusals_status_idx ON request_refusals (status_code, created_at DESC);
CREATE INDEX request_refusals_key_idx ON request_refusals (key_id, created_at DESC);
CREATE INDEX request_refusals_member_idx ON request_refusals (member_id, created_at DESC);
CREATE INDEX request_refusals_model_idx ON request_refusals (model_requested, created_at DESC);
CREATE INDEX request_refusals_reason_idx ON request_refusals (route_reason, created_at DESC);

-- The explorer's filtered pages over served requests: member, model and route
-- reason, each newest first (key_id already has usage_events_key_idx).
CREATE INDEX usage_events_member_idx ON usage_events (member_id, created_at DESC);
CREATE INDEX usage_events_model_idx ON usage_events (model_used, created_at DESC);
CREATE INDEX usage_events_reason_idx ON usage_events (route_reason, created_at DESC);

-- +goose Down
DROP INDEX usage_events_reason_idx;
DROP INDEX usage_events_model_idx;
DROP INDEX usage_events_member_idx;
DROP TABLE request_refusals;
