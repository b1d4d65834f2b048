package accounts

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	h := NewHasher(TestPasswordParams())
	hash, err := h.Hash(t.Context(), "correct horse battery")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=1024,t=1,p=1$"), hash)
	ok, err := h.Verify(t.Context(), "correct horse battery", hash)
	require.NoError(t, err)
	require.True(t, ok)

	// A hasher with other parameters still verifies: they are read from the hash.
	ok, err = NewHasher(DefaultPasswordParams()).Verify(t.Context(), "correct horse battery", hash)
	require.NoError(t, err)
	require.True(t, ok)

	for _, bad := range []struct{ pw, hash string }{
		{"wrong", hash},
		{"correct horse battery", ""},
		{"correct horse battery", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$a2V5"},
		{"correct horse battery", strings.Replace(hash, "m=1024", "m=99999999", 1)}, // tampered cost
		{"correct horse battery", hash[:len(hash)-4]},
	} {
		ok, err := h.Verify(t.Context(), bad.pw, bad.hash)
		require.NoError(t, err)
		require.False(t, ok, "%q", bad.hash)
	}
	other, err := h.Hash(t.Context(), "correct horse battery")
	require.NoError(t, err)
	require.NotEqual(t, hash, other, "salted")
}

// BenchmarkLogin measures one password verification with the production
// parameters (64 MiB, 1 iteration, 2 lanes): the cost of a login.
func BenchmarkLogin(b *testing.B) {
	h := NewHasher(DefaultPasswordParams())
	hash, err := h.Hash(b.Context(), "correct horse battery")
	require.NoError(b, err)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		ok, err := h.Verify(b.Context(), "correct horse battery", hash)
		if err != nil || !ok {
			b.Fatal("verify failed")
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/login")
}
