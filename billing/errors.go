package billing

import (
	"fmt"
	"strconv"
)

// BudgetExceededError says which hard budget refused a request, and by how much.
// It travels wrapped in an errkind.BudgetExceeded error.
type BudgetExceededError struct {
	// Scope is tenant, key or member; ScopeID names the key or member.
	Scope   string
	ScopeID string
	// ScopeName names the key or member for people (a key's name, a member's
	// email); empty falls back to ScopeID.
	ScopeName string
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
	switch {
	case e.ScopeName != "":
		scope += " " + strconv.Quote(e.ScopeName)
	case e.ScopeID != "":
		scope += " " + e.ScopeID
	}
	period := e.Period + "ly"
	if e.Period == "day" {
		period = "daily"
	}
	return fmt.Sprintf("the %s %s budget of %s would be exceeded: %s of it is spent or held by requests in flight, and this request may cost up to %s; raise the budget or wait for the next period",
		period, scope, e.Limit.CentsString(), e.Used.CentsString(), e.Requested.CentsString())
}
