package ledger

import (
	"context"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/tenants"
)

const eventColumns = "request_id, created_at, key_id, member_id, model_requested, model_used, provider, " +
	"input_tokens, cached_tokens, output_tokens, cost_nano, latency_ms, status, route_reason, client_request_id, api, " +
	"cache_write_tokens, cache_saved_nano, route_features, conversation_id, max_tokens, overhead_ms, first_byte_ms, fallbacks"

// eventColumnCount is the number of eventColumns (bind parameters per row).
const eventColumnCount = 24

// Insert writes events of one tenant in one transaction and folds the newly inserted
// ones into the daily rollups. Events whose request id is already in the ledger are
// skipped (and not rolled up again), so inserting the same batch twice changes
// nothing. It returns how many events were new.
//
// Refusals (Status StatusRefused) go to request_refusals instead: never to
// usage_events or the rollups, so they cannot touch budgets or invoices.
//
// Kept prompts (Event.KeptTurn) go to kept_prompts in the same transaction,
// behind a savepoint: if they cannot be stored the usage still commits (a
// prompt is never worth a lost bill) and the prompts are dropped.
func Insert(ctx context.Context, h *tenants.Handle, events []Event) (int, error) {
	n, _, err := insert(ctx, h, events)
	return n, err
}

// insert is Insert that also reports kept prompts it had to drop (keptErr),
// for the writer to log; err is a failure of the usage itself.
func insert(ctx context.Context, h *tenants.Handle, events []Event) (inserted int, keptErr, err error) {
	if len(events) == 0 {
		return 0, nil, nil
	}
	var refusals []Event
	served := events
	for _, e := range events {
		if e.Refused() {
			refusals = nil
			served = make([]Event, 0, len(events))
			for _, e := range events {
				if e.Refused() {
					refusals = append(refusals, e)
				} else {
					served = append(served, e)
				}
			}
			break
		}
	}
	err = h.Tx(ctx, func(tx *gorm.DB) error {
		// Tx may run fn a second time (a tenant moved): count from nothing.
		n, err := insertRefusals(tx, refusals)
		if err != nil {
			return err
		}
		inserted = n
		if len(served) == 0 {
			return nil
		}
		keptErr = insertKept(tx, served)
		n, err = insertServed(ctx, tx, served)
		inserted += n
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return inserted, keptErr, nil
}

const rollupColumns = "day, model, key_id, member_id, api, requests, input_tokens, cached_tokens, output_tokens, cost_nano, cache_write_tokens, cache_saved_nano"

// rollupConflict adds a new row's figures to an existing day's row.
const rollupConflict = `ON CONFLICT (day, model, key_id, member_id, api) DO UPDATE SET
		requests = usage_daily.requests + excluded.requests,
		input_tokens = usage_daily.input_tokens + excluded.input_tokens,
		cached_tokens = usage_daily.cached_tokens + excluded.cached_tokens,
		output_tokens = usage_daily.output_tokens + excluded.output_tokens,
		cost_nano = usage_daily.cost_nano + excluded.cost_nano,
		cache_write_tokens = usage_daily.cache_write_tokens + excluded.cache_write_tokens,
		cache_saved_nano = usage_daily.cache_saved_nano + excluded.cache_saved_nano`

type rollupKey struct{ day, model, key, member, api string }

type rollupRow struct {
	requests, input, cached, output, cost, written, saved int64
}

// upsertRollups folds events[i] for every fresh[i] into usage_daily.
func upsertRollups(tx *gorm.DB, events []Event, fresh []bool) error {
	groups := map[rollupKey]*rollupRow{}
	var order []rollupKey
	for i, e := range events {
		if !fresh[i] {
			continue
		}
		k := rollupKey{e.Day(), e.ModelUsed, e.KeyID, e.MemberID, e.API}
		g, ok := groups[k]
		if !ok {
			g = &rollupRow{}
			groups[k] = g
			order = append(order, k)
		}
		g.requests++
		g.input += e.InputTokens
		g.cached += e.CachedTokens
		g.output += e.OutputTokens
		g.cost += int64(e.Cost)
		g.written += e.CacheWriteTokens
		g.saved += int64(e.CacheSaved)
	}
	return upsertRollupRows(tx, order, groups)
}

// upsertRollupRows adds each group's figures to its usage_daily row (negative
// figures subtract: a re-imported row whose figures changed).
func upsertRollupRows(tx *gorm.DB, order []rollupKey, groups map[rollupKey]*rollupRow) error {
	if len(order) == 0 {
		return nil
	}
	var sb strings.Builder
	ph := newPlaceholders(tx)
	args := make([]any, 0, len(order)*12)
	sb.WriteString("INSERT INTO usage_daily (" + rollupColumns + ") VALUES ")
	for i, k := range order {
		if i > 0 {
			sb.WriteByte(',')
		}
		g := groups[k]
		ph.row(&sb, 12)
		args = append(args, k.day, k.model, k.key, k.member, k.api, g.requests, g.input, g.cached, g.output, g.cost, g.written, g.saved)
	}
	sb.WriteString(" " + rollupConflict)
	_, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, sb.String(), args...)
	return err
}

// placeholders writes the bind parameters of a statement run on a transaction's
// connection directly: ? on SQLite, $1, $2... on Postgres.
type placeholders struct {
	numbered bool
	n        int
}

func newPlaceholders(tx *gorm.DB) *placeholders {
	return &placeholders{numbered: tx.Dialector.Name() == "postgres"}
}

// row writes "(p1,...,pk)" for k parameters.
func (p *placeholders) row(sb *strings.Builder, k int) {
	sb.WriteByte('(')
	for i := range k {
		if i > 0 {
			sb.WriteByte(',')
		}
		p.n++
		if p.numbered {
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(p.n))
		} else {
			sb.WriteByte('?')
		}
	}
	sb.WriteByte(')')
}

const refusalColumns = "request_id, created_at, client_request_id, key_id, member_id, model_requested, route_reason, api, " +
	"status_code, error_type, error_code, latency_ms, fallbacks"

// insertRefusals writes refusals, skipping request ids already recorded.
func insertRefusals(tx *gorm.DB, refusals []Event) (int, error) {
	if len(refusals) == 0 {
		return 0, nil
	}
	var sb strings.Builder
	args := make([]any, 0, len(refusals)*13)
	sb.WriteString("INSERT INTO request_refusals (" + refusalColumns + ") VALUES ")
	for i, e := range refusals {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?)")
		args = append(args, e.RequestID, e.CreatedAt.UTC(), e.ClientRequestID, e.KeyID, e.MemberID, e.ModelRequested, e.RouteReason, e.API,
			e.StatusCode, e.ErrorType, e.ErrorCode, e.LatencyMS, e.Fallbacks)
	}
	sb.WriteString(" ON CONFLICT (request_id) DO NOTHING RETURNING request_id")
	var ids []string
	if err := tx.Raw(sb.String(), args...).Scan(&ids).Error; err != nil {
		return 0, err
	}
	return len(ids), nil
}
