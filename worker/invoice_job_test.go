package worker

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/jobs"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/internal/teststripe"
	"github.com/tollgate-dev/tollgate/tenants"
)

// TestInvoiceScheduleOnPostgres: the monthly schedule job enqueues one unique
// invoice run per active tenant, and the runs invoice through stripe-mock.
func TestInvoiceScheduleOnPostgres(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupDB(t, testdb.Postgres(t))
	now := time.Now().UTC()
	lastMonth := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	var tns []tenants.Tenant
	for _, name := range []string{"Acme", "Globex", "Initech"} {
		tn, _ := seedUsage(t, b.registry, name, lastMonth, 3)
		tns = append(tns, tn)
	}
	suspended, _ := seedUsage(t, b.registry, "Suspended", lastMonth, 1)
	_, err := b.registry.SetStatus(ctx, suspended.ID, tenants.StatusSuspended)
	require.NoError(t, err)

	client, err := stripe.New(stripe.Config{APIKey: "sk_test_123", APIBase: teststripe.TestURL(t, os.LookupEnv),
		HTTPClient: &http.Client{}, MaxNetworkRetries: -1}, testLogger(t))
	require.NoError(t, err)
	svc := invoicing.NewService(b.registry, client, nil, testLogger(t))
	q := startQueue(t, Config{}, Deps{DB: b.db, Registry: b.registry, Invoicing: svc, Logger: testLogger(t)})

	// When the schedule job runs,
	job := insertAndWait(t, q, InvoiceScheduleArgs{})
	require.Equal(t, "completed", job.State)

	// then each active tenant gets exactly one finalized invoice for last month.
	period := lastMonth.Format("2006-01")
	deadline := time.Now().Add(30 * time.Second)
	for {
		views, _, err := jobs.List(ctx, q.Client(), jobs.ListInput{Kinds: []string{KindInvoiceRun}})
		require.NoError(t, err)
		require.Len(t, views, 3)
		done := 0
		for _, v := range views {
			if v.State == "completed" {
				done++
			}
		}
		if done == 3 {
			break
		}
		require.True(t, time.Now().Before(deadline), "invoice runs did not finish: %+v", views)
		time.Sleep(100 * time.Millisecond)
	}
	for _, tn := range tns {
		h, err := b.registry.Handle(tenants.SystemPrincipal(tn, "test"))
		require.NoError(t, err)
		all, err := invoicing.List(ctx, h, false)
		require.NoError(t, err)
		require.Len(t, all, 1)
		require.Equal(t, period, all[0].Period)
		require.Equal(t, invoicing.InvoiceStatusFinalized, all[0].Status)
	}

	// A second run of the same tenant and period is a duplicate, not a new job.
	res, err := q.Client().Insert(ctx, InvoiceRunArgs{TenantID: string(tns[0].ID), Period: period}, nil)
	require.NoError(t, err)
	require.True(t, res.UniqueSkippedAsDuplicate)
	var out InvoiceRunOutput
	require.NoError(t, json.Unmarshal(jobs.Map(res.Job).Output, &out))
	require.Equal(t, "finalized", out.Status)

	// And a manual enqueue for a tenant in the same period through the API path
	// behaves the same.
	_, err = q.Client().Insert(ctx, InvoiceRunArgs{TenantID: string(tns[1].ID), Period: period}, &river.InsertOpts{})
	require.NoError(t, err)
	_ = context.Background
}
