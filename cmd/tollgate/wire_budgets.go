package main

import (
	"context"
	"time"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
)

// wireBudgets builds the budget service serve's admin API uses, over the
// gateway's meter and budget cache. With the in-process meter, the counters
// rebuilt at start cover the budgets that exist now, and a budget created later
// elsewhere (the CLI) is seeded from the ledger when this process first loads it.
func wireBudgets(ctx context.Context, a *app, svc identityServices, gw *gatewayParts) (*budget.Service, error) {
	flushed := func(ctx context.Context, h *tenants.Handle, bs []budget.Budget, now time.Time) ([]meter.ScopeTotal, error) {
		if err := gw.ledger.Flush(ctx); err != nil {
			return nil, err
		}
		return ledger.CounterTotals(ctx, h, bs, now)
	}
	s, err := newBudgetService(a, svc, gw.meter, gw.budgets, flushed)
	if err != nil || a.cfg.Redis.URL != "" {
		return s, err
	}
	ts, err := a.registry.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		h, err := a.registry.Handle(tenants.SystemPrincipal(t, "budgets"))
		if err != nil {
			return nil, err
		}
		bs, err := budget.List(ctx, h)
		if err != nil {
			return nil, err
		}
		s.Known(t.ID, bs)
	}
	s.SeedNew(gw.budgets)
	return s, nil
}

func newBudgetService(a *app, svc identityServices, m meter.Meter, cache *budget.Cache,
	totals func(context.Context, *tenants.Handle, []budget.Budget, time.Time) ([]meter.ScopeTotal, error)) (*budget.Service, error) {
	return budget.NewService(budget.ServiceDeps{Meter: m, Cache: cache, Feed: svc.feed,
		Directory: api.NewBudgetDirectory(svc.keys, svc.users), Audit: svc.audit,
		PeriodSpend: ledger.PeriodSpend, CounterTotals: totals, LimitImpact: ledger.PreviewLimit,
		Clock: time.Now, Logger: a.logger})
}

// cliBudgets is the budget service for the CLI. With Redis it reads and seeds
// the shared counters the gateway enforces; without, the gateway's counters live
// in the server process, so spend is read from the ledger (which they are rebuilt
// from) and the server seeds a new budget's counter itself when it loads it.
func cliBudgets(a *app) (*budget.Service, func(), error) {
	var m meter.Meter
	closeFn := func() {}
	if a.cfg.Redis.URL != "" {
		client, err := newRedisClient(a)
		if err != nil {
			return nil, nil, err
		}
		m = meter.NewRedisMeter(a.logger, client, time.Now, meter.RedisConfig{LedgerTotals: func(ctx context.Context, tenantID string) ([]meter.ScopeTotal, error) {
			return ledgerCounterTotals(ctx, a, tenantID)
		}})
		closeFn = func() { _ = client.Close() }
	}
	s, err := newBudgetService(a, newIdentityServices(a, accounts.PasswordParams{}), m, nil, ledger.CounterTotals)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return s, closeFn, nil
}

// ledgerCounterTotals is a tenant's ledger totals for its budget counters, for a
// process with no ledger spool of its own (the CLI).
func ledgerCounterTotals(ctx context.Context, a *app, tenantID string) ([]meter.ScopeTotal, error) {
	t, err := a.registry.Get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	h, err := a.registry.Handle(tenants.SystemPrincipal(t, "meter-recover"))
	if err != nil {
		return nil, err
	}
	bs, err := budget.List(ctx, h)
	if err != nil {
		return nil, err
	}
	return ledger.CounterTotals(ctx, h, bs, time.Now())
}
