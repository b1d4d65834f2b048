package tier_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/tier"
)

func TestRenderEnv(t *testing.T) {
	t.Parallel()

	desktop := tier.Classify(tier.Resources{Mode: tier.ModeDesktop, ModeEvidence: "no markers", HostCPUs: 14, HostMemoryBytes: 64 * gib})
	pod := tier.Classify(tier.Resources{Mode: tier.ModeKubernetes, HostCPUs: 64, HostMemoryBytes: 256 * gib})
	overridden, err := desktop.WithOverrides(tier.Overrides{WorkerConcurrency: 3})
	require.NoError(t, err)

	tests := []struct {
		name       string
		profile    tier.Profile
		target     tier.Mode
		want       []string
		wantAbsent []string
	}{
		{
			name:    "desktop",
			profile: desktop,
			target:  tier.ModeDesktop,
			want: []string{
				"# Sized as tier 2 Balanced because:", "#   - desktop: capped at Balanced",
				"TOLLGATE_MODE=single-tenant", "TOLLGATE_DATABASE_URL=sqlite://./data/tollgate.db", "TOLLGATE_REDIS_URL=\n",
				"TOLLGATE_WORKER_CONCURRENCY=8", "TOLLGATE_DB_MAX_OPEN_CONNS=16", "TOLLGATE_DB_MAX_IDLE_CONNS=8",
				"TOLLGATE_LEDGER_BATCH_SIZE=500", "TOLLGATE_KEY_CACHE_SIZE=10000", "TOLLGATE_MAX_BODY_BYTES=8388608",
			},
			wantAbsent: []string{"postgres://", "Note: measured on", "STRIPE_API_KEY"},
		},
		{
			name:    "container from a desktop reading says so",
			profile: desktop,
			target:  tier.ModeContainer,
			want: []string{"TOLLGATE_MODE=multi-tenant", "TOLLGATE_REDIS_URL=redis://redis:6379", "# TOLLGATE_MASTER_KEY=",
				"Note: measured on a desktop, not on the container target"},
		},
		{
			name:    "kubernetes",
			profile: pod,
			target:  tier.ModeKubernetes,
			want: []string{"# Sized as tier 4 Enterprise because:", "TOLLGATE_WORKER_CONCURRENCY=100",
				"redis-0.redis:6379,redis-1.redis:6379", "mount these from a Secret", "# STRIPE_WEBHOOK_SECRET="},
			wantAbsent: []string{"Note: measured on", "sqlite://"},
		},
		{
			name:    "overrides are rendered and explained",
			profile: overridden,
			target:  tier.ModeDesktop,
			want:    []string{"TOLLGATE_WORKER_CONCURRENCY=3", "#   - TOLLGATE_WORKER_CONCURRENCY=3 overrides the tier's 8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := tier.RenderEnv(tt.profile, tt.target)
			require.NoError(t, err)
			for _, w := range tt.want {
				require.Contains(t, got, w)
			}
			for _, w := range tt.wantAbsent {
				require.NotContains(t, got, w)
			}
			// Every line is a comment, blank, or a single KEY=value assignment.
			for _, line := range strings.Split(strings.TrimRight(got, "\n"), "\n") {
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				key, _, ok := strings.Cut(line, "=")
				require.True(t, ok, "line %q", line)
				require.Regexp(t, `^[A-Z][A-Z0-9_]*$`, key)
			}
		})
	}

	_, err = tier.RenderEnv(desktop, "laptop")
	require.ErrorIs(t, err, errkind.Invalid)
}
