package routing

import (
	"fmt"
	"math"
)

// CalibrationPoint is one rated request: the probability it was routed with,
// the tier that served it, and what the user said.
type CalibrationPoint struct {
	PStandard float64
	Tier      Tier
	// NeededStronger: the answer needed a stronger model.
	NeededStronger bool
	// Rating is 1..5, 0 when not given.
	Rating int
}

// Calibration is a suggested standard threshold for one tenant.
type Calibration struct {
	// Current is the threshold in force; Suggested the one the feedback
	// supports (equal when there is too little feedback or nothing to change).
	Current   float64 `json:"current"`
	Suggested float64 `json:"suggested"`
	// TooWeak counts requests rated "needed a stronger model" (or 1–2 stars on
	// economy); FineOnEconomy economy answers rated 4–5 stars.
	TooWeak       int    `json:"too_weak"`
	FineOnEconomy int    `json:"fine_on_economy"`
	Explanation   string `json:"explanation"`
}

// minCalibrationPoints is the least feedback a calibration acts on.
const minCalibrationPoints = 10

// Calibrate suggests the standard threshold that best fits a tenant's
// feedback: each too-weak answer whose probability lies below the threshold
// (it would go to economy again) costs three, each economy answer rated good
// whose probability lies at or above it (it would now go to standard) costs
// one. Ties keep the threshold closest to the current one.
func Calibrate(points []CalibrationPoint, current float64) Calibration {
	c := Calibration{Current: current, Suggested: current}
	var weak, fine []float64
	for _, p := range points {
		switch {
		case p.NeededStronger || p.Tier == TierEconomy && p.Rating > 0 && p.Rating <= 2:
			weak = append(weak, p.PStandard)
		case p.Tier == TierEconomy && p.Rating >= 4:
			fine = append(fine, p.PStandard)
		}
	}
	c.TooWeak, c.FineOnEconomy = len(weak), len(fine)
	if len(weak)+len(fine) < minCalibrationPoints {
		c.Explanation = fmt.Sprintf("%d useful ratings; calibration needs at least %d", len(weak)+len(fine), minCalibrationPoints)
		return c
	}
	cost := func(t float64) float64 {
		n := 0.0
		for _, p := range weak {
			if p < t {
				n += 3
			}
		}
		for _, p := range fine {
			if p >= t {
				n++
			}
		}
		return n
	}
	best, bestCost := current, cost(current)
	for t := 0.02; t <= 0.9+1e-9; t += 0.01 {
		t = math.Round(t*100) / 100
		if k := cost(t); k < bestCost || k == bestCost && math.Abs(t-current) < math.Abs(best-current) {
			best, bestCost = t, k
		}
	}
	c.Suggested = best
	c.Explanation = fmt.Sprintf("standard threshold %.2f fits %d too-weak and %d good economy ratings best (weighted misses %.0f, now %.0f)",
		best, len(weak), len(fine), bestCost, cost(current))
	return c
}
