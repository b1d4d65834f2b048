-- +goose Up
-- The request explorer's detail and the savings suggestions: the output limit a
-- request ran under (the client's max_tokens or a key's cap; 0 none), the
-- latency split (time in Tollgate before the request went upstream, and the
-- answering upstream's time to its first byte, both in ms), and the models
-- tried and failed before the answer (JSON, '' when the first one answered).
-- Refusals keep the models tried before every one failed. Rows written
-- before this migration read 0 and ''.
ALTER TABLE usage_events ADD COLUMN max_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_events ADD COLUMN overhead_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_events ADD COLUMN first_byte_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_events ADD COLUMN fallbacks TEXT NOT NULL DEFAULT '';
ALTER TABLE request_refusals ADD COLUMN fallbacks TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE request_refusals DROP COLUMN fallbacks;
ALTER TABLE usage_events DROP COLUMN fallbacks;
ALTER TABLE usage_events DROP COLUMN first_byte_ms;
ALTER TABLE usage_events DROP COLUMN overhead_ms;
ALTER TABLE usage_events DROP COLUMN max_tokens;
