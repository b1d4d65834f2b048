// Package billing turns tokens into money: prices, budgets, the usage ledger and
// invoicing. Money is always integer nano-USD (1 USD = 1e9 nano-USD).
package billing

import "fmt"

// NanoUSD is an amount of money in billionths of a US dollar. It never holds a float.
type NanoUSD int64

// Common amounts.
const (
	NanoPerCent NanoUSD = 10_000_000
	NanoPerUSD  NanoUSD = 1_000_000_000
)

// USDString formats the amount as dollars with up to 9 decimals, for display and
// for JSON fields named *_usd. It never goes through a float.
func (n NanoUSD) USDString() string {
	sign := ""
	v := int64(n)
	if v < 0 {
		sign = "-"
		v = -v
	}
	return fmt.Sprintf("%s%d.%09d", sign, v/int64(NanoPerUSD), v%int64(NanoPerUSD))
}
