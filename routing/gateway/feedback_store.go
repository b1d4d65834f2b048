package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/tenants"
)

// FeedbackInput is a rating of one served request (POST /v1/feedback).
type FeedbackInput struct {
	// RequestID is the x-tollgate-request-id of the request rated.
	RequestID string
	// KeyID is the API key that sent the feedback.
	KeyID string
	// Rating is 1 (bad) to 5 (good); 0 means not given.
	Rating int
	// NeededStronger says the answer needed a stronger model.
	NeededStronger bool
	// Comment is optional free text, at most 2,000 bytes.
	Comment string
}

// Validate reports every problem, wrapping errkind.Invalid.
func (in FeedbackInput) Validate() error {
	var errs []error
	if in.RequestID == "" || len(in.RequestID) > 128 {
		errs = append(errs, errkind.InvalidParam("request_id", "request_id is required: the x-tollgate-request-id of the response you rate"))
	}
	if in.Rating < 0 || in.Rating > 5 {
		errs = append(errs, errkind.InvalidParam("rating", "rating must be an integer from 1 (bad) to 5 (good)"))
	}
	if in.Rating == 0 && !in.NeededStronger {
		errs = append(errs, errkind.InvalidParam("rating", `give a rating (1-5) or "needed_stronger": true`))
	}
	if len(in.Comment) > 2000 {
		errs = append(errs, errkind.InvalidParam("comment", "comment must be at most 2000 bytes"))
	}
	return errkind.JoinInvalid("invalid feedback", errs)
}

// FeedbackRecord is stored feedback with the routing facts of its request.
type FeedbackRecord struct {
	RequestID      string    `json:"request_id"`
	CreatedAt      time.Time `json:"created_at"`
	KeyID          string    `json:"key_id,omitempty"`
	Rating         int       `json:"rating,omitempty"`
	NeededStronger bool      `json:"needed_stronger,omitempty"`
	Comment        string    `json:"comment,omitempty"`
	// ModelUsed, RouteReason and PStandard come from the request's ledger row.
	ModelUsed   string  `json:"model_used"`
	RouteReason string  `json:"route_reason,omitempty"`
	PStandard   float64 `json:"p_standard"`
}

// RecordFeedback stores in (the latest feedback on a request replaces the
// earlier one). The request must be in the tenant's ledger: feedback on a
// request of another tenant, or one not yet recorded, is NotFound.
func RecordFeedback(ctx context.Context, h *tenants.Handle, in FeedbackInput, now time.Time) (FeedbackRecord, error) {
	if err := in.Validate(); err != nil {
		return FeedbackRecord{}, err
	}
	var rec FeedbackRecord
	err := h.Tx(ctx, func(tx *gorm.DB) error {
		var rows []struct{ ModelUsed, RouteReason, RouteFeatures string }
		if err := tx.Table("usage_events").Select("model_used, route_reason, route_features").
			Where("request_id = ?", in.RequestID).Limit(1).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return &errkind.Error{Kind: errkind.NotFound, Code: "request_not_found", Param: "request_id",
				Message: "no request " + in.RequestID + " in this tenant's usage; send the x-tollgate-request-id of a completed response (it is recorded within a few seconds)"}
		}
		rec = FeedbackRecord{RequestID: in.RequestID, CreatedAt: now.UTC(), KeyID: in.KeyID, Rating: in.Rating,
			NeededStronger: in.NeededStronger, Comment: in.Comment, ModelUsed: rows[0].ModelUsed, RouteReason: rows[0].RouteReason,
			PStandard: pStandard(rows[0].RouteFeatures)}
		return tx.Exec(`INSERT INTO route_feedback (request_id, created_at, key_id, rating, needed_stronger, comment)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (request_id) DO UPDATE SET created_at = excluded.created_at,
			key_id = excluded.key_id, rating = excluded.rating, needed_stronger = excluded.needed_stronger, comment = excluded.comment`,
			in.RequestID, now.UTC(), in.KeyID, in.Rating, in.NeededStronger, in.Comment).Error
	})
	return rec, err
}

func pStandard(features string) float64 {
	var f routing.Features
	if features == "" || json.Unmarshal([]byte(features), &f) != nil {
		return 0
	}
	return f.PStandard
}

// ListFeedback returns the tenant's newest feedback, up to limit (1–1000),
// with the routing facts of each request.
func ListFeedback(ctx context.Context, h *tenants.Handle, limit int) ([]FeedbackRecord, error) {
	if limit < 1 || limit > 1000 {
		return nil, errkind.New(errkind.Invalid, "limit must be between 1 and 1000")
	}
	var rows []struct {
		RequestID, KeyID, Comment, ModelUsed, RouteReason, RouteFeatures string
		CreatedAt                                                        time.Time
		Rating                                                           int
		NeededStronger                                                   bool
	}
	err := h.Read(ctx, func(db *gorm.DB) error {
		return db.Raw(`SELECT f.request_id, f.created_at, f.key_id, f.rating, f.needed_stronger, f.comment,
			COALESCE(e.model_used, '') AS model_used, COALESCE(e.route_reason, '') AS route_reason, COALESCE(e.route_features, '') AS route_features
			FROM route_feedback f LEFT JOIN usage_events e ON e.request_id = f.request_id
			ORDER BY f.created_at DESC, f.request_id DESC LIMIT ?`, limit).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	out := make([]FeedbackRecord, len(rows))
	for i, r := range rows {
		out[i] = FeedbackRecord{RequestID: r.RequestID, CreatedAt: r.CreatedAt.UTC(), KeyID: r.KeyID, Rating: r.Rating,
			NeededStronger: r.NeededStronger, Comment: r.Comment, ModelUsed: r.ModelUsed, RouteReason: r.RouteReason,
			PStandard: pStandard(r.RouteFeatures)}
	}
	return out, nil
}

// CalibrateThreshold suggests the tenant's standard threshold from its last
// 1,000 ratings (routing.Calibrate), against the policy in force.
func CalibrateThreshold(ctx context.Context, h *tenants.Handle, policy routing.Policy, cat *routing.Catalog, builtin *routing.Classifier) (routing.Calibration, error) {
	fb, err := ListFeedback(ctx, h, 1000)
	if err != nil {
		return routing.Calibration{}, err
	}
	points := make([]routing.CalibrationPoint, 0, len(fb))
	for _, f := range fb {
		m, ok := cat.Lookup(f.ModelUsed)
		if !ok {
			continue
		}
		points = append(points, routing.CalibrationPoint{PStandard: f.PStandard, Tier: m.Tier, NeededStronger: f.NeededStronger, Rating: f.Rating})
	}
	current := policy.StandardThreshold
	if current == 0 && builtin != nil {
		current = builtin.StandardThreshold
	}
	return routing.Calibrate(points, current), nil
}

// ErrNoClassifier is returned when a policy names a classifier the tenant has
// not installed.
var ErrNoClassifier = errors.New("routing classifier not installed")

// Feedback records the caller's rating of one of its tenant's requests.
func (s *Service) Feedback(ctx context.Context, c Caller, in FeedbackInput) (FeedbackRecord, error) {
	in.KeyID = c.KeyID
	return RecordFeedback(ctx, c.Handle, in, s.d.Clock())
}
