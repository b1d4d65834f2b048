-- +goose Up
-- Prompts a tenant opted in to keeping (routing policy retain_prompts_days) so
-- the what-if can replay keyword-rule changes. One row per served request,
-- keyed by the server's request id (idempotent spool replays). turn_sealed is
-- the text keyword rules match (the last user turn's scan window), sealed
-- with the master key and bound to the tenant and request id: it opens only
-- for this tenant's row. The worker deletes rows older than the policy's days,
-- and all of them when the tenant turns retention off.
CREATE TABLE kept_prompts (
    request_id  TEXT PRIMARY KEY,
    created_at  DATETIME NOT NULL,
    turn_sealed TEXT NOT NULL
);
CREATE INDEX kept_prompts_created_idx ON kept_prompts (created_at);

-- +goose Down
DROP TABLE kept_prompts;
