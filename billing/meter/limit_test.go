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
