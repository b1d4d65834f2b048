package ledger

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Request explorer status filters besides a numeric HTTP status ("429").
const (
	// RequestStatusServed selects served requests (the usage ledger).
	RequestStatusServed = "ok"
	// RequestStatusRefused selects every refusal.
	RequestStatusRefused = "refused"
)

// RequestPageInput filters and pages a tenant's requests, served and refused,
// newest first.
type RequestPageInput struct {
	// From and To bound created_at (From inclusive, To exclusive); zero means open.
	From, To time.Time
	// Status is "" (all), "ok" (served), "refused", or an HTTP status ("429";
	// "200" means served).
	Status string
	// KeyID, MemberID, Model and RouteReason filter by equality; empty means any.
	// Model matches the model used for served requests and the model requested
	// for refusals.
	KeyID, MemberID, Model, RouteReason string
	// MinCost and MaxCost bound the cost in nano-USD; 0 means no bound. A
	// positive MinCost excludes refusals, which cost nothing.
	MinCost, MaxCost billing.NanoUSD
	// Cursor is the previous page's NextCursor; empty starts at the newest request.
	Cursor string
	// Limit is the page size, 1–500; 0 means 50.
	Limit int
}

// Validate checks the filters and returns an Invalid error naming every problem.
func (in RequestPageInput) Validate() error {
	var errs []error
	if in.Limit < 0 || in.Limit > 500 {
		errs = append(errs, errors.New("limit must be between 1 and 500"))
	}
	if _, _, code := in.statusFilter(); code < 0 {
		errs = append(errs, errors.New(`status must be "ok", "refused" or an HTTP status such as 429`))
	}
	if in.MinCost < 0 || in.MaxCost < 0 {
		errs = append(errs, errors.New("min_cost and max_cost must not be negative"))
	}
	if in.MaxCost > 0 && in.MinCost > in.MaxCost {
		errs = append(errs, errors.New("min_cost must not exceed max_cost"))
	}
	if !in.From.IsZero() && !in.To.IsZero() && !in.From.Before(in.To) {
		errs = append(errs, errors.New("from must be before to"))
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return errkind.New(errkind.Invalid, "%s", strings.Join(msgs, "; "))
	}
	return nil
}

// statusFilter says which tables the status filter reads and the refusal
// status code it pins (0: any).
func (in RequestPageInput) statusFilter() (served, refused bool, code int) {
	switch in.Status {
	case "":
		return true, true, 0
	case RequestStatusServed, "served":
		return true, false, 0
	case RequestStatusRefused:
		return false, true, 0
	}
	n, err := strconv.Atoi(in.Status)
	if err != nil || n < 100 || n > 599 {
		return false, false, -1
	}
	if n == 200 {
		return true, false, 0
	}
	return false, true, n
}

// RequestPage is one page of requests, newest first.
type RequestPage struct {
	Requests []Event
	// NextCursor continues after the last request; empty on the last page.
	NextCursor string
}

// Requests lists a tenant's requests, served and refused, filtered and newest
// first. Each table is read with a keyset query on (created_at, request_id)
// over an index led by the filtered column (or created_at), so the first page
// and a deep page cost the same; the two pages are merged in memory.
func Requests(ctx context.Context, h *tenants.Handle, in RequestPageInput) (RequestPage, error) {
	if err := in.Validate(); err != nil {
		return RequestPage{}, err
	}
	limit := in.Limit
	if limit == 0 {
		limit = 50
	}
	var cur *eventCursor
	if in.Cursor != "" {
		c, err := decodeEventCursor(in.Cursor)
		if err != nil {
			return RequestPage{}, err
		}
		cur = &c
	}
	wantServed, wantRefused, code := in.statusFilter()
	if in.MinCost > 0 {
		wantRefused = false
	}
	where := func(q *gorm.DB, model string) *gorm.DB {
		if cur != nil {
			q = q.Where("created_at < ? OR (created_at = ? AND request_id < ?)", cur.at, cur.at, cur.requestID)
		}
		if !in.From.IsZero() {
			q = q.Where("created_at >= ?", in.From.UTC())
		}
		if !in.To.IsZero() {
			q = q.Where("created_at < ?", in.To.UTC())
		}
		if in.KeyID != "" {
			q = q.Where("key_id = ?", in.KeyID)
		}
		if in.MemberID != "" {
			q = q.Where("member_id = ?", in.MemberID)
		}
		if in.Model != "" {
			q = q.Where(model+" = ?", in.Model)
		}
		if in.RouteReason != "" {
			q = q.Where("route_reason = ?", in.RouteReason)
		}
		return q
	}
	var out []Event
	if wantServed {
		evs, err := readEvents(ctx, h, limit+1, func(q *gorm.DB) *gorm.DB {
			q = where(q, "model_used")
			if in.MinCost > 0 {
				q = q.Where("cost_nano >= ?", int64(in.MinCost))
			}
			if in.MaxCost > 0 {
				q = q.Where("cost_nano <= ?", int64(in.MaxCost))
			}
			return q
		})
		if err != nil {
			return RequestPage{}, err
		}
		out = append(out, evs...)
	}
	if wantRefused {
		evs, err := readRefusals(ctx, h, limit+1, func(q *gorm.DB) *gorm.DB {
			q = where(q, "model_requested")
			if code > 0 {
				q = q.Where("status_code = ?", code)
			}
			return q
		})
		if err != nil {
			return RequestPage{}, err
		}
		out = append(out, evs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].RequestID > out[j].RequestID
	})
	page := RequestPage{Requests: out}
	if len(out) > limit {
		page.Requests = out[:limit]
		last := page.Requests[limit-1]
		page.NextCursor = eventCursor{at: last.CreatedAt, requestID: last.RequestID}.encode()
	}
	if page.Requests == nil {
		page.Requests = []Event{}
	}
	return page, nil
}

// Request returns one request, served or refused, by the server's request id.
func Request(ctx context.Context, h *tenants.Handle, requestID string) (Event, error) {
	evs, err := readEvents(ctx, h, 1, func(q *gorm.DB) *gorm.DB { return q.Where("request_id = ?", requestID) })
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 {
		evs, err = readRefusals(ctx, h, 1, func(q *gorm.DB) *gorm.DB { return q.Where("request_id = ?", requestID) })
		if err != nil {
			return Event{}, err
		}
	}
	if len(evs) == 0 {
		return Event{}, errkind.New(errkind.NotFound, "no request %q in this tenant (ids are the x-tollgate-request-id header)", requestID)
	}
	return evs[0], nil
}

func readRefusals(ctx context.Context, h *tenants.Handle, limit int, where func(*gorm.DB) *gorm.DB) ([]Event, error) {
	type row struct {
		RequestID, ClientRequestID, KeyID, MemberID, ModelRequested, RouteReason, API, ErrorType, ErrorCode, Fallbacks string
		CreatedAt                                                                                                      time.Time
		StatusCode                                                                                                     int
		LatencyMs                                                                                                      int64
	}
	var rows []row
	err := h.Read(ctx, func(db *gorm.DB) error {
		q := where(db.Table("request_refusals").Select(refusalColumns))
		return q.Order("created_at DESC, request_id DESC").Limit(limit).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = Event{TenantID: string(h.TenantID()), RequestID: r.RequestID, ClientRequestID: r.ClientRequestID, CreatedAt: r.CreatedAt.UTC(),
			KeyID: r.KeyID, MemberID: r.MemberID, ModelRequested: r.ModelRequested, RouteReason: r.RouteReason, API: r.API,
			Status: StatusRefused, StatusCode: r.StatusCode, ErrorType: r.ErrorType, ErrorCode: r.ErrorCode, LatencyMS: r.LatencyMs,
			Fallbacks: r.Fallbacks}
	}
	return out, nil
}
