package worker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/billing/webhook"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/testdb"
)

func TestAlertDelivery(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupDB(t, testdb.SQLite(t))
	tn, h := seedUsage(t, b.registry, "Acme", time.Now(), 1)
	sealer, err := seal.New(seal.Secret("test-master-key"))
	require.NoError(t, err)
	bud, err := budget.Set(ctx, h, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: billing.NanoPerUSD, Hard: true})
	require.NoError(t, err)
	newAlert := func(threshold int) budget.Alert {
		a, created, err := budget.Record(ctx, h, budget.Alert{BudgetID: bud.ID, PeriodKey: "2026-02", Threshold: threshold, Spent: 800_000_000, Limit: billing.NanoPerUSD})
		require.NoError(t, err)
		require.True(t, created)
		return a
	}

	type delivery struct {
		body []byte
		sig  string
	}
	var mu sync.Mutex
	var got []delivery
	fail := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, delivery{body, r.Header.Get(webhook.SignatureHeader)})
		if fail {
			fail = false
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	const secret = "0123456789abcdef-secret"
	_, err = webhook.Set(ctx, h, sealer, webhook.SetInput{URL: srv.URL + "/hook", Secret: secret})
	require.NoError(t, err)

	// The operator allowed private addresses (the test server is on loopback).
	allowed := startQueue(t, Config{WebhookAllowPrivate: true}, Deps{DB: b.db, Registry: b.registry, Sealer: sealer, Logger: testLogger(t)})
	a := newAlert(80)
	res, err := EnqueueAlert(ctx, allowed.Client(), tn.ID, a.ID)
	require.NoError(t, err)
	// Given a first attempt that gets a 502, River retries it with backoff (about
	// a second for the first retry),
	j, err := WaitJob(ctx, allowed.Client(), res.Job.ID, 50*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, "completed", string(j.State))

	// then the second attempt is delivered, signed, and recorded.
	mu.Lock()
	require.Len(t, got, 2)
	last := got[1]
	mu.Unlock()
	var ts int64
	_, err = fmtSscanf(last.sig, &ts)
	require.NoError(t, err)
	require.Equal(t, webhook.Sign(secret, time.Unix(ts, 0), last.body), last.sig)
	var payload AlertPayload
	require.NoError(t, json.Unmarshal(last.body, &payload))
	require.Equal(t, "budget.alert", payload.Type)
	require.Equal(t, a.ID, payload.Alert.ID)
	require.Equal(t, 80, payload.Alert.Threshold)
	require.Equal(t, "0.800000000", payload.Alert.SpentUSD)
	alerts, err := budget.ListAlerts(ctx, h, 10)
	require.NoError(t, err)
	require.NotNil(t, alerts[0].DeliveredAt)
	require.Equal(t, 2, alerts[0].Attempts)

	// Enqueueing the same alert again does nothing.
	res, err = EnqueueAlert(ctx, allowed.Client(), tn.ID, a.ID)
	require.NoError(t, err)
	require.True(t, res.UniqueSkippedAsDuplicate)
}

func TestAlertDeliveryRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupDB(t, testdb.SQLite(t))
	tn, h := seedUsage(t, b.registry, "Acme", time.Now(), 1)
	sealer, err := seal.New(seal.Secret("test-master-key"))
	require.NoError(t, err)
	hit := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit <- struct{}{} }))
	t.Cleanup(srv.Close)
	// "localhost" resolves to loopback: refused on the resolved IP, not the name.
	_, err = webhook.Set(ctx, h, sealer, webhook.SetInput{URL: "http://localhost:" + srv.Listener.Addr().(*net_TCPAddr).AddrPort().String()[len("127.0.0.1:"):], Secret: "0123456789abcdef"})
	require.NoError(t, err)
	a, _, err := budget.Record(ctx, h, budget.Alert{BudgetID: "bud_x", PeriodKey: "2026-02", Threshold: 50, Spent: 1, Limit: 2})
	require.NoError(t, err)

	q := startQueue(t, Config{}, Deps{DB: b.db, Registry: b.registry, Sealer: sealer, Logger: testLogger(t)})
	res, err := EnqueueAlert(ctx, q.Client(), tn.ID, a.ID)
	require.NoError(t, err)
	j, err := WaitJob(ctx, q.Client(), res.Job.ID, 50*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, "cancelled", string(j.State))
	require.Contains(t, j.Errors[0].Error, "private")
	select {
	case <-hit:
		t.Fatal("the private address was reached")
	default:
	}
	alerts, err := budget.ListAlerts(ctx, h, 10)
	require.NoError(t, err)
	require.Nil(t, alerts[0].DeliveredAt)
	require.Contains(t, alerts[0].LastError, "private")
}

var _ = context.Background

// flakyClient fails its first Insert, as a queue database that blips right after
// the alert row was committed.
type flakyClient struct {
	Client
	failed atomic.Bool
}

func (c *flakyClient) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if c.failed.CompareAndSwap(false, true) {
		return nil, errors.New("queue unreachable")
	}
	return c.Client.Insert(ctx, args, opts)
}

// TestAlertDeliveredWhenEnqueueFails: the alert is recorded, its enqueue fails
// once, and the alert is still delivered to the tenant's webhook: the sweep finds
// the never-attempted alert and queues it; sweeping again queues nothing more.
func TestAlertDeliveredWhenEnqueueFails(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupDB(t, testdb.SQLite(t))
	tn, h := seedUsage(t, b.registry, "Acme", time.Now(), 1)
	sealer, err := seal.New(seal.Secret("test-master-key"))
	require.NoError(t, err)
	bud, err := budget.Set(ctx, h, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: billing.NanoPerUSD})
	require.NoError(t, err)
	delivered := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		delivered <- r.Header.Get("X-Tollgate-Delivery")
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	_, err = webhook.Set(ctx, h, sealer, webhook.SetInput{URL: srv.URL, Secret: "0123456789abcdef-secret"})
	require.NoError(t, err)
	q := startQueue(t, Config{WebhookAllowPrivate: true}, Deps{DB: b.db, Registry: b.registry, Sealer: sealer, Logger: testLogger(t)})

	// Given an alert row written, whose enqueue then fails,
	a, created, err := budget.Record(ctx, h, budget.Alert{BudgetID: bud.ID, PeriodKey: "2026-02", Threshold: 80, Spent: 800_000_000, Limit: billing.NanoPerUSD})
	require.NoError(t, err)
	require.True(t, created)
	flaky := &flakyClient{Client: q.Client()}
	require.Error(t, NewEnqueuer(flaky).EnqueueAlert(ctx, string(tn.ID), a.ID))
	select {
	case id := <-delivered:
		t.Fatalf("delivered %s before the sweep", id)
	case <-time.After(300 * time.Millisecond):
	}

	// when the sweep runs, the alert is queued and delivered,
	n, err := q.SweepAlerts(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	select {
	case id := <-delivered:
		require.Equal(t, a.ID, id)
	case <-time.After(15 * time.Second):
		t.Fatal("the alert was never delivered")
	}
	require.Eventually(t, func() bool {
		alerts, err := budget.ListAlerts(ctx, h, 10)
		return err == nil && alerts[0].DeliveredAt != nil
	}, 10*time.Second, 50*time.Millisecond)

	// and a second sweep queues nothing.
	n, err = q.SweepAlerts(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}
