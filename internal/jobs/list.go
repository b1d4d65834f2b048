// Package jobs is the read side of the job queue and its client contract: the
// River client interface both drivers satisfy, listing and waiting on jobs, and
// the job view the API and the CLI show. It defines no job: those are package
// worker's, which the API does not import.
package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// States are the states a job list can filter on, River's own.
var States = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled}

// ListInput selects jobs.
type ListInput struct {
	// States filter by state; empty means all.
	States []string
	// Kinds filter by kind; empty means all.
	Kinds []string
	// Limit is the page size, 1–500. Default 50.
	Limit int
	// Cursor continues after the previous page's NextCursor.
	Cursor string
}

// Validate reports every problem as an errkind.Invalid error.
func (in ListInput) Validate() error {
	var errs []error
	for _, s := range in.States {
		if !validState(s) {
			errs = append(errs, fmt.Errorf("state %q: want one of %s", s, statesList()))
		}
	}
	if in.Limit < 0 || in.Limit > 500 {
		errs = append(errs, fmt.Errorf("limit: 1 to 500, got %d", in.Limit))
	}
	return errkind.JoinInvalid("invalid job query", errs)
}

func validState(s string) bool {
	for _, st := range States {
		if string(st) == s {
			return true
		}
	}
	return false
}

func statesList() string {
	names := make([]string, len(States))
	for i, s := range States {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// View is a job as the CLI and the admin API show it.
type View struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	State       string          `json:"state"`
	Queue       string          `json:"queue"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"max_attempts"`
	Args        json.RawMessage `json:"args"`
	// Output is what the job recorded (invoice result, reconcile rows), if any.
	Output      json.RawMessage `json:"output,omitempty"`
	Errors      []string        `json:"errors,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	ScheduledAt time.Time       `json:"scheduled_at"`
	AttemptedAt *time.Time      `json:"attempted_at,omitempty"`
	FinalizedAt *time.Time      `json:"finalized_at,omitempty"`
}

// Map converts River's row to the view.
func Map(j *rivertype.JobRow) View {
	v := View{ID: j.ID, Kind: j.Kind, State: string(j.State), Queue: j.Queue, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		Args: json.RawMessage(j.EncodedArgs), CreatedAt: j.CreatedAt.UTC(), ScheduledAt: j.ScheduledAt.UTC(),
		AttemptedAt: j.AttemptedAt, FinalizedAt: j.FinalizedAt}
	if out := j.Output(); len(out) > 0 {
		v.Output = json.RawMessage(out)
	}
	for _, e := range j.Errors {
		v.Errors = append(v.Errors, fmt.Sprintf("attempt %d: %s", e.Attempt, e.Error))
	}
	if len(v.Args) == 0 {
		v.Args = json.RawMessage("{}")
	}
	return v
}

// List lists jobs newest first through River's client API.
func List(ctx context.Context, c Client, in ListInput) ([]View, string, error) {
	if err := in.Validate(); err != nil {
		return nil, "", err
	}
	limit := in.Limit
	if limit == 0 {
		limit = 50
	}
	params := river.NewJobListParams().First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if len(in.States) > 0 {
		states := make([]rivertype.JobState, len(in.States))
		for i, s := range in.States {
			states[i] = rivertype.JobState(s)
		}
		params = params.States(states...)
	}
	if len(in.Kinds) > 0 {
		params = params.Kinds(in.Kinds...)
	}
	if in.Cursor != "" {
		var cur river.JobListCursor
		if err := cur.UnmarshalText([]byte(in.Cursor)); err != nil {
			return nil, "", errkind.New(errkind.Invalid, "cursor: not a cursor from a previous page")
		}
		params = params.After(&cur)
	}
	res, err := c.JobList(ctx, params)
	if err != nil {
		return nil, "", err
	}
	out := make([]View, len(res.Jobs))
	for i, j := range res.Jobs {
		out[i] = Map(j)
	}
	next := ""
	if len(res.Jobs) == limit && res.LastCursor != nil {
		b, err := res.LastCursor.MarshalText()
		if err != nil {
			return nil, "", err
		}
		next = string(b)
	}
	return out, next, nil
}

// Wait polls job id until it reaches a final state (completed, cancelled,
// discarded) or ctx ends, and returns it.
func Wait(ctx context.Context, c Client, id int64, every time.Duration) (*rivertype.JobRow, error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		j, err := c.JobGet(ctx, id)
		if err != nil {
			return nil, err
		}
		switch j.State {
		case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-t.C:
		}
	}
}
