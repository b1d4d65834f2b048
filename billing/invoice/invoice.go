package invoice

import "github.com/tollgate-dev/tollgate/billing"

// CurrencyUSD is the only currency invoices are issued in.
const CurrencyUSD = "usd"

// LineKind says what an invoice line bills for.
type LineKind string

// Line kinds.
const (
	// LineKindUsage bills one model's usage in the period.
	LineKindUsage LineKind = "usage"
	// LineKindPlatformFee bills the plan's flat monthly fee.
	LineKindPlatformFee LineKind = "platform_fee"
)

// PlatformFeeLineID is the line id of the platform fee line. Usage line ids start
// with "m-", so no model name can collide with it.
const PlatformFeeLineID = "platform-fee"

// Usage is one model's ledger aggregate for the period.
type Usage struct {
	// Model is the model name as recorded in the ledger ("gpt-4o", "x-ai/grok-4").
	Model string `json:"model"`
	// Requests is the number of completed requests.
	Requests int64 `json:"requests"`
	// InputTokens are uncached input (prompt) tokens.
	InputTokens int64 `json:"input_tokens"`
	// CachedInputTokens are input tokens served from the provider's prompt cache.
	CachedInputTokens int64 `json:"cached_input_tokens"`
	// CacheWriteInputTokens are input tokens written to the provider's prompt
	// cache (Anthropic bills them above the input price).
	CacheWriteInputTokens int64 `json:"cache_write_input_tokens,omitempty"`
	// OutputTokens are output (completion) tokens.
	OutputTokens int64 `json:"output_tokens"`
	// ProviderCost is what the provider charges us for this usage, nano-USD.
	ProviderCost billing.NanoUSD `json:"provider_cost_nano"`
}

// Line is one invoice line: one model's usage, or the platform fee.
type Line struct {
	// ID is stable for a model (see LineID) and feeds Stripe idempotency keys.
	ID string `json:"id"`
	// Kind is usage or platform_fee.
	Kind LineKind `json:"kind"`
	// Model is the ledger's model name; empty for the platform fee.
	Model string `json:"model,omitempty"`
	// Description is the human-readable text for the customer's invoice.
	Description string `json:"description"`
	// Requests, InputTokens, CachedInputTokens, CacheWriteInputTokens and
	// OutputTokens copy the usage.
	Requests              int64 `json:"requests"`
	InputTokens           int64 `json:"input_tokens"`
	CachedInputTokens     int64 `json:"cached_input_tokens"`
	CacheWriteInputTokens int64 `json:"cache_write_input_tokens,omitempty"`
	OutputTokens          int64 `json:"output_tokens"`
	// ProviderCost is our cost for the line, nano-USD (0 for the platform fee).
	ProviderCost billing.NanoUSD `json:"provider_cost_nano"`
	// Charge is the exact charge before rounding, nano-USD.
	Charge billing.NanoUSD `json:"charge_nano"`
	// AmountCents is Charge rounded half-up to whole cents: what Stripe bills.
	AmountCents int64 `json:"amount_cents"`
	// RoundingNano is AmountCents in nano-USD minus Charge: positive when rounding
	// added money, negative when it dropped some; always within ±half a cent.
	RoundingNano billing.NanoUSD `json:"rounding_nano"`
}

// Invoice is a tenant's bill for one period, before it is sent anywhere.
type Invoice struct {
	// TenantID is the billed tenant.
	TenantID string `json:"tenant_id"`
	// Period is the billed month, "YYYY-MM".
	Period string `json:"period"`
	// Currency is always CurrencyUSD.
	Currency string `json:"currency"`
	// Lines are the usage lines sorted by line id, then the platform fee line.
	Lines []Line `json:"lines"`
	// ProviderCost is the sum of the lines' provider costs, nano-USD.
	ProviderCost billing.NanoUSD `json:"provider_cost_nano"`
	// Charge is the sum of the lines' exact charges, nano-USD.
	Charge billing.NanoUSD `json:"charge_nano"`
	// TotalCents is the sum of the lines' AmountCents: the amount due.
	TotalCents int64 `json:"total_cents"`
	// RoundingNano is TotalCents in nano-USD minus Charge, the sum of the lines'
	// rounding.
	RoundingNano billing.NanoUSD `json:"rounding_nano"`
}

// Empty reports whether the invoice has nothing to bill (no lines, or all zero).
func (inv Invoice) Empty() bool { return inv.TotalCents == 0 }
