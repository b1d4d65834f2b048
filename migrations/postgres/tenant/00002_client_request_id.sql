-- +goose Up
-- The client's own X-Request-Id, stored beside the id Tollgate generated
-- (request_id, the idempotency key) for correlation only.
ALTER TABLE usage_events ADD COLUMN client_request_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE usage_events DROP COLUMN client_request_id;
