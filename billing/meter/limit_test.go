package meter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Period keys are cached per period; a time outside the cached one, later or
// earlier (clocks differ between callers), still gets its own key.
func TestPeriodKeyAcrossBoundaries(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return v
	}
	for _, c := range []struct {
		at         string
		day, month string
	}{
		{"2026-11-30T23:59:59.999999999Z", "2026-11-30", "2026-11"},
		{"2026-12-01T00:00:00Z", "2026-12-01", "2026-12"},
		{"2026-11-30T23:59:59Z", "2026-11-30", "2026-11"},
		{"2026-12-01T00:30:00+01:00", "2026-11-30", "2026-11"}, // UTC decides
		{"2026-12-31T23:00:00Z", "2026-12-31", "2026-12"},
		{"2027-01-01T00:00:00Z", "2027-01-01", "2027-01"},
		{"2024-02-29T12:00:00Z", "2024-02-29", "2024-02"},
		{"2026-12-01T00:00:00Z", "2026-12-01", "2026-12"},
	} {
		now := at(c.at)
		require.Equal(t, c.day, PeriodDay.Key(now), c.at)
		require.Equal(t, c.month, PeriodMonth.Key(now), c.at)
		require.Equal(t, c.day, PeriodDay.Key(now), c.at+" (cached)")
	}
}

// A limit repeating an earlier valid one is refused, whatever the count
// (small counts compare pairwise, large ones through a map); an invalid limit
// is reported for itself and repeats nothing.
func TestReserveInputRepeatedLimits(t *testing.T) {
	mk := func(limits ...Limit) ReserveInput {
		return ReserveInput{TenantID: "t1", RequestID: "r1", Limits: limits}
	}
	tenantMonth := Limit{Scope: ScopeTenant, Period: PeriodMonth, Limit: 10}
	keyDay := Limit{Scope: ScopeKey, ScopeID: "k1", Period: PeriodDay, Limit: 10}
	bad := Limit{Scope: ScopeKey, ScopeID: "", Period: PeriodDay, Limit: 10}
	require.NoError(t, mk(tenantMonth, keyDay, Limit{Scope: ScopeKey, ScopeID: "k2", Period: PeriodDay}).Validate())
	require.ErrorContains(t, mk(tenantMonth, keyDay, tenantMonth).Validate(), "limits[2] repeats")
	// The tenant scope ignores its ScopeID.
	require.ErrorContains(t, mk(tenantMonth, Limit{Scope: ScopeTenant, ScopeID: "x", Period: PeriodMonth}).Validate(), "limits[1] repeats")
	err := mk(bad, bad).Validate()
	require.Error(t, err)
	require.NotContains(t, err.Error(), "repeats")

	var many []Limit
	for i := range 20 {
		many = append(many, Limit{Scope: ScopeMember, ScopeID: "m" + string(rune('a'+i)), Period: PeriodMonth})
	}
	require.NoError(t, mk(many...).Validate())
	require.ErrorContains(t, mk(append(many, many[3])...).Validate(), "limits[20] repeats")
}
