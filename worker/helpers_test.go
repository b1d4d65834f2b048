package worker

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-dev/tollgate/internal/jobs"
	"github.com/tollgate-dev/tollgate/internal/logging"
)

type pgxTx = pgx.Tx

func testLogger(t testing.TB) *slog.Logger {
	return logging.New(logging.TestWriter{T: t}, "warn", "text")
}

func dirOf(p string) string { return filepath.Dir(p) }

type net_TCPAddr = net.TCPAddr

// fmtSscanf reads the t= part of a signature header.
func fmtSscanf(sig string, ts *int64) (int, error) { return fmt.Sscanf(sig, "t=%d,", ts) }

// WaitJob waits for a job to finish (jobs.Wait).
var WaitJob = jobs.Wait
