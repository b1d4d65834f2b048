package tier_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/tier"
)

func TestPodResources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cpus, memory string
		wantMillis   int64
		wantBytes    uint64
		wantTier     tier.Tier
	}{
		{"4", "4Gi", 4000, 4 * gib, tier.TierBalanced},
		{"2", "2Gi", 2000, 2 * gib, tier.TierConstrained},
		{"8", "16Gi", 8000, 16 * gib, tier.TierHighPerformance},
		{"1.5", "512Mi", 1500, 512 << 20, tier.TierConstrained},
		{"4500m", "8G", 4500, 8_000_000_000, tier.TierBalanced},
		{"32", "128Gi", 32000, 128 * gib, tier.TierEnterprise},
	}
	for _, tt := range tests {
		r, err := tier.PodResources(tt.cpus, tt.memory)
		require.NoError(t, err, tt.cpus+"/"+tt.memory)
		require.Equal(t, tt.wantMillis, r.EffectiveCPUMillis(), tt.cpus)
		require.Equal(t, tt.wantBytes, r.EffectiveMemoryBytes(), tt.memory)
		require.Equal(t, tier.ModeKubernetes, r.Mode)
		require.Equal(t, tt.wantTier, tier.Classify(r).Tier, "%s CPUs, %s", tt.cpus, tt.memory)
	}
	for _, bad := range [][2]string{{"0", "4Gi"}, {"four", "4Gi"}, {"4", "4Gb"}, {"4", "-1"}, {"-2", "1Gi"}, {"4", ""}, {"NaN", "1Gi"}} {
		_, err := tier.PodResources(bad[0], bad[1])
		require.Error(t, err, bad)
		require.Equal(t, errkind.Invalid, errkind.Of(err), bad)
	}
}
