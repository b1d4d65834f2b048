package invoice

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// MaxIdempotencyKeyLen is Stripe's limit on an idempotency key, in bytes.
const MaxIdempotencyKeyLen = 255

// IdempotencyKey returns the Stripe idempotency key for one step of an invoice run:
// "tg-inv-<tenant>-<period>-<line>-<step>", with "_" standing for an empty part
// (a customer key has no period or line, an invoice key no line). The same inputs
// always give the same key, so a run that crashes and reruns sends nothing twice.
//
// The readable form is used only when it can be read back unambiguously: tenant
// and step made of [A-Za-z0-9._], period empty or "YYYY-MM", line made of
// [A-Za-z0-9._-] (every id LineID makes), and at most MaxIdempotencyKeyLen bytes
// in all. Otherwise (a UUID tenant id with hyphens, an over-long id) the key is
// "tg-inv-h-" followed by the hex SHA-256 of the four parts joined by NUL bytes:
// 73 bytes, just as stable.
func IdempotencyKey(tenantID, period, lineID, step string) string {
	readable := "tg-inv-" + orUnderscore(tenantID) + "-" + orUnderscore(period) + "-" +
		orUnderscore(lineID) + "-" + orUnderscore(step)
	if keyChars(tenantID, false) && keyChars(step, false) && keyChars(lineID, true) &&
		(period == "" || ValidPeriod(period)) && len(readable) <= MaxIdempotencyKeyLen {
		return readable
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{tenantID, period, lineID, step}, "\x00")))
	return "tg-inv-h-" + hex.EncodeToString(sum[:])
}

func orUnderscore(s string) string {
	if s == "" {
		return "_"
	}
	return s
}

// keyChars reports whether s is made only of [A-Za-z0-9._], plus "-" when
// hyphens is true.
func keyChars(s string, hyphens bool) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_':
		case r == '-' && hyphens:
		default:
			return false
		}
	}
	return true
}

// ValidPeriod reports whether s is a billing period: exactly "YYYY-MM" with a
// month 01–12.
func ValidPeriod(s string) bool {
	if len(s) != 7 || s[4] != '-' {
		return false
	}
	for i, r := range s {
		if i != 4 && (r < '0' || r > '9') {
			return false
		}
	}
	month := (s[5]-'0')*10 + (s[6] - '0')
	return month >= 1 && month <= 12
}
