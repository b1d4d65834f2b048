// Package reconcile keeps the meter's budget counters honest against the ledger,
// the source of truth: it compares them for every budget's current period and
// rebuilds the counters that drifted (the worker's periodic reconcile), rebuilds
// every tenant's counters at start when they live in-process, and gives the meter
// the ledger totals it recovers lost counters from.
package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Row is one budget counter as the reconcile saw it, recorded in the reconcile
// job's output (and so visible in `tollgate jobs list` and GET /api/v1/jobs).
type Row struct {
	BudgetID  string `json:"budget_id"`
	Scope     string `json:"scope"`
	ScopeID   string `json:"scope_id,omitempty"`
	Period    string `json:"period"`
	PeriodKey string `json:"period_key"`
	// LedgerNano is the ledger's spend in the period, nano-USD.
	LedgerNano int64 `json:"ledger_nano"`
	// CounterNano is the meter's spent counter, nano-USD (absent without a meter).
	CounterNano *int64 `json:"counter_nano,omitempty"`
	// DeltaNano is CounterNano − LedgerNano, nano-USD.
	DeltaNano int64 `json:"delta_nano"`
}

// Report is what one tenant's reconcile found and did.
type Report struct {
	Meter   bool  `json:"meter"`
	Drift   bool  `json:"drift"`
	Rebuilt bool  `json:"rebuilt"`
	Rows    []Row `json:"rows"`
}

// Tenant compares the tenant's ledger with m for every budget's current period
// and rebuilds m's counters when any differs. m nil only reports the ledger side.
func Tenant(ctx context.Context, h *tenants.Handle, m meter.Meter, now time.Time) (Report, error) {
	budgets, err := budget.List(ctx, h)
	if err != nil {
		return Report{}, err
	}
	out := Report{Meter: m != nil, Rows: []Row{}}
	totals, err := ledger.CounterTotals(ctx, h, budgets, now)
	if err != nil {
		return out, err
	}
	for i, b := range budgets {
		out.Rows = append(out.Rows, Row{BudgetID: b.ID, Scope: string(b.Scope), ScopeID: b.ScopeID, Period: string(b.Period),
			PeriodKey: totals[i].PeriodKey, LedgerNano: int64(totals[i].Spent)})
	}
	if m == nil || len(totals) == 0 {
		return out, nil
	}
	tenantID := string(h.TenantID())
	drift, err := meter.Drift(ctx, m, tenantID, totals)
	if err != nil {
		return out, err
	}
	under := false
	for i, d := range drift {
		c := int64(d.Counter)
		out.Rows[i].CounterNano, out.Rows[i].DeltaNano = &c, int64(d.Delta)
		if d.Delta != 0 {
			out.Drift = true
		}
		under = under || d.Delta < 0
	}
	// Only a counter below the ledger is corrected: one above it may hold spending
	// still in a replica's spool or lease, and Rebuild never lowers.
	if under {
		if err := m.Rebuild(ctx, tenantID, totals); err != nil {
			return out, err
		}
		out.Rebuilt = true
	}
	return out, nil
}

// RebuildAll flushes the ledger writer's replayed spool, then reconciles every
// tenant's budget counters in m with the ledger. The in-process meter starts
// empty: serve calls it at start so that a restart forgets no spend.
func RebuildAll(ctx context.Context, reg *tenants.Registry, writer *ledger.Writer, m meter.Meter, now time.Time) error {
	if err := writer.Flush(ctx); err != nil {
		return fmt.Errorf("replaying the ledger spool: %w", err)
	}
	ts, err := reg.List(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		h, err := reg.Handle(tenants.SystemPrincipal(t, "meter-rebuild"))
		if err != nil {
			return err
		}
		if _, err := Tenant(ctx, h, m, now); err != nil {
			return fmt.Errorf("rebuilding budget counters of tenant %s: %w", t.Slug, err)
		}
	}
	return nil
}

// LedgerTotals is the meter's recovery source (meter.RedisConfig.LedgerTotals):
// it makes every usage event appended to writer so far durable (flushing the
// spool), then returns the tenant's ledger totals for its budget counters.
func LedgerTotals(reg *tenants.Registry, writer *ledger.Writer, clock func() time.Time) func(context.Context, string) ([]meter.ScopeTotal, error) {
	return func(ctx context.Context, tenantID string) ([]meter.ScopeTotal, error) {
		if err := writer.Flush(ctx); err != nil {
			return nil, fmt.Errorf("flushing the ledger spool: %w", err)
		}
		t, err := reg.Get(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		h, err := reg.Handle(tenants.SystemPrincipal(t, "meter-recover"))
		if err != nil {
			return nil, err
		}
		bs, err := budget.List(ctx, h)
		if err != nil {
			return nil, err
		}
		return ledger.CounterTotals(ctx, h, bs, clock())
	}
}
