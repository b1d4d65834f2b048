// Package invoice builds a tenant's monthly invoice from its ledger aggregates.
//
// It is pure: no I/O, no clock, no floats. Money is billing.NanoUSD (int64
// nano-USD); intermediate products that could overflow int64 go through math/big.
//
// Rounding happens once per line. Each line's exact charge in nano-USD is rounded
// half-up to whole cents; the difference (cents×10^7 − exact nano-USD) is kept on
// the line as RoundingNano, and the invoice total is the sum of the rounded line
// amounts, so the amounts sent to Stripe (one invoice item per line) always add up
// to the invoice total, and Invoice.RoundingNano is the sum of the line differences.
// We round per line rather than once on the grand total because Stripe sums
// integer-cent invoice items itself: rounding only the total would leave the items
// inconsistent with it.
package invoice
