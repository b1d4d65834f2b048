// Package ledger is the durable record of usage: one event per completed request in
// the tenant's own schema (or file), idempotent by request id, with daily rollups
// that charts and invoices read instead of raw events.
//
// The request path never waits on the database: Writer.Append writes the event to a
// local spool file (an unbuffered write, so a killed process loses nothing that was
// appended) and queues it; a background loop inserts batches per tenant and deletes
// spool segments once every event in them is in the database. On start-up the spool
// is replayed; inserts ignore request ids already present, so a replay never counts
// an event twice.
package ledger

import (
	"time"

	"github.com/tollgate-dev/tollgate/billing"
)

// Status values of a usage event.
const (
	StatusOK = "ok"
	// StatusAborted: the client went away mid-stream; the usage up to then is billed.
	StatusAborted = "aborted"
	// StatusError: the provider failed after tokens were consumed.
	StatusError = "error"
	// StatusCacheHit: answered from the tenant's response cache, never upstream;
	// the tokens are the original's, the cost is the policy's hit price.
	StatusCacheHit = "cache_hit"
	// StatusRefused: Tollgate or the upstream refused the request (a 4xx or 5xx
	// answer with no usage). Refusals go to request_refusals, never to
	// usage_events, the rollups, budgets or invoices.
	StatusRefused = "refused"
)

// Event is one completed request's usage.
type Event struct {
	// TenantID chooses the tenant schema; it is not a column.
	TenantID string `json:"tenant_id"`
	// RequestID is the id Tollgate generated: the ledger's idempotency key.
	RequestID string `json:"request_id"`
	// ClientRequestID is the client's own X-Request-Id, kept for correlation only.
	ClientRequestID string    `json:"client_request_id,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	// KeyID is the API key used; MemberID the user behind it, when known.
	KeyID          string `json:"key_id,omitempty"`
	MemberID       string `json:"member_id,omitempty"`
	ModelRequested string `json:"model_requested,omitempty"`
	ModelUsed      string `json:"model_used"`
	Provider       string `json:"provider,omitempty"`
	// Token counts as the provider reported them.
	InputTokens int64 `json:"input_tokens"`
	// CachedTokens and CacheWriteTokens are the parts of InputTokens read from
	// and written to the provider's prompt cache.
	CachedTokens     int64 `json:"cached_tokens,omitempty"`
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
	OutputTokens     int64 `json:"output_tokens"`
	// Cost is the provider cost in nano-USD.
	Cost billing.NanoUSD `json:"cost_nano"`
	// CacheSaved is what prompt caching saved: the cost with every input token
	// at the input price minus Cost (negative when cache writes cost more).
	CacheSaved billing.NanoUSD `json:"cache_saved_nano,omitempty"`
	// LatencyMS is the time from receiving the request to its last byte, in ms.
	LatencyMS   int64  `json:"latency_ms"`
	Status      string `json:"status"`
	RouteReason string `json:"route_reason,omitempty"`
	// API is the client API the request came through: "chat", "responses",
	// "messages" or "embeddings" ("" in events written before it was recorded).
	API string `json:"api,omitempty"`
	// StatusCode, ErrorType and ErrorCode describe a refusal (Status
	// StatusRefused): the HTTP status and the error body's type and code.
	StatusCode int    `json:"status_code,omitempty"`
	ErrorType  string `json:"error_type,omitempty"`
	ErrorCode  string `json:"error_code,omitempty"`
	// RouteFeatures is the routing decision's inputs as JSON (routing.Features:
	// probabilities, structural features, token estimate, conversation keys),
	// never content; replays decide from it. Empty for requests without.
	RouteFeatures string `json:"route_features,omitempty"`
	// ConversationID is the conversation key the request was routed under
	// (a hash), empty when none.
	ConversationID string `json:"conversation_id,omitempty"`
	// KeptTurn is the text keyword rules matched, sealed for this tenant and
	// request (base64), set only when the tenant keeps prompts
	// (retain_prompts_days). It rides the spool with the usage so keeping it
	// costs no second writer; Insert stores it in kept_prompts, never in
	// usage_events, and the live feed never sees it.
	KeptTurn string `json:"kept_turn,omitempty"`
	// MaxTokens is the output limit the request ran under (the client's
	// max_tokens or a key's cap); 0 when none was set.
	MaxTokens int64 `json:"max_tokens,omitempty"`
	// OverheadMS is the time in Tollgate before the request went upstream
	// (routing, reservation), in ms; FirstByteMS the answering upstream's time
	// to its first byte (streams: the first chunk), in ms. LatencyMS minus both
	// is the failed attempts before the answer plus the answer's transfer.
	OverheadMS  int64 `json:"overhead_ms,omitempty"`
	FirstByteMS int64 `json:"first_byte_ms,omitempty"`
	// Fallbacks lists, as JSON ([{"model","outcome","ms"}]), the attempts
	// that failed before the answering model; empty when the first answered.
	Fallbacks string `json:"fallbacks,omitempty"`
}

// Refused reports whether e is a refusal rather than served usage.
func (e Event) Refused() bool { return e.Status == StatusRefused }

// Day is the event's UTC day, the rollup key ("2026-11-26").
func (e Event) Day() string { return e.CreatedAt.UTC().Format("2006-01-02") }
