-- +goose Up
-- The client API each request came through: chat, responses, messages or
-- embeddings. Rows written before this column read '' (shown as "—").
ALTER TABLE usage_events ADD COLUMN api TEXT NOT NULL DEFAULT '';
-- The daily rollups gain it as a dimension (usage by API).
ALTER TABLE usage_daily ADD COLUMN api TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_daily DROP CONSTRAINT usage_daily_pkey;
ALTER TABLE usage_daily ADD PRIMARY KEY (day, model, key_id, member_id, api);

-- +goose Down
CREATE TABLE usage_daily_old (
    day           TEXT NOT NULL,
    model         TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    member_id     TEXT NOT NULL,
    requests      BIGINT NOT NULL DEFAULT 0,
    input_tokens  BIGINT NOT NULL DEFAULT 0,
    cached_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cost_nano     BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    cache_saved_nano   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, model, key_id, member_id)
);
INSERT INTO usage_daily_old
    SELECT day, model, key_id, member_id, SUM(requests), SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens), SUM(cost_nano),
           SUM(cache_write_tokens), SUM(cache_saved_nano)
    FROM usage_daily GROUP BY day, model, key_id, member_id;
DROP TABLE usage_daily;
ALTER TABLE usage_daily_old RENAME TO usage_daily;
ALTER INDEX usage_daily_old_pkey RENAME TO usage_daily_pkey;
ALTER TABLE usage_events DROP COLUMN api;
