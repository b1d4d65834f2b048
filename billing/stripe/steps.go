package stripe

import "github.com/tollgate-dev/tollgate/billing/invoice"

// Steps of an invoice run, the last part of each idempotency key
// (invoice.IdempotencyKey(tenant, period, line, step)).
const (
	StepCustomer = "customer"
	StepItem     = "item"
	StepInvoice  = "invoice"
	StepFinalize = "finalize"
)

// Metadata keys set on Stripe objects, so a Stripe object leads back to its tenant,
// period and line (and webhooks to the invoice run).
const (
	MetadataTenantID = "tenant_id"
	MetadataPeriod   = "period"
	MetadataLineID   = "line_id"
)

// FinalizeKey is the idempotency key FinalizeInvoice should get for a tenant's
// period.
func FinalizeKey(tenantID, period string) string {
	return invoice.IdempotencyKey(tenantID, period, "", StepFinalize)
}
