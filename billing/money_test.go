package billing

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseUSD(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]NanoUSD{
		"0.05": 50_000_000, "12.5": 12_500_000_000, "0.000000001": 1, ".5": 500_000_000, "3": 3 * NanoPerUSD, "-1.25": -1_250_000_000,
	} {
		got, err := ParseUSD(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
		if want >= 0 {
			back, err := ParseUSD(got.USDString())
			require.NoError(t, err)
			require.Equal(t, got, back, "round trip of %s", in)
		}
	}
	for _, bad := range []string{"", ".", "1.0000000001", "1e3", "abc", "1.2.3", "+-1", "1,50", "99999999999"} {
		_, err := ParseUSD(bad)
		require.Error(t, err, bad)
	}
}

func TestUSDString(t *testing.T) {
	t.Parallel()
	require.Equal(t, "0.050000000", NanoUSD(50_000_000).USDString())
	require.Equal(t, "-1.000000001", NanoUSD(-1_000_000_001).USDString())
	// The appending form writes what the format "%s%d.%09d" always wrote.
	for _, n := range []int64{0, 1, 9, 10, 999_999_999, 1_000_000_000, 12_345_678, 123_456_789_012, -5, -999_999_999,
		math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		sign, v := "", n
		if v < 0 {
			sign, v = "-", -v
		}
		require.Equal(t, fmt.Sprintf("%s%d.%09d", sign, v/int64(NanoPerUSD), v%int64(NanoPerUSD)), NanoUSD(n).USDString(), n)
	}
}
