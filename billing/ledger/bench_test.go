package ledger

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkLedgerWritePostgres measures ledger write throughput into Postgres through
// the Writer (spool append + batched idempotent inserts + rollups), in events/s.
func BenchmarkLedgerWritePostgres(b *testing.B) { benchLedgerWrite(b, "postgres") }

// BenchmarkLedgerWriteSQLite is BenchmarkLedgerWritePostgres on a tenant's SQLite
// file (self-host).
func BenchmarkLedgerWriteSQLite(b *testing.B) { benchLedgerWrite(b, "sqlite") }

func benchLedgerWrite(b *testing.B, backend string) {
	bb := setupB(b, backend)
	w, err := NewWriter(WriterConfig{SpoolDir: b.TempDir(), BatchSize: 500}, bb.reg, bb.logger)
	require.NoError(b, err)
	defer w.Close(b.Context())
	evs, _ := randomEvents(string(bb.tenant.ID), b.N, uint64(time.Now().UnixNano()))
	// As the gateway writes them: request ids as NewRequestID makes them
	// (the millisecond, then random bytes), created at 3,000 requests a second,
	// so the indexes cost what they cost in production.
	base := time.Now().UTC()
	for i := range evs {
		at := base.Add(time.Duration(i) * time.Second / 3000)
		evs[i].RequestID = NewRequestID(at)
		evs[i].CreatedAt = at
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range evs {
		require.NoError(b, w.Append(evs[i]))
		if i%5000 == 4999 {
			require.NoError(b, w.Flush(b.Context()))
		}
	}
	require.NoError(b, w.Flush(b.Context()))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
