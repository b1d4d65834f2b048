package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/tenants"
)

// seedKept gives tenant name kept prompts 1, 5 and 9 days old.
func seedKept(t *testing.T, reg *tenants.Registry, name string, now time.Time) (tenants.Tenant, *tenants.Handle) {
	t.Helper()
	tn, err := reg.Create(t.Context(), tenants.CreateInput{Name: name})
	require.NoError(t, err)
	h, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	var evs []ledger.Event
	for _, age := range []int{1, 5, 9} {
		evs = append(evs, ledger.Event{TenantID: string(tn.ID), RequestID: fmt.Sprintf("%s-%d", name, age),
			CreatedAt: now.Add(-time.Duration(age) * 24 * time.Hour), ModelUsed: "sim-small", Status: ledger.StatusOK, KeptTurn: "c2VhbGVk"})
	}
	_, err = ledger.Insert(t.Context(), h, evs)
	require.NoError(t, err)
	return tn, h
}

func keptCount(t *testing.T, h *tenants.Handle) int64 {
	t.Helper()
	var n int64
	require.NoError(t, h.Read(t.Context(), func(db *gorm.DB) error { return db.Table("kept_prompts").Count(&n).Error }))
	return n
}

// TestPromptPurgeJob: the hourly job applies each tenant's retention (here 7
// days for one, retention off for the other, suspended tenants included),
// records counts only, and is scheduled only when the purge is wired.
func TestPromptPurgeJob(t *testing.T) {
	t.Parallel()
	b := setupDB(t, testdb.SQLite(t))
	now := time.Now().UTC()
	keeps, kh := seedKept(t, b.registry, "Keeps", now)
	off, oh := seedKept(t, b.registry, "Off", now)
	_, err := b.registry.SetStatus(t.Context(), off.ID, tenants.StatusSuspended)
	require.NoError(t, err)
	days := map[tenants.ID]int{keeps.ID: 7, off.ID: 0}
	// The routing gateway's purge reads the days from the tenant's policy; this
	// one from the map, so the job is tested apart from routing.
	purge := func(ctx context.Context, h *tenants.Handle, at time.Time) (int64, error) {
		var cutoff time.Time
		if d := days[h.TenantID()]; d > 0 {
			cutoff = at.Add(-time.Duration(d) * 24 * time.Hour)
		}
		return ledger.PurgeKeptPrompts(ctx, h, cutoff)
	}
	deps := Deps{DB: b.db, Registry: b.registry, Logger: testLogger(t), PurgeKeptPrompts: purge}
	q := startQueue(t, Config{}, deps)

	job := insertAndWait(t, q, PromptPurgeArgs{})
	require.Equal(t, "completed", job.State)
	var out PromptPurgeReport
	require.NoError(t, json.Unmarshal(job.Output, &out))
	require.Equal(t, PromptPurgeReport{Tenants: 2, Deleted: 4}, out)
	require.EqualValues(t, 2, keptCount(t, kh), "the 1- and 5-day-old prompts stay under 7 days")
	require.Zero(t, keptCount(t, oh), "retention off keeps nothing")

	// A second run has nothing left to do.
	job = insertAndWait(t, q, PromptPurgeArgs{})
	require.NoError(t, json.Unmarshal(job.Output, &out))
	require.Equal(t, PromptPurgeReport{Tenants: 2}, out)

	// The schedule has one more job when the purge is wired.
	count := func(d Deps) int { return len((&Queue{cfg: Config{}.withDefaults(), deps: d}).periodicJobs()) }
	wired := count(deps)
	deps.PurgeKeptPrompts = nil
	require.Equal(t, wired-1, count(deps))
}
