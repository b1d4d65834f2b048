-- +goose Up
-- Usage imported from another gateway's export (OpenRouter activity CSV, OpenAI
-- organization usage JSON): history a team sees in analytics, projections and
-- the routing what-if before its first request through Tollgate. Imported rows
-- never enter usage_events: budgets, the reconcile and invoices cannot see them.
-- Their daily rollups live in usage_daily under api = 'imported', a value no
-- served request has, and every budget, reconcile and invoice query excludes it.

-- One row per import run: what was sent and what it changed.
CREATE TABLE usage_imports (
    id             TEXT PRIMARY KEY,
    created_at     DATETIME NOT NULL,
    format         TEXT NOT NULL,
    file_name      TEXT NOT NULL DEFAULT '',
    file_sha256    TEXT NOT NULL,
    actor          TEXT NOT NULL DEFAULT '',
    rows_total     INTEGER NOT NULL DEFAULT 0,
    rows_new       INTEGER NOT NULL DEFAULT 0,
    rows_updated   INTEGER NOT NULL DEFAULT 0,
    rows_unchanged INTEGER NOT NULL DEFAULT 0,
    cost_nano      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX usage_imports_created_idx ON usage_imports (created_at DESC);

-- One row per imported export row, keyed by a hash of the row's identity in its
-- export (OpenRouter's generation id; an OpenAI bucket's day and grouping), so a
-- re-import of the same or an overlapping export never counts a row twice.
-- content_sha256 tells an unchanged row from one whose figures changed.
CREATE TABLE usage_imported_rows (
    row_key         TEXT PRIMARY KEY,
    content_sha256  TEXT NOT NULL,
    import_id       TEXT NOT NULL,
    format          TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    day             TEXT NOT NULL,
    model           TEXT NOT NULL,
    export_model    TEXT NOT NULL DEFAULT '',
    key_id          TEXT NOT NULL DEFAULT '',
    member_id       TEXT NOT NULL DEFAULT '',
    requests        INTEGER NOT NULL DEFAULT 0,
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    cached_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    cost_nano       INTEGER NOT NULL DEFAULT 0,
    cost_source     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX usage_imported_rows_created_idx ON usage_imported_rows (created_at DESC);

-- +goose Down
DELETE FROM usage_daily WHERE api = 'imported';
DROP TABLE usage_imported_rows;
DROP TABLE usage_imports;
