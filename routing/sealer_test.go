package routing_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

func TestSealer(t *testing.T) {
	t.Parallel()
	s, err := routing.NewSealer("master-key-one")
	require.NoError(t, err)
	aad := []byte("tenant:t1/provider:openai")
	sealed, err := s.SealString("sk-live-123", aad)
	require.NoError(t, err)
	require.NotContains(t, sealed, "sk-live")

	got, err := s.OpenString(sealed, aad)
	require.NoError(t, err)
	require.Equal(t, "sk-live-123", got.Reveal())

	other, err := routing.NewSealer("master-key-two")
	require.NoError(t, err)
	_, err = other.OpenString(sealed, aad)
	require.ErrorIs(t, err, routing.ErrUnseal, "wrong master key")

	_, err = s.OpenString(sealed, []byte("tenant:t2/provider:openai"))
	require.ErrorIs(t, err, routing.ErrUnseal, "copied to another tenant's row")

	raw, err := s.Seal("sk-live-123", aad)
	require.NoError(t, err)
	for i := range raw {
		tampered := bytes.Clone(raw)
		tampered[i] ^= 0x01
		_, err = s.Open(tampered, aad)
		require.ErrorIs(t, err, routing.ErrUnseal, "byte %d flipped", i)
	}
	_, err = s.Open(raw[:10], aad)
	require.ErrorIs(t, err, routing.ErrUnseal)

	again, err := s.Seal("sk-live-123", aad)
	require.NoError(t, err)
	require.NotEqual(t, raw, again, "fresh nonce per seal")

	_, err = routing.NewSealer("")
	require.Error(t, err)
}

func TestSecretRedacts(t *testing.T) {
	t.Parallel()
	sec := routing.Secret("sk-live-123")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", sec, "cfg", routing.ProviderKeyConfig{APIKey: sec})
	require.NotContains(t, buf.String(), "sk-live")
	require.NotContains(t, fmt.Sprintf("%v %s %+v %#v", sec, sec, routing.ProviderKeyConfig{APIKey: sec}, sec), "sk-live")
}

func TestRegistryFromConfig(t *testing.T) {
	t.Parallel()
	reg, err := routing.NewRegistryFromConfig(routing.ProvidersConfig{
		OpenAI: routing.ProviderKeyConfig{APIKey: "x", BaseURL: "http://127.0.0.1:9000/v1"},
		Sim:    true,
	}, nil, testLogger(t))
	require.NoError(t, err)
	require.Equal(t, []string{"openai", "sim"}, reg.Names())
	c := routing.DefaultCatalog()
	mini, _ := c.Lookup("gpt-4o-mini")
	opus, _ := c.Lookup("claude-opus-4-1")
	require.True(t, reg.Available(mini))
	require.False(t, reg.Available(opus))

	_, err = routing.NewRegistryFromConfig(routing.ProvidersConfig{OpenAI: routing.ProviderKeyConfig{APIKey: "x", BaseURL: "ftp://nope"}}, nil, testLogger(t))
	require.Error(t, err)
}
