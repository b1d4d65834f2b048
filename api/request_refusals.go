package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/routing"
)

// Gin context keys the refusal recorder reads.
const (
	ctxErrorType      = "tollgate.error_type"
	ctxErrorCode      = "tollgate.error_code"
	ctxModelRequested = "tollgate.model_requested"
	ctxFallbacks      = "tollgate.fallbacks"
)

// noteModel remembers the model a /v1 request asked for, so a refusal after
// parsing records it. It keeps a pointer into the parsed request (which nothing
// after parsing writes): a string put in the context's map is boxed, one
// allocation on every request.
func noteModel(c *gin.Context, model *string) { c.Set(ctxModelRequested, model) }

// modelRequested is the model noteModel remembered, or "".
func modelRequested(c *gin.Context) string {
	v, _ := c.Get(ctxModelRequested)
	if m, ok := v.(*string); ok {
		return *m
	}
	return ""
}

// RefusalAppender takes a refusal into the ledger's spool (ledger.Writer.Append).
type RefusalAppender interface {
	Append(e ledger.Event) error
}

// recordRefusals records every /v1 answer of status 400 or more whose API key
// is known (its tenant): status, error type and code, key, member, model
// requested, API, latency, and never content. It only appends to the
// ledger's spool (a local write; the batched writer inserts later), so the
// request path never waits on the database. Refusals of unknown keys (401)
// cannot be attributed to a tenant and are not recorded; they show in metrics.
func recordRefusals(w RefusalAppender) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		if w != nil && c.Writer.Status() >= http.StatusBadRequest {
			recordRefusal(c, w, start)
		}
	}
}

// recordRefusal appends the refusal of a request that started at start. It is
// apart from the middleware so that the event it builds takes no room in the
// middleware's frame, which stays on the stack while a stream is relayed.
func recordRefusal(c *gin.Context, w RefusalAppender, start time.Time) {
	status := c.Writer.Status()
	k, ok := keyOf(c)
	if !ok {
		return
	}
	ids := requestIDs(c)
	ev := ledger.Event{TenantID: string(k.Tenant.ID), RequestID: ids.Server, ClientRequestID: ids.Client, CreatedAt: start.UTC(),
		KeyID: k.ID, MemberID: k.CreatedBy, ModelRequested: modelRequested(c), API: apiOfPath(c.FullPath()),
		Status: ledger.StatusRefused, StatusCode: status, ErrorType: c.GetString(ctxErrorType), ErrorCode: c.GetString(ctxErrorCode),
		RouteReason: c.Writer.Header().Get(HeaderRouteReason), LatencyMS: time.Since(start).Milliseconds(),
		Fallbacks: c.GetString(ctxFallbacks)}
	if ev.RequestID == "" {
		return
	}
	if err := w.Append(ev); err != nil {
		logger(c).WarnContext(c.Request.Context(), "refusal not recorded", "error", err, "request_id", logging.RequestID(c.Request.Context()))
	}
}

// apiOfPath names the client API of a /v1 route as the ledger does.
func apiOfPath(path string) string {
	switch path {
	case "/v1/chat/completions":
		return routing.APIChat
	case "/v1/responses":
		return routing.APIResponses
	case "/v1/messages", "/v1/messages/count_tokens":
		return routing.APIMessages
	case "/v1/embeddings":
		return routing.APIEmbeddings
	}
	return ""
}
