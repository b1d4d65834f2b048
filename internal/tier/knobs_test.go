package tier_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/tier"
)

func TestWithOverrides(t *testing.T) {
	t.Parallel()

	base := tier.Classify(tier.Resources{Mode: tier.ModeDesktop, HostCPUs: 14, HostMemoryBytes: 64 * gib})
	tests := []struct {
		name           string
		o              tier.Overrides
		want           tier.Knobs
		wantOverridden []string
		wantReason     string
		wantErr        []string
	}{
		{
			name: "zero overrides keep the tier",
			want: tier.KnobsFor(tier.TierBalanced),
		},
		{
			name: "each knob can be replaced",
			o: tier.Overrides{WorkerConcurrency: 3, DBMaxOpenConns: 40, DBMaxIdleConns: 5, LedgerBatchSize: 250,
				KeyCacheSize: 77, MaxBodyBytes: 1 << 20},
			want: tier.Knobs{WorkerConcurrency: 3, DBMaxOpenConns: 40, DBMaxIdleConns: 5, LedgerBatchSize: 250, KeyCacheSize: 77, MaxBodyBytes: 1 << 20},
			wantOverridden: []string{tier.EnvWorkerConcurrency, tier.EnvDBMaxOpenConns, tier.EnvDBMaxIdleConns,
				tier.EnvLedgerBatchSize, tier.EnvKeyCacheSize, tier.EnvMaxBodyBytes},
			wantReason: "TOLLGATE_WORKER_CONCURRENCY=3 overrides the tier's 8",
		},
		{
			name: "idle connections follow a lowered pool",
			o:    tier.Overrides{DBMaxOpenConns: 1},
			want: func() tier.Knobs {
				k := tier.KnobsFor(tier.TierBalanced)
				k.DBMaxOpenConns, k.DBMaxIdleConns = 1, 1
				return k
			}(),
			wantOverridden: []string{tier.EnvDBMaxOpenConns},
			wantReason:     "TOLLGATE_DB_MAX_IDLE_CONNS lowered to 1 to match TOLLGATE_DB_MAX_OPEN_CONNS",
		},
		{
			name:    "negative values are all reported",
			o:       tier.Overrides{WorkerConcurrency: -1, MaxBodyBytes: -2},
			wantErr: []string{"TOLLGATE_WORKER_CONCURRENCY: must be >= 0, got -1", "TOLLGATE_MAX_BODY_BYTES: must be >= 0, got -2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := base.WithOverrides(tt.o)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, errkind.Invalid)
				for _, w := range tt.wantErr {
					require.ErrorContains(t, err, w)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.Knobs)
			require.Equal(t, tt.wantOverridden, got.Overridden)
			require.Equal(t, base.Tier, got.Tier)
			if tt.wantReason != "" {
				require.Contains(t, got.Reasons, tt.wantReason)
			}
			// The base profile is not modified.
			require.Equal(t, tier.KnobsFor(tier.TierBalanced), base.Knobs)
			require.Empty(t, base.Overridden)
		})
	}
}
