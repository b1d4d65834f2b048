package ledger

import (
	"context"
	"math/big"
	"strconv"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// ProjectionWindowDays is how many days of rollups the per-key, per-member and
// per-user figures read (ending today, today included).
const ProjectionWindowDays = 30

// DefaultProjectionUsers are the team sizes projected when none are asked for.
var DefaultProjectionUsers = []int64{1, 10, 100, 1000}

// Range is an estimate with a low and a high bound, in nano-USD.
type Range struct {
	Low      billing.NanoUSD `json:"low_nano"`
	Estimate billing.NanoUSD `json:"estimate_nano"`
	High     billing.NanoUSD `json:"high_nano"`
}

// UserProjection is what N users would cost a month and a year.
type UserProjection struct {
	Users   int64 `json:"users"`
	Monthly Range `json:"monthly"`
	Yearly  Range `json:"yearly"`
}

// Projection is a tenant's spend projected from its own usage. Every figure is
// derived from the daily rollups; Assumptions says how, in words.
type Projection struct {
	// Month is the UTC month projected ("2026-12").
	Month string `json:"month"`
	// SpentThisMonth is the month's spend so far; MonthEnd the spend at its
	// end at this month's pace, Low and High from the lowest and highest
	// daily spend of the window.
	SpentThisMonth billing.NanoUSD `json:"spent_this_month_nano"`
	MonthEnd       Range           `json:"month_end"`
	// WindowCost is the spend of the last ProjectionWindowDays days.
	WindowCost billing.NanoUSD `json:"window_cost_nano"`
	// ActiveKeys and ActiveMembers had at least one request in the window.
	ActiveKeys    int64 `json:"active_keys"`
	ActiveMembers int64 `json:"active_members"`
	// CostPerActiveKey and CostPerActiveMember are the window's spend (a month
	// of 30 days) per active key and per active member; 0 when none.
	CostPerActiveKey    billing.NanoUSD `json:"cost_per_active_key_nano"`
	CostPerActiveMember billing.NanoUSD `json:"cost_per_active_member_nano"`
	// PerUserBasis is "member" when users are the tenant's active members,
	// "key" when no request carries a member and active keys stand in.
	PerUserBasis string           `json:"per_user_basis"`
	Users        []UserProjection `json:"users"`
	Assumptions  []string         `json:"assumptions"`
}

// ProjectInput chooses the projection's clock and team sizes.
type ProjectInput struct {
	// Now is the projection's instant; zero means time.Now.
	Now time.Time
	// Users are the team sizes to project (1 to 1,000,000 each); empty means
	// DefaultProjectionUsers.
	Users []int64
}

// Project projects a tenant's spend (served usage and imported history): month-end from this month's pace, cost
// per active key and member, and what N users would cost from the tenant's
// own per-user mix (the mean monthly cost of an active member, with an 80%
// range from the spread between members: N·mean ± 1.28·σ·√N).
func Project(ctx context.Context, h *tenants.Handle, in ProjectInput) (Projection, error) {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	users := in.Users
	if len(users) == 0 {
		users = DefaultProjectionUsers
	}
	for _, n := range users {
		if n < 1 || n > 1_000_000 {
			return Projection{}, errkind.New(errkind.Invalid, "users must be between 1 and 1000000 (got %d)", n)
		}
	}
	today := now.Format("2006-01-02")
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	from := now.AddDate(0, 0, -(ProjectionWindowDays - 1)).Format("2006-01-02")
	if m := monthStart.Format("2006-01-02"); m < from {
		from = m
	}
	days, _, err := Series(ctx, h, SeriesQuery{From: from, To: today, GroupBy: []GroupBy{GroupByDay}, Source: SourceAll})
	if err != nil {
		return Projection{}, err
	}
	windowFrom := now.AddDate(0, 0, -(ProjectionWindowDays - 1)).Format("2006-01-02")
	keys, _, err := Series(ctx, h, SeriesQuery{From: windowFrom, To: today, GroupBy: []GroupBy{GroupByKey}, Source: SourceAll})
	if err != nil {
		return Projection{}, err
	}
	members, _, err := Series(ctx, h, SeriesQuery{From: windowFrom, To: today, GroupBy: []GroupBy{GroupByMember}, Source: SourceAll})
	if err != nil {
		return Projection{}, err
	}

	p := Projection{Month: now.Format("2006-01")}
	monthDay := monthStart.Format("2006-01-02")
	minDay, maxDay := int64(-1), int64(0)
	byDay := map[string]int64{}
	for _, d := range days {
		byDay[d.Day] = int64(d.Cost)
		if d.Day >= monthDay {
			p.SpentThisMonth += d.Cost
		}
		if d.Day >= windowFrom {
			p.WindowCost += d.Cost
		}
	}
	// Complete days of the window (today is still running), zero-spend days included.
	for d := now.AddDate(0, 0, -(ProjectionWindowDays - 1)); d.Format("2006-01-02") < today; d = d.AddDate(0, 0, 1) {
		c := byDay[d.Format("2006-01-02")]
		if minDay < 0 || c < minDay {
			minDay = c
		}
		if c > maxDay {
			maxDay = c
		}
	}
	if minDay < 0 {
		minDay = 0
	}
	// Integer arithmetic throughout (money is nano-USD; big.Int where products
	// could overflow): pace × time left is spent × seconds left / seconds elapsed.
	nextMonth := monthStart.AddDate(0, 1, 0)
	elapsed := int64(now.Sub(monthStart) / time.Second)
	remaining := int64(nextMonth.Sub(now) / time.Second)
	spent := int64(p.SpentThisMonth)
	est := spent
	if elapsed > 0 {
		est += mulDiv(spent, remaining, elapsed)
	}
	p.MonthEnd = Range{Low: billing.NanoUSD(min(spent+mulDiv(minDay, remaining, 86400), est)), Estimate: billing.NanoUSD(est),
		High: billing.NanoUSD(max(spent+mulDiv(maxDay, remaining, 86400), est))}

	keyCosts := activeCosts(keys, func(pt Point) string { return pt.KeyID })
	memberCosts := activeCosts(members, func(pt Point) string { return pt.MemberID })
	p.ActiveKeys, p.ActiveMembers = int64(len(keyCosts)), int64(len(memberCosts))
	if len(keyCosts) > 0 {
		p.CostPerActiveKey = billing.NanoUSD(mulDiv(sum(keyCosts), 1, int64(len(keyCosts))))
	}
	if len(memberCosts) > 0 {
		p.CostPerActiveMember = billing.NanoUSD(mulDiv(sum(memberCosts), 1, int64(len(memberCosts))))
	}
	perUser, basis := memberCosts, "member"
	if len(perUser) == 0 {
		perUser, basis = keyCosts, "key"
	}
	p.PerUserBasis = basis
	// The sample variance of the per-user costs, in nano-USD², as a big.Int.
	k := int64(len(perUser))
	variance := new(big.Int)
	var mean int64
	if k > 0 {
		total := sum(perUser)
		mean = mulDiv(total, 1, k)
		if k > 1 {
			// Σ(k·c − total)² / (k²·(k−1)) keeps every step exact.
			for _, c := range perUser {
				d := new(big.Int).Sub(new(big.Int).Mul(big.NewInt(c), big.NewInt(k)), big.NewInt(total))
				variance.Add(variance, d.Mul(d, d))
			}
			variance.Quo(variance, new(big.Int).Mul(big.NewInt(k*k), big.NewInt(k-1)))
		}
	}
	sd := new(big.Int).Sqrt(variance).Int64()
	for _, n := range users {
		e := int64(0)
		if k > 0 {
			e = mulDiv(sum(perUser), n, k)
		}
		// 1.28 × σ × √N = √(σ² × N × 1.28²) = √(σ² × N × 16384) / 100.
		v := new(big.Int).Mul(variance, big.NewInt(n*16384))
		spread := new(big.Int).Sqrt(v).Int64() / 100
		m := Range{Low: billing.NanoUSD(max(0, e-spread)), Estimate: billing.NanoUSD(e), High: billing.NanoUSD(e + spread)}
		p.Users = append(p.Users, UserProjection{Users: n, Monthly: m,
			Yearly: Range{Low: m.Low * 12, Estimate: m.Estimate * 12, High: m.High * 12}})
	}
	p.Assumptions = []string{
		"month end = spend so far + this month's average daily spend × the days left; low and high use the lowest and highest daily spend of the last 30 complete days",
		"per key, per member and per user figures use the last 30 days (today included) of served requests; refusals cost nothing",
		"a user costs what an active " + basis + " of this tenant cost over the last 30 days: " + strconv.Itoa(len(perUser)) + " active " + basis + "s, mean $" + billing.NanoUSD(mean).USDString() + " a month, standard deviation $" + billing.NanoUSD(sd).USDString(),
		"N users cost N × the mean; the range is an 80% interval from the spread between " + basis + "s (N × mean ± 1.28 × σ × √N), assuming new users resemble today's",
		"a year is 12 months at today's prices and mix",
		"imported history (usage/import) counts like served usage here, so a team sees projections before its first request; it is never invoiced or counted against budgets",
	}
	if len(perUser) == 0 {
		p.Assumptions = append(p.Assumptions, "no request in the last 30 days: every per-user figure is 0")
	}
	return p, nil
}

// activeCosts returns the window's cost (nano-USD) of each id with at least
// one request; a 30-day window is a month.
func activeCosts(points []Point, id func(Point) string) []int64 {
	var out []int64
	for _, pt := range points {
		if id(pt) == "" || pt.Requests == 0 {
			continue
		}
		out = append(out, int64(pt.Cost))
	}
	return out
}

func sum(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}

// mulDiv returns a × b / c rounded half away from zero, without overflow
// in between; c must be positive.
func mulDiv(a, b, c int64) int64 {
	q, r := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(a), big.NewInt(b)), big.NewInt(c), new(big.Int))
	if r.Sign() != 0 && new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2)).Cmp(big.NewInt(c)) >= 0 {
		if r.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		} else {
			q.Sub(q, big.NewInt(1))
		}
	}
	return q.Int64()
}
