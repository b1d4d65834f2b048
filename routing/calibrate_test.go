package routing_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

func TestCalibrate(t *testing.T) {
	t.Parallel()
	// Too little feedback changes nothing.
	c := routing.Calibrate([]routing.CalibrationPoint{{PStandard: 0.1, Tier: routing.TierEconomy, NeededStronger: true}}, 0.23)
	require.Equal(t, 0.23, c.Suggested)

	// Answers that needed a stronger model around p=0.15, good economy answers
	// below 0.1: the threshold comes down to catch the former.
	var pts []routing.CalibrationPoint
	for i := range 6 {
		pts = append(pts, routing.CalibrationPoint{PStandard: 0.15 + float64(i)*0.01, Tier: routing.TierEconomy, NeededStronger: true})
	}
	for i := range 10 {
		pts = append(pts, routing.CalibrationPoint{PStandard: 0.02 + float64(i)*0.005, Tier: routing.TierEconomy, Rating: 5})
	}
	c = routing.Calibrate(pts, 0.23)
	require.Equal(t, 6, c.TooWeak)
	require.Equal(t, 10, c.FineOnEconomy)
	require.Greater(t, c.Suggested, 0.065)
	require.LessOrEqual(t, c.Suggested, 0.15)
	require.NotEmpty(t, c.Explanation)
}
