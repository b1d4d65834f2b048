package ledger

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// EventPageInput selects one page of a tenant's events, newest first.
type EventPageInput struct {
	// Cursor is the previous page's NextCursor; empty starts at the newest event.
	Cursor string
	// Limit is the page size, 1–500; 0 means 50.
	Limit int
}

// EventPage is one page of events, newest first.
type EventPage struct {
	Events []Event
	// NextCursor continues after the last event; empty on the last page.
	NextCursor string
}

// eventCursor is the position after an event: (created_at, request_id), the
// order the page is sorted by, so events sharing a timestamp are neither skipped
// nor repeated.
type eventCursor struct {
	at        time.Time
	requestID string
}

func (c eventCursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.at.UTC().Format(time.RFC3339Nano) + "|" + c.requestID))
}

func decodeEventCursor(s string) (eventCursor, error) {
	bad := errkind.New(errkind.Invalid, "cursor is not a next_cursor this API returned")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return eventCursor{}, bad
	}
	at, id, ok := strings.Cut(string(raw), "|")
	if !ok || id == "" {
		return eventCursor{}, bad
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return eventCursor{}, bad
	}
	return eventCursor{at: t.UTC(), requestID: id}, nil
}

// RecentPage lists the tenant's events newest first, one page at a time. The
// (created_at, request_id) cursor uses the usage_events_created_idx index, so a
// page costs the same however deep it is.
func RecentPage(ctx context.Context, h *tenants.Handle, in EventPageInput) (EventPage, error) {
	limit := in.Limit
	if limit < 0 || limit > 500 {
		return EventPage{}, errkind.New(errkind.Invalid, "limit must be between 1 and 500")
	}
	if limit == 0 {
		limit = 50
	}
	var cur *eventCursor
	if in.Cursor != "" {
		c, err := decodeEventCursor(in.Cursor)
		if err != nil {
			return EventPage{}, err
		}
		cur = &c
	}
	evs, err := readEvents(ctx, h, limit+1, func(q *gorm.DB) *gorm.DB {
		if cur == nil {
			return q
		}
		return q.Where("created_at < ? OR (created_at = ? AND request_id < ?)", cur.at, cur.at, cur.requestID)
	})
	if err != nil {
		return EventPage{}, err
	}
	page := EventPage{Events: evs}
	if len(evs) > limit {
		page.Events = evs[:limit]
		last := page.Events[limit-1]
		page.NextCursor = eventCursor{at: last.CreatedAt, requestID: last.RequestID}.encode()
	}
	return page, nil
}

// EventsSince returns up to limit of the tenant's events created at or after
// since, newest first: the sample a routing what-if replays. limit bounds the
// memory one replay may take.
func EventsSince(ctx context.Context, h *tenants.Handle, since time.Time, limit int) ([]Event, error) {
	if limit <= 0 || limit > 200_000 {
		return nil, errkind.New(errkind.Invalid, "event sample limit must be between 1 and 200000")
	}
	return readEvents(ctx, h, limit, func(q *gorm.DB) *gorm.DB { return q.Where("created_at >= ?", since.UTC()) })
}

func readEvents(ctx context.Context, h *tenants.Handle, limit int, where func(*gorm.DB) *gorm.DB) ([]Event, error) {
	type row struct {
		RequestID, KeyID, MemberID, ModelRequested, ModelUsed, Provider, Status, RouteReason, ClientRequestID, API string
		RouteFeatures, ConversationID, Fallbacks                                                                   string
		CreatedAt                                                                                                  time.Time
		InputTokens, CachedTokens, OutputTokens, CostNano, LatencyMs, CacheWriteTokens, CacheSavedNano             int64
		MaxTokens, OverheadMs, FirstByteMs                                                                         int64
	}
	var rows []row
	err := h.Read(ctx, func(db *gorm.DB) error {
		q := where(db.Table("usage_events").Select(eventColumns))
		return q.Order("created_at DESC, request_id DESC").Limit(limit).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = Event{TenantID: string(h.TenantID()), RequestID: r.RequestID, CreatedAt: r.CreatedAt.UTC(), KeyID: r.KeyID, MemberID: r.MemberID,
			ModelRequested: r.ModelRequested, ModelUsed: r.ModelUsed, Provider: r.Provider, InputTokens: r.InputTokens,
			CachedTokens: r.CachedTokens, CacheWriteTokens: r.CacheWriteTokens, OutputTokens: r.OutputTokens, Cost: billing.NanoUSD(r.CostNano),
			CacheSaved: billing.NanoUSD(r.CacheSavedNano), LatencyMS: r.LatencyMs,
			Status: r.Status, RouteReason: r.RouteReason, ClientRequestID: r.ClientRequestID, API: r.API,
			RouteFeatures: r.RouteFeatures, ConversationID: r.ConversationID,
			MaxTokens: r.MaxTokens, OverheadMS: r.OverheadMs, FirstByteMS: r.FirstByteMs, Fallbacks: r.Fallbacks}
	}
	return out, nil
}
