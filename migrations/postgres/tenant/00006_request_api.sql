-- +goose Up
-- The client API each request came through: chat, responses, messages or
-- embeddings. Rows written before this column read '' (shown as "—").
ALTER TABLE usage_events ADD COLUMN api TEXT NOT NULL DEFAULT '';
-- The daily rollups gain it as a dimension (usage by API).
ALTER TABLE usage_daily ADD COLUMN api TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_daily DROP CONSTRAINT usage_daily_pkey;
ALTER TABLE usage_daily ADD PRIMARY KEY (day, model, key_id, member_id, api);

-- +goose Down
DELETE FROM usage_daily WHERE api <> '';
ALTER TABLE usage_daily DROP CONSTRAINT usage_daily_pkey;
ALTER TABLE usage_daily ADD PRIMARY KEY (day, model, key_id, member_id);
ALTER TABLE usage_daily DROP COLUMN api;
ALTER TABLE usage_events DROP COLUMN api;
