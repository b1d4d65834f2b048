package ledger

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// insertServed writes served events and folds the new ones into usage_daily,
// returning how many were new. A request id already in the ledger, or seen
// earlier in the same batch, is skipped and not rolled up.
func insertServed(ctx context.Context, tx *gorm.DB, events []Event) (int, error) {
	// On the transaction's connection, not through gorm's Raw or Exec: those
	// build a clause per argument and render the statement with every argument
	// inlined (for a logger, whichever is set).
	conn := tx.Statement.ConnPool
	if tx.Dialector.Name() == "postgres" {
		return insertServedPostgres(ctx, conn, events)
	}
	return insertServedSQLite(ctx, tx, conn, events)
}

// servedPostgres inserts a whole batch and its rollups in one statement with 24
// array parameters, one per column, whatever the batch size. A VALUES list bound
// 24 parameters per event (12,000 for a full batch), each encoded and sent on its
// own, and its text changed with the batch size, so the statement was parsed and
// planned again for most batches. The data-modifying CTE hands only the rows it
// inserted to the rollup, which is what makes a replay or a duplicate in the
// batch count once; the rollup rows are upserted in key order so that two
// replicas flushing the same tenant lock them in the same order.
const servedPostgres = `WITH ins AS (
	INSERT INTO usage_events (` + eventColumns + `)
	SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::text[], $15::text[], $16::text[],
		$17::bigint[], $18::bigint[], $19::text[], $20::text[], $21::bigint[], $22::bigint[], $23::bigint[], $24::text[])
	ON CONFLICT (request_id) DO NOTHING
	RETURNING created_at, model_used, key_id, member_id, api,
		input_tokens, cached_tokens, output_tokens, cost_nano, cache_write_tokens, cache_saved_nano
), rolled AS (
	INSERT INTO usage_daily (` + rollupColumns + `)
	SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), model_used, key_id, member_id, api, count(*),
		sum(input_tokens)::bigint, sum(cached_tokens)::bigint, sum(output_tokens)::bigint, sum(cost_nano)::bigint,
		sum(cache_write_tokens)::bigint, sum(cache_saved_nano)::bigint
	FROM ins GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	` + rollupConflict + `
)
SELECT count(*) FROM ins`

func insertServedPostgres(ctx context.Context, conn gorm.ConnPool, events []Event) (int, error) {
	n := len(events)
	text := func() []string { return make([]string, n) }
	num := func() []int64 { return make([]int64, n) }
	requestID, keyID, memberID, modelRequested, modelUsed, provider := text(), text(), text(), text(), text(), text()
	status, routeReason, clientRequestID, api, routeFeatures, conversationID, fallbacks := text(), text(), text(), text(), text(), text(), text()
	input, cached, output, cost, latency, written, saved := num(), num(), num(), num(), num(), num(), num()
	maxTokens, overhead, firstByte := num(), num(), num()
	createdAt := make([]time.Time, n)
	for i, e := range events {
		requestID[i], createdAt[i], keyID[i], memberID[i], modelRequested[i], modelUsed[i], provider[i] =
			e.RequestID, e.CreatedAt.UTC(), e.KeyID, e.MemberID, e.ModelRequested, e.ModelUsed, e.Provider
		input[i], cached[i], output[i], cost[i], latency[i], status[i], routeReason[i], clientRequestID[i], api[i] =
			e.InputTokens, e.CachedTokens, e.OutputTokens, int64(e.Cost), e.LatencyMS, e.Status, e.RouteReason, e.ClientRequestID, e.API
		written[i], saved[i], routeFeatures[i], conversationID[i], maxTokens[i], overhead[i], firstByte[i], fallbacks[i] =
			e.CacheWriteTokens, int64(e.CacheSaved), e.RouteFeatures, e.ConversationID, e.MaxTokens, e.OverheadMS, e.FirstByteMS, e.Fallbacks
	}
	var inserted int
	err := conn.QueryRowContext(ctx, servedPostgres, requestID, createdAt, keyID, memberID, modelRequested, modelUsed, provider,
		input, cached, output, cost, latency, status, routeReason, clientRequestID, api,
		written, saved, routeFeatures, conversationID, maxTokens, overhead, firstByte, fallbacks).Scan(&inserted)
	return inserted, err
}

// servedSQLite is the one-row insert a batch runs once per event on a statement
// prepared once per batch. SQLite runs in-process, so a statement per row costs
// a bind and a step, no round trip; the multi-row VALUES it replaces was parsed
// anew for every batch (12,000 parameters) and its RETURNING stepped once more
// per new row. Whether a row was new is the statement's change count.
var servedSQLite = "INSERT INTO usage_events (" + eventColumns + ") VALUES (" +
	strings.TrimSuffix(strings.Repeat("?,", eventColumnCount), ",") + ") ON CONFLICT (request_id) DO NOTHING"

func insertServedSQLite(ctx context.Context, tx *gorm.DB, conn gorm.ConnPool, events []Event) (int, error) {
	stmt, err := conn.PrepareContext(ctx, servedSQLite)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	// The driver runs an exec under a cancellable context on a goroutine of its
	// own, to interrupt it: one per event here. A row takes microseconds and the
	// transaction still ends with ctx.
	rowCtx := context.WithoutCancel(ctx)
	fresh := make([]bool, len(events))
	inserted := 0
	args := make([]any, eventColumnCount)
	for i, e := range events {
		args[0], args[1], args[2], args[3], args[4], args[5], args[6] =
			e.RequestID, e.CreatedAt.UTC(), e.KeyID, e.MemberID, e.ModelRequested, e.ModelUsed, e.Provider
		args[7], args[8], args[9], args[10], args[11], args[12], args[13], args[14], args[15] =
			e.InputTokens, e.CachedTokens, e.OutputTokens, int64(e.Cost), e.LatencyMS, e.Status, e.RouteReason, e.ClientRequestID, e.API
		args[16], args[17], args[18], args[19], args[20], args[21], args[22], args[23] =
			e.CacheWriteTokens, int64(e.CacheSaved), e.RouteFeatures, e.ConversationID, e.MaxTokens, e.OverheadMS, e.FirstByteMS, e.Fallbacks
		res, err := stmt.ExecContext(rowCtx, args...)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		if n > 0 {
			fresh[i] = true
			inserted++
		}
	}
	if inserted == 0 {
		return 0, nil
	}
	return inserted, upsertRollups(tx, events, fresh)
}
