package jobs

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Client is the part of River's client Tollgate uses. Both *river.Client[pgx.Tx]
// (Postgres) and *river.Client[*sql.Tx] (SQLite) satisfy it, so commands and
// handlers need not know the driver.
type Client interface {
	// Insert enqueues one job.
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	// InsertMany enqueues several jobs in one transaction.
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	// JobGet returns one job, or rivertype.ErrNotFound.
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	// JobList pages through jobs.
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	// JobCancel cancels a job.
	JobCancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
	// Start starts fetching and working jobs (only for a client with workers).
	Start(ctx context.Context) error
	// Stop stops fetching and waits for running jobs to finish.
	Stop(ctx context.Context) error
	// Subscribe delivers job events of the given kinds.
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}
