package usageimport

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
)

// maxTokens bounds one row's token counts (a trillion): a larger number is a
// broken export, and sums of such rows stay far from int64's limit.
const maxTokens = 1_000_000_000_000

// parseCount reads a non-negative whole number of tokens or requests; empty
// reads as 0 when optional.
func parseCount(name, s string, optional bool) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if optional {
			return 0, nil
		}
		return 0, fmt.Errorf("%s is empty", name)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > maxTokens {
		return 0, fmt.Errorf("%s %q is not a whole number from 0 to %d", name, s, int64(maxTokens))
	}
	return n, nil
}

// nanoPerUSD as a big.Rat, for exact cost conversion.
var nanoPerUSD = new(big.Rat).SetInt64(int64(billing.NanoPerUSD))

// parseCost reads a dollar amount ("0.00012", "1.2e-05", exports write both)
// exactly, without floats: the decimal is a rational number, scaled to
// nano-USD and rounded half up at the ninth decimal. Negative amounts and
// anything that is not a decimal are errors.
func parseCost(name, s string) (billing.NanoUSD, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%s %q is not a dollar amount like 0.00125", name, s)
	if s == "" || len(s) > 64 || strings.HasPrefix(s, "-") || strings.ContainsAny(s, "/_ ") {
		return 0, bad
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 {
		return 0, bad
	}
	r.Mul(r, nanoPerUSD)
	// Round half up: floor(r + 1/2).
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() || q.Int64() > int64(billing.NanoPerUSD)*1_000_000 {
		return 0, fmt.Errorf("%s %q is over $1,000,000 for one row", name, s)
	}
	return billing.NanoUSD(q.Int64()), nil
}

// timeLayouts are the timestamp forms exports write; a form without a zone is UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999 MST",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

// parseTime reads a timestamp or a date in UTC.
func parseTime(name, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q is not a time like 2026-11-26T14:03:00Z or 2026-11-26 14:03:00", name, s)
}
