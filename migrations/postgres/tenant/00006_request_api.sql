-- +goose Up
-- The client API each request came through: chat, responses, messages or
-- embeddings. Rows written before this column read '' (the console shows them
-- as chat, or embeddings for an embeddings model).
ALTER TABLE usage_events ADD COLUMN api TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE usage_events DROP COLUMN api;
