package invoice

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// LineID returns the stable line id of a model's usage line: "m-" followed by the
// model name with every character outside [a-z0-9.-] replaced by "_". When that
// changes the name, "-" and the first 8 hex digits of the name's SHA-256 are
// appended, so "x-ai/grok-4", "x-ai_grok-4" and "X-ai/grok-4" get different ids. The same model always gets the same id, which keeps Stripe
// idempotency keys stable across reruns.
func LineID(model string) string {
	var b strings.Builder
	b.WriteString("m-")
	changed := false
	for _, r := range model {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
			changed = true
		}
	}
	if changed {
		sum := sha256.Sum256([]byte(model))
		b.WriteByte('-')
		b.WriteString(hex.EncodeToString(sum[:4]))
	}
	return b.String()
}
