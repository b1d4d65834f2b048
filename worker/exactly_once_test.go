package worker

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/testdb"
)

type countArgs struct {
	N int `json:"n"`
}

func (countArgs) Kind() string { return "test_count" }

// countWorker records each execution: a row keyed by job id (a second execution
// of the same job would violate the primary key) and an in-memory counter.
type countWorker struct {
	river.WorkerDefaults[countArgs]
	pool  *pgxpool.Pool
	execs *atomic.Int64
	byID  *sync.Map
	name  string
}

func (w *countWorker) Work(ctx context.Context, job *river.Job[countArgs]) error {
	w.execs.Add(1)
	if prev, dup := w.byID.LoadOrStore(job.ID, w.name); dup {
		panic("job executed twice: by " + prev.(string) + " and " + w.name)
	}
	_, err := w.pool.Exec(ctx, "INSERT INTO test_exec_log (job_id, worker) VALUES ($1, $2)", job.ID, w.name)
	return err
}

// TestTwoWorkersRunEachJobOnce starts two River clients (as two `tollgate worker`
// processes would be: own pools, own client ids) on one Postgres database and
// checks that 1,000 jobs run exactly 1,000 times in all.
func TestTwoWorkersRunEachJobOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := testdb.Postgres(t)
	logger := testLogger(t)

	// Given two processes starting at once, both migrating River's tables,
	pools := make([]*pgxpool.Pool, 2)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range pools {
		p, err := pgxpool.New(ctx, url)
		require.NoError(t, err)
		t.Cleanup(p.Close)
		pools[i] = p
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = migratePostgres(ctx, p, riverpgxv5.New(p), logger)
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	_, err := pools[0].Exec(ctx, "CREATE TABLE test_exec_log (job_id BIGINT PRIMARY KEY, worker TEXT NOT NULL)")
	require.NoError(t, err)

	var execs atomic.Int64
	var byID sync.Map
	clients := make([]*river.Client[pgxTx], 2)
	for i, p := range pools {
		ws := river.NewWorkers()
		name := []string{"a", "b"}[i]
		river.AddWorker(ws, &countWorker{pool: p, execs: &execs, byID: &byID, name: name})
		c, err := river.NewClient(riverpgxv5.New(p), &river.Config{
			ID: "worker-" + name, Logger: logger, Workers: ws, FetchPollInterval: 100 * time.Millisecond,
			FetchCooldown: 20 * time.Millisecond,
			Queues:        map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 20}},
		})
		require.NoError(t, err)
		clients[i] = c
	}
	done, cancel := clients[0].Subscribe(river.EventKindJobCompleted)
	defer cancel()

	// when 1,000 jobs are enqueued and both workers start together,
	params := make([]river.InsertManyParams, 1000)
	for i := range params {
		params[i] = river.InsertManyParams{Args: countArgs{N: i}}
	}
	_, err = clients[0].InsertMany(ctx, params)
	require.NoError(t, err)
	for _, c := range clients {
		require.NoError(t, c.Start(ctx))
	}
	deadline := time.After(90 * time.Second)
	for {
		var n int
		require.NoError(t, pools[0].QueryRow(ctx, "SELECT count(*) FROM test_exec_log").Scan(&n))
		if n == 1000 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("only %d of 1000 jobs ran", n)
		case <-done:
		case <-time.After(200 * time.Millisecond):
		}
	}
	for _, c := range clients {
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, c.Stop(stopCtx))
		stop()
	}

	// then every job ran exactly once, and both workers took part.
	require.EqualValues(t, 1000, execs.Load())
	var rows, a, b int
	require.NoError(t, pools[0].QueryRow(ctx,
		"SELECT count(*), count(*) FILTER (WHERE worker = 'a'), count(*) FILTER (WHERE worker = 'b') FROM test_exec_log").Scan(&rows, &a, &b))
	require.Equal(t, 1000, rows)
	require.Positive(t, a)
	require.Positive(t, b)
	var completed int
	require.NoError(t, pools[0].QueryRow(ctx, "SELECT count(*) FROM river_job WHERE state = 'completed' AND attempt = 1").Scan(&completed))
	require.Equal(t, 1000, completed)
	t.Logf("worker a ran %d jobs, worker b ran %d", a, b)
}
