package billing

import "fmt"

// BudgetExceededError says which hard budget refused a request, and by how much.
// It travels wrapped in an errkind.BudgetExceeded error.
type BudgetExceededError struct {
	// Scope is tenant, key or member; ScopeID names the key or member.
	Scope   string
	ScopeID string
	// Period is day or month (UTC).
	Period string
	// Limit, Used (spent plus reserved) and Requested (this request's worst case), nano-USD.
	Limit     NanoUSD
	Used      NanoUSD
	Requested NanoUSD
}

// Error describes the refusal and what to do about it.
func (e *BudgetExceededError) Error() string {
	scope := e.Scope
	if e.ScopeID != "" {
		scope += " " + e.ScopeID
	}
	period := e.Period + "ly"
	if e.Period == "day" {
		period = "daily"
	}
	return fmt.Sprintf("the %s %s budget of $%s would be exceeded ($%s spent or reserved, this request may cost up to $%s); raise the budget or wait for the next period",
		period, scope, e.Limit.USDString(), e.Used.USDString(), e.Requested.USDString())
}
