-- +goose Up
-- Prompt caching: cache writes (Anthropic bills them above the input price) and
-- what caching saved (the cost with every prompt token at the input price minus
-- the cost billed), per request and in the daily rollups; a tenant's price
-- override may set the cache-write price too, and invoice lines keep the
-- cache writes they billed.
ALTER TABLE usage_events ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_events ADD COLUMN cache_saved_nano BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN cache_saved_nano BIGINT NOT NULL DEFAULT 0;
ALTER TABLE model_prices ADD COLUMN cache_write_nano BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoice_lines ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE invoice_lines DROP COLUMN cache_write_tokens;
ALTER TABLE model_prices DROP COLUMN cache_write_nano;
ALTER TABLE usage_daily DROP COLUMN cache_saved_nano;
ALTER TABLE usage_daily DROP COLUMN cache_write_tokens;
ALTER TABLE usage_events DROP COLUMN cache_saved_nano;
ALTER TABLE usage_events DROP COLUMN cache_write_tokens;
