package meter_test

import (
	"log/slog"
	"testing"

	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/billing/meter/metertest"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func TestMemoryMeterConformance(t *testing.T) {
	t.Parallel()
	metertest.RunConformance(t, func(t *testing.T, clock meter.Clock) func() meter.Meter {
		m := meter.NewMemoryMeter(testLogger(t), clock)
		return func() meter.Meter { return m }
	})
}
