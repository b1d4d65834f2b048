// Package invoicing runs a tenant's monthly invoice: it aggregates the tenant's
// ledger rollups for the period into per-model usage, prices them with the
// tenant's plan (billing/invoice), sends the invoice through a Delivery (Stripe)
// and records it in the tenant's invoices and invoice_lines tables.
//
// # Resumable runs
//
// A run persists its progress before and after every external call:
//
//	draft        the invoice row and its lines are stored (amounts fixed)
//	items_added  every line with an amount has its stripe_item_id
//	finalized    the Stripe invoice exists and is finalized (number, hosted URL)
//
// A rerun (a River retry after a crash, or a manual rerun) reads the stored row
// and continues from where it stopped: lines that have a stripe_item_id are never
// sent again, and the stored amounts, not a fresh ledger read, are what it sends.
// Every Stripe call carries an idempotency key derived from tenant, period, line
// and step (invoice.IdempotencyKey), so even a crash between a Stripe call and the
// write that records its result resends the same key and Stripe answers with the
// object it already made. One invoice row exists per tenant and period (a unique
// column), so a run yields one invoice per tenant and period.
//
// Money is integer nano-USD throughout; the only rounding (to cents, per line)
// happens in invoice.Build and is stored with each line.
package invoicing
