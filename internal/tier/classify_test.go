package tier_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/tier"
)

const gib = uint64(1) << 30

func TestClassify(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		res         tier.Resources
		want        tier.Tier
		wantReasons []string
	}{
		{
			name: "14-core 64 GiB desktop is Balanced",
			res:  tier.Resources{Mode: tier.ModeDesktop, HostCPUs: 14, HostMemoryBytes: 64 * gib},
			want: tier.TierBalanced,
			wantReasons: []string{"14 CPU cores (host)", "64 GiB memory (host)", "CPU and memory both fit High-performance",
				"desktop: capped at Balanced"},
		},
		{
			name:        "2 cores is Constrained",
			res:         tier.Resources{Mode: tier.ModeContainer, HostCPUs: 2, HostMemoryBytes: 32 * gib},
			want:        tier.TierConstrained,
			wantReasons: []string{"2 CPU cores (host)", "CPU limits to Constrained (memory alone would allow High-performance)"},
		},
		{
			name:        "under 4 GiB is Constrained",
			res:         tier.Resources{Mode: tier.ModeKubernetes, HostCPUs: 16, HostMemoryBytes: 3*gib + gib/2},
			want:        tier.TierConstrained,
			wantReasons: []string{"3.5 GiB memory (host)", "memory limits to Constrained (CPU alone would allow High-performance)"},
		},
		{
			name: "small VM is Balanced",
			res:  tier.Resources{Mode: tier.ModeContainer, HostCPUs: 4, HostMemoryBytes: 8 * gib},
			want: tier.TierBalanced,
		},
		{
			name:        "big container is High-performance",
			res:         tier.Resources{Mode: tier.ModeContainer, HostCPUs: 16, HostMemoryBytes: 64 * gib},
			want:        tier.TierHighPerformance,
			wantReasons: []string{"container (): cap High-performance not reached"},
		},
		{
			name:        "huge container is capped at High-performance",
			res:         tier.Resources{Mode: tier.ModeContainer, HostCPUs: 64, HostMemoryBytes: 256 * gib},
			want:        tier.TierHighPerformance,
			wantReasons: []string{"container: capped at High-performance"},
		},
		{
			name: "big Kubernetes pod is Enterprise",
			res: tier.Resources{Mode: tier.ModeKubernetes, HostCPUs: 96, HostMemoryBytes: 512 * gib,
				CgroupVersion: 2, CPULimitMillis: 32000, MemoryLimitBytes: 128 * gib},
			want:        tier.TierEnterprise,
			wantReasons: []string{"32 CPU cores (cgroup v2 cpu.max)", "128 GiB memory (cgroup v2 memory.max)"},
		},
		{
			name: "GPU lifts a High-performance pod to Enterprise",
			res: tier.Resources{Mode: tier.ModeKubernetes, HostCPUs: 16, HostMemoryBytes: 64 * gib,
				GPU: true, GPUEvidence: "/dev/nvidia0"},
			want:        tier.TierEnterprise,
			wantReasons: []string{"GPU present (/dev/nvidia0): raised to Enterprise"},
		},
		{
			name: "GPU does not lift a desktop past its cap",
			res: tier.Resources{Mode: tier.ModeDesktop, HostCPUs: 4, HostMemoryBytes: 16 * gib,
				GPU: true, GPUEvidence: "/usr/bin/nvidia-smi"},
			want:        tier.TierBalanced,
			wantReasons: []string{"GPU present (/usr/bin/nvidia-smi): raised to High-performance", "desktop: capped at Balanced"},
		},
		{
			name:        "GPU does not lift a Constrained host",
			res:         tier.Resources{Mode: tier.ModeKubernetes, HostCPUs: 2, HostMemoryBytes: 64 * gib, GPU: true, GPUEvidence: "/dev/kfd"},
			want:        tier.TierConstrained,
			wantReasons: []string{"GPU present (/dev/kfd): no change at Constrained"},
		},
		{
			name: "fractional cgroup v1 quota",
			res: tier.Resources{Mode: tier.ModeContainer, HostCPUs: 8, HostMemoryBytes: 16 * gib,
				CgroupVersion: 1, CPULimitMillis: 2500, MemoryLimitBytes: 6 * gib},
			want:        tier.TierBalanced,
			wantReasons: []string{"2.5 CPU cores (cgroup v1 cpu.cfs_quota_us)", "6 GiB memory (cgroup v1 memory.limit_in_bytes)"},
		},
		{
			name:        "cgroup limit above the host is ignored",
			res:         tier.Resources{Mode: tier.ModeContainer, HostCPUs: 4, HostMemoryBytes: 8 * gib, CgroupVersion: 2, CPULimitMillis: 64000, MemoryLimitBytes: 64 * gib},
			want:        tier.TierBalanced,
			wantReasons: []string{"4 CPU cores (host)", "8 GiB memory (host)"},
		},
		{
			name:        "unknown readings are Constrained, unknown mode is a desktop",
			res:         tier.Resources{},
			want:        tier.TierConstrained,
			wantReasons: []string{"0 CPU cores (host)", "0 MiB memory (host)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			p := tier.Classify(tt.res)
			require.Equal(t, tt.want, p.Tier, "reasons: %q", p.Reasons)
			require.Equal(t, tt.want.String(), p.TierName)
			require.Equal(t, tier.KnobsFor(tt.want), p.Knobs)
			require.Equal(t, tt.res, p.Resources)
			for _, r := range tt.wantReasons {
				require.Contains(t, p.Reasons, r)
			}
		})
	}
}

func TestProfileJSON(t *testing.T) {
	t.Parallel()

	p := tier.Classify(tier.Resources{Mode: tier.ModeDesktop, ModeEvidence: "no markers", HostCPUs: 14, HostMemoryBytes: 64 * gib})
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got))
	require.EqualValues(t, 2, got["tier"])
	require.Equal(t, "Balanced", got["tier_name"])
	require.Equal(t, "desktop", got["resources"].(map[string]any)["mode"])
	require.EqualValues(t, 8, got["knobs"].(map[string]any)["worker_concurrency"])

	var back tier.Profile
	require.NoError(t, json.Unmarshal(raw, &back))
	require.Equal(t, p, back)
}

func TestTierKnobsGrow(t *testing.T) {
	t.Parallel()

	prev := tier.KnobsFor(tier.TierConstrained)
	for _, tr := range []tier.Tier{tier.TierBalanced, tier.TierHighPerformance, tier.TierEnterprise} {
		k := tier.KnobsFor(tr)
		require.Greater(t, k.WorkerConcurrency, prev.WorkerConcurrency, tr.String())
		require.Greater(t, k.DBMaxOpenConns, prev.DBMaxOpenConns, tr.String())
		require.Greater(t, k.LedgerBatchSize, prev.LedgerBatchSize, tr.String())
		require.Greater(t, k.KeyCacheSize, prev.KeyCacheSize, tr.String())
		require.GreaterOrEqual(t, k.MaxBodyBytes, prev.MaxBodyBytes, tr.String())
		require.LessOrEqual(t, k.DBMaxIdleConns, k.DBMaxOpenConns, tr.String())
		prev = k
	}
	require.Equal(t, tier.KnobsFor(tier.TierConstrained), tier.KnobsFor(0))
	require.Equal(t, tier.KnobsFor(tier.TierEnterprise), tier.KnobsFor(9))
	require.Equal(t, "Tier(9)", tier.Tier(9).String())
}
