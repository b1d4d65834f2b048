package worker

import (
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-dev/tollgate/internal/logging"
)

type pgxTx = pgx.Tx

func testLogger(t testing.TB) *slog.Logger {
	return logging.New(logging.TestWriter{T: t}, "warn", "text")
}
