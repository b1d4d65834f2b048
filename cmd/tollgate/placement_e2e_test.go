package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/internal/teststripe"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// chatOnce sends one small chat request and returns the status and request id.
func chatOnce(t *testing.T, base, key string) (int, string) {
	req, err := http.NewRequest(http.MethodPost, base+"/v1/chat/completions",
		strings.NewReader(`{"model":"sim-small","max_tokens":5,"messages":[{"role":"user","content":"placement check"}]}`))
	if err != nil {
		return 0, ""
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("x-tollgate-request-id")
}

// ledgerIDs is the request ids in a tenant's ledger, each with how often it is there.
func ledgerIDs(evs []ledger.Event) map[string]int {
	out := map[string]int{}
	for _, e := range evs {
		out[e.RequestID]++
	}
	return out
}

// Tenants on two Postgres clusters serve requests and are invoiced from their own
// cluster; a tenant moved from one to the other while requests keep coming keeps
// every served request in its ledger exactly once.
func TestTenantsOnTwoClusters(t *testing.T) {
	t.Parallel()
	dbURL := testdb.Postgres(t)
	s := startStack(t, map[string]string{"TOLLGATE_DATABASE_URL": dbURL, "TOLLGATE_SIM": "1",
		"TOLLGATE_TENANT_DATABASE_URLS": "b=" + testdb.SecondCluster(t)})
	ctx := t.Context()

	// Given a tenant on each cluster (least-loaded placement: main first, then b)
	ta, _, keyA := s.tenantWithKey(t, "placed on main", apikeys.CreateKeyInput{})
	tb, _, keyB := s.tenantWithKey(t, "placed on b", apikeys.CreateKeyInput{})
	require.Equal(t, tenants.MainCluster, ta.Cluster)
	require.Equal(t, "b", tb.Cluster)

	// When each serves requests
	served := map[tenants.ID]map[string]bool{ta.ID: {}, tb.ID: {}}
	for range 5 {
		for _, x := range []struct {
			id  tenants.ID
			key string
		}{{ta.ID, keyA}, {tb.ID, keyB}} {
			code, id := chatOnce(t, s.baseURL, x.key)
			require.Equal(t, http.StatusOK, code)
			served[x.id][id] = true
		}
	}
	// Then each ledger, on its own cluster, holds exactly its requests
	for _, tn := range []tenants.Tenant{ta, tb} {
		evs := s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) == 5 })
		for id, n := range ledgerIDs(evs) {
			require.Equal(t, 1, n)
			require.True(t, served[tn.ID][id], "request %s is tenant %s's", id, tn.Slug)
		}
	}

	// And both are invoiced (stripe-mock) for this month from their own ledgers
	stripeClient, err := stripe.New(stripe.Config{APIKey: "sk_test_placement", APIBase: teststripe.TestURL(t, os.LookupEnv), MaxNetworkRetries: -1}, s.op.logger)
	require.NoError(t, err)
	nextMonth := time.Now().UTC().AddDate(0, 1, 0)
	svc := invoicing.NewService(s.op.registry, stripeClient, func() time.Time { return nextMonth }, s.op.logger)
	for _, tn := range []tenants.Tenant{ta, tb} {
		evs, err := ledger.Recent(ctx, s.handle(t, tn), time.Time{}, 100)
		require.NoError(t, err)
		var cost billing.NanoUSD
		for _, e := range evs {
			cost += e.Cost
		}
		// A $10 platform fee, so that the invoice is not empty and goes to Stripe.
		require.NoError(t, s.op.registry.SetPlan(ctx, tn.ID, `{"platform_fee_nano":10000000000}`))
		res, err := svc.Run(ctx, invoicing.RunInput{TenantID: tn.ID, Period: time.Now().UTC().Format("2006-01")})
		require.NoError(t, err, tn.Slug)
		require.Equal(t, cost, res.Invoice.Cost, tn.Slug)
		require.Equal(t, invoicing.InvoiceStatusFinalized, res.Invoice.Status, tn.Slug)
		require.NotEmpty(t, res.Invoice.StripeInvoiceID, tn.Slug)
	}

	// When tenant A moves to b while four clients keep sending requests
	var mu sync.Mutex
	ok := map[string]bool{}
	other := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, id := chatOnce(t, s.baseURL, keyA)
				mu.Lock()
				if code == http.StatusOK {
					ok[id] = true
				} else {
					other[code]++
				}
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	feed := tenants.NewChangeFeed(s.op.db, tenants.ChangeFeedConfig{}, s.op.logger)
	res, err := s.op.registry.Move(ctx, tenants.MoveInput{Tenant: ta.Slug, To: "b"}, feed)
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("move: %d rows, %d tables, writes paused %s, total %s; %d requests served during the run, others: %v",
		res.Rows, res.Tables, res.Pause, res.Total, len(ok), other)

	// Then every request served before and during the move is in A's ledger, now
	// on b, exactly once, and nothing else is
	require.Empty(t, other, "the request path never touches the tenant's tables synchronously")
	want := len(ok) + 5
	var all []string
	require.Eventually(t, func() bool {
		all = nil
		err := s.handle(t, ta).Read(ctx, func(db *gorm.DB) error {
			return db.Raw("SELECT request_id FROM usage_events").Scan(&all).Error
		})
		return err == nil && len(all) >= want
	}, 20*time.Second, 50*time.Millisecond)
	ids := map[string]int{}
	for _, id := range all {
		ids[id]++
	}
	require.Len(t, all, want)
	require.Len(t, ids, want)
	for id := range ok {
		require.Equal(t, 1, ids[id], "request %s", id)
	}
	for id := range served[ta.ID] {
		require.Equal(t, 1, ids[id], "request %s from before the move", id)
	}
	moved, err := s.op.registry.Get(ctx, ta.Slug)
	require.NoError(t, err)
	require.Equal(t, "b", moved.Cluster)
	var onMain int64
	require.NoError(t, s.op.db.Gorm.Raw("SELECT count(*) FROM pg_namespace WHERE nspname = ?", ta.SchemaName).Scan(&onMain).Error)
	require.Zero(t, onMain, "the old schema is dropped after the flip")

	// And the invoice already sent is still there, on the new cluster
	list, err := invoicing.List(ctx, s.handle(t, ta), false)
	require.NoError(t, err)
	require.Len(t, list, 1)
}

// The CLI places, lists and moves tenants; its refusals are one line and change
// nothing. Not parallel: the clusters come from the environment, as in production.
func TestTenantsMoveCLI(t *testing.T) {
	dbURL := testdb.Postgres(t)
	t.Setenv("TOLLGATE_TENANT_DATABASE_URLS", "b="+testdb.SecondCluster(t))

	// Given two tenants, one on each cluster
	for _, name := range []string{"cli one", "cli two"} {
		_, err := runCLI(t, dbURL, "tenants", "create", "--name", name)
		require.NoError(t, err)
	}
	out, err := runCLI(t, dbURL, "tenants", "clusters", "--json")
	require.NoError(t, err)
	require.JSONEq(t, `[{"cluster":"main","tenants":1},{"cluster":"b","tenants":1}]`, out)

	// When cli-one moves to b
	out, err = runCLI(t, dbURL, "tenants", "move", "--tenant", "cli-one", "--to", "b", "--json")
	require.NoError(t, err)
	var res struct {
		From, To string
		Tables   int
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Equal(t, "main", res.From)
	require.Equal(t, "b", res.To)
	require.Positive(t, res.Tables)

	// Then the list and the counts say so
	out, err = runCLI(t, dbURL, "tenants", "list", "--json")
	require.NoError(t, err)
	var list []struct{ Slug, Cluster string }
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	for _, tn := range list {
		require.Equal(t, "b", tn.Cluster, tn.Slug)
	}

	// And wrong moves are refused in one line, changing nothing
	for _, args := range [][]string{
		{"--tenant", "cli-one", "--to", "b"},
		{"--tenant", "cli-one", "--to", "elsewhere"},
		{"--tenant", "nobody", "--to", "main"},
	} {
		_, err := runCLI(t, dbURL, append([]string{"tenants", "move"}, args...)...)
		require.Error(t, err, args)
		require.NotContains(t, err.Error(), "\n", args)
	}
	out, err = runCLI(t, dbURL, "tenants", "clusters", "--json")
	require.NoError(t, err)
	require.JSONEq(t, `[{"cluster":"main","tenants":0},{"cluster":"b","tenants":2}]`, out)
}
