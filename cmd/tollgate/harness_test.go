package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// stack is a running `tollgate serve` (in-process, real wiring) plus an operator
// app on the same database for setting up tenants, keys and budgets.
type stack struct {
	baseURL string
	op      *app
	cancel  context.CancelFunc
	done    chan error
	once    sync.Once
}

// startStack runs serve with env layered over test defaults and waits until it listens.
func startStack(t *testing.T, env map[string]string) *stack {
	t.Helper()
	dir := t.TempDir()
	full := map[string]string{
		"TOLLGATE_ADDR":           "127.0.0.1:0",
		"TOLLGATE_DATABASE_URL":   "sqlite://" + filepath.Join(dir, "tollgate.db"),
		"TOLLGATE_MODE":           "multi-tenant",
		"TOLLGATE_LOG_LEVEL":      "warn",
		"TOLLGATE_ADMIN_PASSWORD": "test-admin-password",
		"TOLLGATE_JWT_SECRET":     "test-jwt-secret-that-is-long-enough-000000",
		"TOLLGATE_SPOOL_DIR":      filepath.Join(dir, "spool"),
	}
	for k, v := range env {
		full[k] = v
	}
	cfg, err := config.Parse(full)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, ready) }()
	s := &stack{cancel: cancel, done: done}
	select {
	case addr := <-ready:
		s.baseURL = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("serve exited: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	t.Cleanup(s.stop)
	op, err := openApp(t.Context(), cfg)
	require.NoError(t, err)
	op.logger = slog.New(slog.NewTextHandler(logging.TestWriter{T: t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(op.Close)
	s.op = op
	return s
}

// stop shuts the server down (draining the ledger and returning budget leases);
// calling it again is a no-op.
func (s *stack) stop() {
	s.once.Do(func() {
		s.cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
		}
	})
}

// tenantWithKey creates a tenant and an inference key, returning the secret.
func (s *stack) tenantWithKey(t *testing.T, name string, in apikeys.CreateKeyInput) (tenants.Tenant, apikeys.APIKey, string) {
	t.Helper()
	tn, err := s.op.registry.Create(t.Context(), tenants.CreateInput{Name: name})
	require.NoError(t, err)
	svc := newIdentityServices(s.op, accounts.PasswordParams{})
	in.TenantID = tn.ID
	if in.Name == "" {
		in.Name = "test key"
	}
	k, secret, err := svc.keys.Create(t.Context(), in)
	require.NoError(t, err)
	return tn, k, secret.Reveal()
}

func (s *stack) handle(t *testing.T, tn tenants.Tenant) *tenants.Handle {
	t.Helper()
	h, err := s.op.registry.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	return h
}

func (s *stack) setBudget(t *testing.T, tn tenants.Tenant, in budget.SetInput) budget.Budget {
	t.Helper()
	b, err := budget.Set(t.Context(), s.handle(t, tn), in)
	require.NoError(t, err)
	return b
}

// waitLedger polls the tenant's ledger until cond holds on its events.
func (s *stack) waitLedger(t *testing.T, tn tenants.Tenant, cond func([]ledger.Event) bool) []ledger.Event {
	t.Helper()
	var evs []ledger.Event
	require.Eventually(t, func() bool {
		var err error
		evs, err = ledger.Recent(t.Context(), s.handle(t, tn), time.Time{}, 500)
		return err == nil && cond(evs)
	}, 10*time.Second, 50*time.Millisecond)
	return evs
}
