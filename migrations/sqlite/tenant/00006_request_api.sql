-- +goose Up
-- The client API each request came through: chat, responses, messages or
-- embeddings. Rows written before this column read '' (shown as "—").
ALTER TABLE usage_events ADD COLUMN api TEXT NOT NULL DEFAULT '';
-- The daily rollups gain it as a dimension (usage by API); SQLite cannot
-- change a primary key in place, so the table is rebuilt.
CREATE TABLE usage_daily_new (
    day           TEXT NOT NULL,
    model         TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    member_id     TEXT NOT NULL,
    api           TEXT NOT NULL DEFAULT '',
    requests      INTEGER NOT NULL DEFAULT 0,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_nano     INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_saved_nano   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, model, key_id, member_id, api)
);
INSERT INTO usage_daily_new (day, model, key_id, member_id, requests, input_tokens, cached_tokens, output_tokens, cost_nano, cache_write_tokens, cache_saved_nano)
    SELECT day, model, key_id, member_id, requests, input_tokens, cached_tokens, output_tokens, cost_nano, cache_write_tokens, cache_saved_nano FROM usage_daily;
DROP TABLE usage_daily;
ALTER TABLE usage_daily_new RENAME TO usage_daily;

-- +goose Down
CREATE TABLE usage_daily_old (
    day           TEXT NOT NULL,
    model         TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    member_id     TEXT NOT NULL,
    requests      INTEGER NOT NULL DEFAULT 0,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_nano     INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_saved_nano   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, model, key_id, member_id)
);
INSERT INTO usage_daily_old
    SELECT day, model, key_id, member_id, SUM(requests), SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens), SUM(cost_nano),
           SUM(cache_write_tokens), SUM(cache_saved_nano)
    FROM usage_daily GROUP BY day, model, key_id, member_id;
DROP TABLE usage_daily;
ALTER TABLE usage_daily_old RENAME TO usage_daily;
ALTER TABLE usage_events DROP COLUMN api;
