-- +goose Up
-- A rotated key's successor spends against its predecessor's key budgets: every key
-- of a rotation chain names the chain's first key, whose id the key budgets, their
-- counters and their ledger totals keep. Keys never rotated have no row.
CREATE TABLE key_lineage (
    key_id        TEXT PRIMARY KEY,
    budget_key_id TEXT NOT NULL,
    created_at    DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX key_lineage_budget_key_idx ON key_lineage (budget_key_id);

-- +goose Down
DROP TABLE key_lineage;
