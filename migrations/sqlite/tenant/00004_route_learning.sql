-- +goose Up
-- Replay = live: per request, the classifier inputs that are not content
-- (features, probabilities, token estimate, tools/JSON flags, keyword rule
-- matches, conversation keys) as JSON, and the conversation key on its own.
ALTER TABLE usage_events ADD COLUMN route_features TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_events ADD COLUMN conversation_id TEXT NOT NULL DEFAULT '';

-- Feedback on served requests (POST /v1/feedback): the latest rating per request.
CREATE TABLE route_feedback (
    request_id      TEXT PRIMARY KEY,
    created_at      DATETIME NOT NULL,
    key_id          TEXT NOT NULL DEFAULT '',
    rating          INTEGER NOT NULL DEFAULT 0,
    needed_stronger BOOLEAN NOT NULL DEFAULT 0,
    comment         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX route_feedback_created_idx ON route_feedback (created_at DESC);

-- A tenant's own routing classifiers (tollgate route install), named by its policy.
CREATE TABLE route_classifiers (
    name       TEXT PRIMARY KEY,
    model      BLOB NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- +goose Down
DROP TABLE route_classifiers;
DROP TABLE route_feedback;
ALTER TABLE usage_events DROP COLUMN conversation_id;
ALTER TABLE usage_events DROP COLUMN route_features;
