package routing

import (
	"github.com/tollgate-dev/tollgate/billing"
)

// RouteReason says why a model was chosen. It is the stable, machine-readable
// part of the x-tollgate-route-reason header.
type RouteReason string

// Route reasons.
const (
	// RouteReasonExplicit: the client named the model and the policy allows it.
	RouteReasonExplicit RouteReason = "explicit"
	// RouteReasonAutoEconomy: "auto" and the classifier's probability was below
	// the standard threshold.
	RouteReasonAutoEconomy RouteReason = "auto_economy"
	// RouteReasonAutoComplex: "auto" and the probability reached the standard
	// threshold.
	RouteReasonAutoComplex RouteReason = "auto_complex"
	// RouteReasonAutoPremium: "auto", the policy allows premium, and the
	// premium probability reached the premium threshold.
	RouteReasonAutoPremium RouteReason = "auto_premium"
	// RouteReasonRule: "auto" and a policy rule picked the tier.
	RouteReasonRule RouteReason = "rule"
	// RouteReasonAffinity: the conversation stays on the model it is on.
	RouteReasonAffinity RouteReason = "affinity"
	// RouteReasonAffinityStepDown: a clearly easy turn after a one-off
	// escalation takes the conversation back to the model it was on before.
	RouteReasonAffinityStepDown RouteReason = "affinity_step_down"
	// RouteReasonBudgetPace: spend runs ahead of the period, one tier down.
	RouteReasonBudgetPace RouteReason = "budget_pace"
	// RouteReasonBudgetLadder: a budget ladder step caps the tier.
	RouteReasonBudgetLadder RouteReason = "budget_ladder"
	// RouteReasonPremiumDenied: a premium model was asked for but not allowed.
	RouteReasonPremiumDenied RouteReason = "premium_denied"
	// RouteReasonMaxTier: the asked model is above the policy's max tier.
	RouteReasonMaxTier RouteReason = "max_tier"
	// RouteReasonCapability: the preferred tier has no model able to serve the
	// request (tools, images, JSON, context size), so another tier serves it.
	RouteReasonCapability RouteReason = "capability"
	// RouteReasonKeySubstitute: the key's policy override serves the named
	// model by a cheaper model of the same tier (Policy.Keys).
	RouteReasonKeySubstitute RouteReason = "key_substitute"
)

// DecisionAction is what the caller should do with the request.
type DecisionAction string

// Decision actions.
const (
	// DecisionActionAllow forwards to Model as asked or as "auto" chose.
	DecisionActionAllow DecisionAction = "allow"
	// DecisionActionDowngrade forwards to a cheaper Model than asked.
	DecisionActionDowngrade DecisionAction = "downgrade"
	// DecisionActionRefuse forwards nothing; the api layer answers with an error
	// (Forbidden for a denied model) built from Explanation.
	DecisionActionRefuse DecisionAction = "refuse"
)

// BudgetPace is the budget state selection may react to. The zero value means
// "no budget": no pace or ladder downgrade happens.
type BudgetPace struct {
	// Spent is what the period has cost so far, in nano-USD.
	Spent billing.NanoUSD
	// Budget is the period's limit in nano-USD; 0 means no budget.
	Budget billing.NanoUSD
	// Elapsed is the fraction of the period gone, 0..1.
	Elapsed float64
	// LadderStep is the highest ladder step billing has already recorded
	// (1-based, 0 none); the selector also computes the step from Spent/Budget
	// and uses the higher of the two.
	LadderStep int
	// DowngradeAt is the budget's own downgrade step, in percent of Budget: from
	// there selection picks one tier below the one the request wants (premium →
	// standard, standard → economy). 0 means none.
	DowngradeAt int
	// Name says which budget this is in the route explanation ("key batch-jobs
	// monthly budget"); empty reads "budget".
	Name string
}

// Decision is the Selector's typed answer: expected outcomes (downgrade,
// refusal) are values here, never errors.
type Decision struct {
	// Action is allow, downgrade or refuse.
	Action DecisionAction
	// Requested is the model the client asked for ("auto" or a name).
	Requested string
	// Model is the chosen model; zero when refused.
	Model Model
	// Fallbacks are the models to try in order when Model fails retryably.
	Fallbacks []Model
	// Tier is Model's tier.
	Tier Tier
	// Reason is the machine-readable cause.
	Reason RouteReason
	// Explanation is a short human-readable sentence for logs and the console.
	Explanation string
	// Features are the classifier's view: the probabilities and structural
	// inputs, stored in the ledger so replays decide as live did.
	Features Features
}

// Header is the x-tollgate-route-reason value: "<reason>; <explanation>",
// ASCII only so it is a valid header value.
func (d Decision) Header() string {
	return string(d.Reason) + "; " + d.Explanation
}
