package seal

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"strings"
)

// RandomBase62 returns n random bytes encoded in base62, left-padded with '0' to the
// length the largest n-byte value needs (43 characters for 32 bytes). Base62 keeps a
// key selectable with one double-click and free of URL-unsafe characters.
func RandomBase62(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	width := len(new(big.Int).Lsh(big.NewInt(1), uint(8*n)).Text(62))
	s := new(big.Int).SetBytes(b).Text(62)
	var sb strings.Builder
	sb.Grow(width)
	for i := len(s); i < width; i++ {
		sb.WriteByte('0')
	}
	sb.WriteString(s)
	return sb.String(), nil
}

// IsBase62 reports whether s uses only base62 characters (both letter cases).
func IsBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// SHA256Hex returns the hex SHA-256 of s: how API keys and refresh tokens are stored.
// They are 256-bit random values, so a fast hash is enough (no dictionary to guess
// from); argon2 is for human passwords.
func SHA256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
