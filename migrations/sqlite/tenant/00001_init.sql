-- +goose Up
-- One row per completed request; request_id makes ledger writes idempotent.
CREATE TABLE usage_events (
    request_id      TEXT PRIMARY KEY,
    created_at      DATETIME NOT NULL,
    key_id          TEXT NOT NULL DEFAULT '',
    member_id       TEXT NOT NULL DEFAULT '',
    model_requested TEXT NOT NULL DEFAULT '',
    model_used      TEXT NOT NULL DEFAULT '',
    provider        TEXT NOT NULL DEFAULT '',
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    cached_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    cost_nano       INTEGER NOT NULL DEFAULT 0,
    latency_ms      INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'ok',
    route_reason    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX usage_events_created_idx ON usage_events (created_at DESC);
CREATE INDEX usage_events_key_idx ON usage_events (key_id, created_at DESC);

-- Daily rollups: charts read these, never raw events.
CREATE TABLE usage_daily (
    day           TEXT NOT NULL,
    model         TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    member_id     TEXT NOT NULL,
    requests      INTEGER NOT NULL DEFAULT 0,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_nano     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, model, key_id, member_id)
);

CREATE TABLE budgets (
    id           TEXT PRIMARY KEY,
    scope        TEXT NOT NULL,
    scope_id     TEXT NOT NULL DEFAULT '',
    period       TEXT NOT NULL,
    limit_nano   INTEGER NOT NULL,
    hard         BOOLEAN NOT NULL DEFAULT 1,
    alert_at     TEXT NOT NULL DEFAULT '[50,80,100]',
    downgrade_at INTEGER NOT NULL DEFAULT 0,
    created_at   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (scope, scope_id, period)
);

CREATE TABLE routing_policies (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    policy     TEXT NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- An alert fires once per budget, period and threshold.
CREATE TABLE alerts (
    id           TEXT PRIMARY KEY,
    budget_id    TEXT NOT NULL,
    period_key   TEXT NOT NULL,
    threshold    INTEGER NOT NULL,
    spent_nano   INTEGER NOT NULL,
    limit_nano   INTEGER NOT NULL,
    created_at   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    delivered_at DATETIME,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    UNIQUE (budget_id, period_key, threshold)
);

CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    secret_enc TEXT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE model_prices (
    model       TEXT PRIMARY KEY,
    input_nano  INTEGER NOT NULL,
    cached_nano INTEGER NOT NULL DEFAULT 0,
    output_nano INTEGER NOT NULL,
    updated_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE invoices (
    id                TEXT PRIMARY KEY,
    period            TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL,
    stripe_invoice_id TEXT NOT NULL DEFAULT '',
    number            TEXT NOT NULL DEFAULT '',
    cost_nano         INTEGER NOT NULL DEFAULT 0,
    charge_nano       INTEGER NOT NULL DEFAULT 0,
    amount_cents      INTEGER NOT NULL DEFAULT 0,
    rounding_nano     INTEGER NOT NULL DEFAULT 0,
    hosted_url        TEXT NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at        DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE invoice_lines (
    invoice_id     TEXT NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    line_id        TEXT NOT NULL,
    description    TEXT NOT NULL,
    requests       INTEGER NOT NULL DEFAULT 0,
    input_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_nano      INTEGER NOT NULL DEFAULT 0,
    charge_nano    INTEGER NOT NULL DEFAULT 0,
    amount_cents   INTEGER NOT NULL DEFAULT 0,
    rounding_nano  INTEGER NOT NULL DEFAULT 0,
    kind           TEXT NOT NULL DEFAULT 'usage',
    model          TEXT NOT NULL DEFAULT '',
    cached_tokens  INTEGER NOT NULL DEFAULT 0,
    position       INTEGER NOT NULL DEFAULT 0,
    stripe_item_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (invoice_id, line_id)
);

-- +goose Down
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE model_prices;
DROP TABLE webhooks;
DROP TABLE alerts;
DROP TABLE routing_policies;
DROP TABLE budgets;
DROP TABLE usage_daily;
DROP TABLE usage_events;
