package seal_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/seal"
)

func TestSealer(t *testing.T) {
	t.Parallel()
	s, err := seal.New("master-key-one")
	require.NoError(t, err)
	aad := []byte("tenant:t1/provider:openai")
	sealed, err := s.SealString("sk-live-123", aad)
	require.NoError(t, err)
	require.NotContains(t, sealed, "sk-live")

	got, err := s.OpenString(sealed, aad)
	require.NoError(t, err)
	require.Equal(t, "sk-live-123", got.Reveal())

	other, err := seal.New("master-key-two")
	require.NoError(t, err)
	_, err = other.OpenString(sealed, aad)
	require.ErrorIs(t, err, seal.ErrUnseal, "wrong master key")

	_, err = s.OpenString(sealed, []byte("tenant:t2/provider:openai"))
	require.ErrorIs(t, err, seal.ErrUnseal, "copied to another tenant's row")

	raw, err := s.Seal("sk-live-123", aad)
	require.NoError(t, err)
	for i := range raw {
		tampered := bytes.Clone(raw)
		tampered[i] ^= 0x01
		_, err = s.Open(tampered, aad)
		require.ErrorIs(t, err, seal.ErrUnseal, "byte %d flipped", i)
	}
	_, err = s.Open(raw[:10], aad)
	require.ErrorIs(t, err, seal.ErrUnseal)

	again, err := s.Seal("sk-live-123", aad)
	require.NoError(t, err)
	require.NotEqual(t, raw, again, "fresh nonce per seal")

	_, err = seal.New("")
	require.Error(t, err)
}

func TestSecretRedacts(t *testing.T) {
	t.Parallel()
	sec := seal.Secret("sk-live-123")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", sec, "cfg", struct{ APIKey seal.Secret }{sec})
	require.NotContains(t, buf.String(), "sk-live")
	require.NotContains(t, fmt.Sprintf("%v %s %+v %#v", sec, sec, struct{ APIKey seal.Secret }{sec}, sec), "sk-live")
}
