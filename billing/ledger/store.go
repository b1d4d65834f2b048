package ledger

import (
	"context"
	"errors"
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
		n, err := insertRefusals(tx, refusals)
		if err != nil {
			return err
		}
		inserted += n
		if len(served) == 0 {
			return nil
		}
		keptErr = insertKept(tx, served)
		events := served
		var sb strings.Builder
		ph := newPlaceholders(tx)
		args := make([]any, 0, len(events)*eventColumnCount)
		sb.WriteString("INSERT INTO usage_events (" + eventColumns + ") VALUES ")
		for i, e := range events {
			if i > 0 {
				sb.WriteByte(',')
			}
			ph.row(&sb, eventColumnCount)
			args = append(args, e.RequestID, e.CreatedAt.UTC(), e.KeyID, e.MemberID, e.ModelRequested, e.ModelUsed, e.Provider,
				e.InputTokens, e.CachedTokens, e.OutputTokens, int64(e.Cost), e.LatencyMS, e.Status, e.RouteReason, e.ClientRequestID, e.API,
				e.CacheWriteTokens, int64(e.CacheSaved), e.RouteFeatures, e.ConversationID, e.MaxTokens, e.OverheadMS, e.FirstByteMS, e.Fallbacks)
		}
		sb.WriteString(" ON CONFLICT (request_id) DO NOTHING RETURNING request_id")
		// On the transaction's connection, not through gorm's Raw(...).Scan: that
		// builds a clause per argument and renders the statement with every
		// argument inlined (for a logger, whichever is set), per batch.
		rows, err := tx.Statement.ConnPool.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				_ = rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		inserted += len(ids)
		if len(ids) == 0 {
			return nil
		}
		fresh := make(map[string]bool, len(ids))
		for _, id := range ids {
			fresh[id] = true
		}
		return upsertRollups(tx, events, fresh)
	})
	if err != nil {
		return 0, nil, err
	}
	return inserted, keptErr, nil
}

type rollupKey struct{ day, model, key, member, api string }

type rollupRow struct {
	requests, input, cached, output, cost, written, saved int64
}

func upsertRollups(tx *gorm.DB, events []Event, fresh map[string]bool) error {
	groups := map[rollupKey]*rollupRow{}
	var order []rollupKey
	for _, e := range events {
		if !fresh[e.RequestID] {
			continue
		}
		fresh[e.RequestID] = false // a request id twice in one batch counts once
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
	sb.WriteString("INSERT INTO usage_daily (day, model, key_id, member_id, api, requests, input_tokens, cached_tokens, output_tokens, cost_nano, cache_write_tokens, cache_saved_nano) VALUES ")
	for i, k := range order {
		if i > 0 {
			sb.WriteByte(',')
		}
		g := groups[k]
		ph.row(&sb, 12)
		args = append(args, k.day, k.model, k.key, k.member, k.api, g.requests, g.input, g.cached, g.output, g.cost, g.written, g.saved)
	}
	sb.WriteString(` ON CONFLICT (day, model, key_id, member_id, api) DO UPDATE SET
		requests = usage_daily.requests + excluded.requests,
		input_tokens = usage_daily.input_tokens + excluded.input_tokens,
		cached_tokens = usage_daily.cached_tokens + excluded.cached_tokens,
		output_tokens = usage_daily.output_tokens + excluded.output_tokens,
		cost_nano = usage_daily.cost_nano + excluded.cost_nano,
		cache_write_tokens = usage_daily.cache_write_tokens + excluded.cache_write_tokens,
		cache_saved_nano = usage_daily.cache_saved_nano + excluded.cache_saved_nano`)
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
