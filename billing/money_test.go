package billing

import (
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
}
