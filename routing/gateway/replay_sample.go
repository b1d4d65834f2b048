package gateway

import (
	"context"
	"time"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/tenants"
)

// ReplaySample is a tenant's recent traffic as the router replays it: the
// routing what-if and the savings suggestions both read it here, so both
// replay the same requests at the same prices.
type ReplaySample struct {
	// Events are the ledger's served requests, newest first; Records the same
	// requests (index for index) as routing.Selector.Simulate reads them.
	Events  []ledger.Event
	Records []routing.Record
	// Catalog is the tenant's catalog: the base prices with its negotiated
	// overrides.
	Catalog *routing.Catalog
	// From and To bound the sample; Truncated is true when the window held
	// more than the limit and only the newest events were kept (From is then
	// the oldest kept).
	From, To  time.Time
	Truncated bool
}

// LoadReplaySample reads up to limit of the tenant's events of the days
// before now, with the tenant's catalog.
func LoadReplaySample(ctx context.Context, h *tenants.Handle, base *routing.Catalog, now time.Time, days, limit int) (ReplaySample, error) {
	now = now.UTC()
	s, err := loadReplaySample(ctx, h, base, now.AddDate(0, 0, -days), limit)
	s.To = now
	return s, err
}

// loadReplaySample reads up to limit of the tenant's events since since, with
// the tenant's catalog (To left unset).
func loadReplaySample(ctx context.Context, h *tenants.Handle, base *routing.Catalog, since time.Time, limit int) (ReplaySample, error) {
	events, err := ledger.EventsSince(ctx, h, since, limit+1)
	if err != nil {
		return ReplaySample{}, err
	}
	s := ReplaySample{From: since}
	if len(events) > limit {
		events = events[:limit]
		s.Truncated = true
		s.From = events[len(events)-1].CreatedAt.UTC()
	}
	s.Events = events
	s.Records = recordsOf(events)
	overrides, err := LoadPriceOverrides(ctx, h)
	if err != nil {
		return ReplaySample{}, err
	}
	if s.Catalog, err = TenantCatalog(base, overrides); err != nil {
		return ReplaySample{}, err
	}
	return s, nil
}

// recordsOf turns ledger events into replay records: the recorded usage, the
// live decision's features and the key (whose policy overrides replay).
func recordsOf(events []ledger.Event) []routing.Record {
	records := make([]routing.Record, len(events))
	for i, e := range events {
		records[i] = routing.RecordOf(e.ModelRequested, e.ModelUsed, e.InputTokens, e.CachedTokens, e.OutputTokens, e.CreatedAt, e.RouteReason, e.RouteFeatures)
		records[i].KeyID = e.KeyID
	}
	return records
}
