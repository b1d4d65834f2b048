// Package billing turns tokens into money: prices, budgets, the usage ledger and
// invoicing. Money is always integer nano-USD (1 USD = 1e9 nano-USD).
package billing

import (
	"fmt"
	"strconv"
	"strings"
)

// NanoUSD is an amount of money in billionths of a US dollar. It never holds a float.
type NanoUSD int64

// Common amounts.
const (
	NanoPerCent NanoUSD = 10_000_000
	NanoPerUSD  NanoUSD = 1_000_000_000
)

// USDString formats the amount as dollars with up to 9 decimals, for display and
// for JSON fields named *_usd. It never goes through a float.
func (n NanoUSD) USDString() string {
	var buf [32]byte
	return string(n.AppendUSD(buf[:0]))
}

// AppendUSD appends what USDString returns to b. Every answer carries it
// (x-tollgate-cost-usd): appended, not Sprintf'd.
func (n NanoUSD) AppendUSD(b []byte) []byte {
	v := int64(n)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	if v < 0 { // the most negative amount has no positive counterpart
		return fmt.Appendf(b, "%d.%09d", v/int64(NanoPerUSD), v%int64(NanoPerUSD))
	}
	b = strconv.AppendInt(b, v/int64(NanoPerUSD), 10)
	b = append(b, '.')
	frac := v % int64(NanoPerUSD)
	for d := int64(NanoPerUSD / 10); d > 1 && frac < d; d /= 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, frac, 10)
}

// CentsString formats the amount for prose, in dollars to the cent ("$12.50"),
// rounded half up; a non-zero amount under half a cent reads "under $0.01".
func (n NanoUSD) CentsString() string {
	sign := ""
	v := int64(n)
	if v < 0 {
		sign = "-"
		v = -v
	}
	cents := (v + int64(NanoPerCent)/2) / int64(NanoPerCent)
	if cents == 0 && v > 0 {
		return sign + "under $0.01"
	}
	return fmt.Sprintf("%s$%d.%02d", sign, cents/100, cents%100)
}

// ParseUSD parses a decimal dollar amount ("12.5", "0.000001") into nano-USD exactly,
// without floats. More than 9 decimals, signs other than a leading "-", or anything
// else that is not a plain decimal is an error.
func ParseUSD(s string) (NanoUSD, error) {
	orig := s
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 9 || strings.ContainsAny(whole+frac, "+-") {
		return 0, fmt.Errorf("%q is not a dollar amount like 12.50", orig)
	}
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 9_000_000_000 {
		return 0, fmt.Errorf("%q is not a dollar amount like 12.50", orig)
	}
	var f int64
	if frac != "" {
		f, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a dollar amount like 12.50", orig)
		}
	}
	n := NanoUSD(w)*NanoPerUSD + NanoUSD(f)
	if neg {
		n = -n
	}
	return n, nil
}
