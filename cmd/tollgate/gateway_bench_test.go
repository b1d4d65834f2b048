package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/testredis"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// benchUpstreamBody is scripts/upstream's answer: a one-token completion.
var benchUpstreamBody = []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}`)

// BenchmarkGatewayChat drives the real /v1/chat/completions handler chain exactly as
// serve wires it (middleware, key auth, routing, reservation under a hard budget,
// the upstream call over loopback, settle, ledger spool) with make bench's request,
// so its CPU and allocation profiles show what the gateway adds per request:
//
//	go test -run '^$' -bench GatewayChat -benchmem -cpuprofile cpu.out ./cmd/tollgate/
//
// It runs self-hosted (SQLite, in-process meter); with TOLLGATE_BENCH_REDIS=1 the
// meter is the lease meter over the test Redis Cluster, as in multi-tenant mode.
func BenchmarkGatewayChat(b *testing.B) {
	benchmarkGatewayChat(b, nil)
}

// BenchmarkGatewayChatTraced is BenchmarkGatewayChat with OpenTelemetry on:
// every request sampled, four spans each (request, reserve, upstream, settle)
// batched and exported over OTLP/HTTP to a loopback collector that discards
// them (so its decoding does not count here). The difference to
// BenchmarkGatewayChat is what tracing costs per request.
func BenchmarkGatewayChatTraced(b *testing.B) {
	var exports atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		exports.Add(1)
		w.Header().Set("Content-Type", "application/x-protobuf") // an empty body is an empty ExportTraceServiceResponse
	}))
	// Registered first, so it runs last: after the gateway's cleanup flushed its spans.
	b.Cleanup(func() {
		collector.Close()
		require.Positive(b, exports.Load(), "spans reached the collector")
	})
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL, "OTEL_EXPORTER_OTLP_PROTOCOL": config.ProtocolHTTP}
	for k, v := range env {
		b.Setenv(k, v)
	}
	benchmarkGatewayChat(b, env)
}

func benchmarkGatewayChat(b *testing.B, extraEnv map[string]string) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(benchUpstreamBody)
	}))
	defer up.Close()
	dir := b.TempDir()
	env := map[string]string{
		"TOLLGATE_DATABASE_URL":   "sqlite://" + filepath.Join(dir, "tollgate.db"),
		"TOLLGATE_MODE":           "multi-tenant",
		"TOLLGATE_LOG_LEVEL":      "warn",
		"TOLLGATE_ADMIN_PASSWORD": "bench-admin-password",
		"TOLLGATE_JWT_SECRET":     "bench-jwt-secret-that-is-long-enough-00000000",
		"TOLLGATE_SPOOL_DIR":      filepath.Join(dir, "spool"),
		"OPENAI_BASE_URL":         up.URL + "/v1",
		"OPENAI_API_KEY":          "bench",
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	if os.Getenv("TOLLGATE_BENCH_REDIS") == "1" {
		env["TOLLGATE_REDIS_URL"] = strings.Join(testredis.Seeds(b), ",")
	}
	ctx := b.Context()
	handler, auth := servedGateway(b, env, "bench")
	call := func(body []byte) int {
		// Not httptest.NewRequest: its 4 KB bufio.Reader per call would dominate the
		// allocation profile.
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code
	}
	prompt := strings.Repeat("The quarterly report shows revenue grew 12% while costs fell; summarize the drivers.\\n", 165)
	for _, bc := range []struct {
		name string
		body []byte
	}{
		{"bench-body", []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say ok"}],"max_tokens":1}`)},
		{"3400-token-prompt", []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"` + prompt + `"}],"max_tokens":300}`)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			require.Equal(b, http.StatusOK, call(bc.body)) // warm: key cache, budget and policy caches, lease
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if code := call(bc.body); code != http.StatusOK {
						b.Errorf("status %d", code)
						return
					}
				}
			})
		})
	}
}

// servedGateway runs serve's wiring on env (app, tracing, migrations, server and
// its loops, all stopped at the test's cleanup) and returns the handler with an
// Authorization value for a key of tenant tenantName (created; "" means the
// self-host tenant) under a $100,000 hard monthly budget, so every request is
// reserved and settled as in production.
func servedGateway(tb testing.TB, env map[string]string, tenantName string) (http.Handler, string) {
	tb.Helper()
	cfg, err := config.Parse(env)
	require.NoError(tb, err)
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	a, err := openApp(ctx, cfg)
	require.NoError(tb, err)
	tb.Cleanup(a.Close)
	stopTracing, err := wireTracing(ctx, a)
	require.NoError(tb, err)
	tb.Cleanup(stopTracing)
	_, err = a.registry.MigrateAll(ctx, 4)
	require.NoError(tb, err)
	var tn tenants.Tenant
	if tenantName == "" {
		require.NoError(tb, ensureSelfHostTenant(ctx, a))
		tn, err = a.registry.Get(ctx, selfHostTenantName)
	} else {
		tn, err = a.registry.Create(ctx, tenants.CreateInput{Name: tenantName})
	}
	require.NoError(tb, err)
	srv, start, err := buildServer(ctx, a, io.Discard)
	require.NoError(tb, err)
	loopCtx, stopLoops := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { start(loopCtx); close(stopped) }()
	tb.Cleanup(func() { stopLoops(); <-stopped })

	_, secret, err := newIdentityServices(a, accounts.PasswordParams{}).keys.Create(ctx,
		apikeys.CreateKeyInput{TenantID: tn.ID, Name: "load"})
	require.NoError(tb, err)
	h, err := a.registry.Handle(tenants.SystemPrincipal(tn, "bench"))
	require.NoError(tb, err)
	_, err = budget.Set(ctx, h, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth,
		Limit: 100_000 * billing.NanoPerUSD, Hard: true})
	require.NoError(tb, err)
	return srv.Handler(), "Bearer " + secret.Reveal()
}
