package routing_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/routing"
)

type providerSettingsBundle struct {
	db       *database.DB
	registry *routing.Registry
	est      *routing.Estimator
}

func setupProviderSettings(t *testing.T, backend string) *providerSettingsBundle {
	t.Helper()
	url := testdb.SQLite(t)
	if backend == "postgres" {
		url = testdb.Postgres(t)
	}
	db, err := database.Open(t.Context(), url, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(t.Context(), db.SQL, db.Dialect, testLogger(t)))
	est := routing.NewEstimator(routing.EstimatorConfig{})
	reg, err := routing.NewRegistryFromConfig(routing.ProvidersConfig{Sim: true}, est, testLogger(t))
	require.NoError(t, err)
	return &providerSettingsBundle{db: db, registry: reg, est: est}
}

func (b *providerSettingsBundle) settings(t *testing.T, masterKey string, env routing.ProvidersConfig) *routing.ProviderSettings {
	t.Helper()
	var sealer *seal.Sealer
	if masterKey != "" {
		var err error
		sealer, err = seal.New(seal.Secret(masterKey))
		require.NoError(t, err)
	}
	env.Sim = true
	s, err := routing.NewProviderSettings(routing.ProviderSettingsConfig{Env: env, DB: b.db.Gorm, Sealer: sealer,
		Registry: b.registry, Estimator: b.est}, testLogger(t))
	require.NoError(t, err)
	return s
}

func statusOf(t *testing.T, sts []routing.ProviderStatus, name string) routing.ProviderStatus {
	t.Helper()
	for _, st := range sts {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no status for %s", name)
	return routing.ProviderStatus{}
}

// TestProviderSettingsSealedRoundTrip: a stored key is sealed in settings (no
// plaintext), enables the provider at once, opens again on a restart with the
// same master key, and a wrong master key is a reported problem, not a crash.
func TestProviderSettingsSealedRoundTrip(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setupProviderSettings(t, backend)
			ctx := t.Context()
			const key = "sk-live-very-secret-0123456789"
			s := b.settings(t, "master-key-one", routing.ProvidersConfig{})

			// Given no key anywhere, openai is off.
			_, ok := b.registry.Provider("openai")
			require.False(t, ok)

			// When a superadmin stores one, then it is enabled at once.
			st, err := s.Set(ctx, routing.SetProviderInput{Name: "openai", APIKey: key, BaseURL: ptr("http://127.0.0.1:9/v1/")})
			require.NoError(t, err)
			require.True(t, st.Enabled)
			require.Equal(t, routing.ProviderSourceStored, st.KeySource)
			require.Equal(t, "http://127.0.0.1:9/v1", st.BaseURL)
			_, ok = b.registry.Provider("openai")
			require.True(t, ok)

			// And the database holds no plaintext.
			var value string
			require.NoError(t, b.db.SQL.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = 'provider:openai'").Scan(&value))
			require.NotContains(t, value, key)
			require.NotContains(t, value, "very-secret")
			require.Contains(t, value, "api_key_sealed")

			// Restart with the same master key: it opens.
			again := b.settings(t, "master-key-one", routing.ProvidersConfig{})
			eff, err := again.Effective(ctx)
			require.NoError(t, err)
			require.Equal(t, key, eff.OpenAI.APIKey.Reveal())

			// A sealed value copied to another provider's row does not open (AAD).
			_, err = b.db.SQL.ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES ('provider:anthropic', $1, CURRENT_TIMESTAMP)", value)
			require.NoError(t, err)
			sts, err := again.List(ctx)
			require.NoError(t, err)
			require.NotEmpty(t, statusOf(t, sts, "anthropic").StoredError)
			require.False(t, statusOf(t, sts, "anthropic").Enabled)

			// A wrong master key: a clear status and a reload that keeps serving.
			wrong := b.settings(t, "master-key-two", routing.ProvidersConfig{})
			sts, err = wrong.List(ctx)
			require.NoError(t, err)
			st = statusOf(t, sts, "openai")
			require.False(t, st.Enabled)
			require.Contains(t, st.StoredError, "TOLLGATE_MASTER_KEY")
			require.NoError(t, wrong.Reload(ctx))
			_, ok = b.registry.Provider("openai")
			require.False(t, ok, "an unopenable key must not enable the provider")
			_, ok = b.registry.Provider(routing.SimProviderName)
			require.True(t, ok, "the rest keeps serving")

			// No master key: storing is refused clearly.
			_, err = b.settings(t, "", routing.ProvidersConfig{}).Set(ctx, routing.SetProviderInput{Name: "openai", APIKey: key})
			require.Equal(t, errkind.Unavailable, errkind.Of(err))

			// Delete forgets it.
			_, err = again.Delete(ctx, "openai")
			require.NoError(t, err)
			_, ok = b.registry.Provider("openai")
			require.False(t, ok)
			_, err = again.Delete(ctx, "openai")
			require.Equal(t, errkind.NotFound, errkind.Of(err))
		})
	}
}

// TestProviderSettingsPairsComeFromOneSource: a provider's key and base URL come
// from the same source. The environment's key is never sent to a stored base URL
// (storing one for it is refused), a stored key never to the environment's base
// URL, and a change that omits the base URL keeps the stored one.
func TestProviderSettingsPairsComeFromOneSource(t *testing.T) {
	t.Parallel()
	b := setupProviderSettings(t, "sqlite")
	ctx := t.Context()
	envKey := routing.ProvidersConfig{OpenRouter: routing.ProviderKeyConfig{APIKey: "env-key"}}
	s := b.settings(t, "mk", envKey)

	// Given OPENROUTER_API_KEY in the environment, storing a base URL is refused.
	_, err := s.Set(ctx, routing.SetProviderInput{Name: "openrouter", APIKey: "stored-key", BaseURL: ptr("https://proxy.example/api/v1")})
	require.Equal(t, errkind.Conflict, errkind.Of(err))
	require.Contains(t, err.Error(), "OPENROUTER_API_KEY is set")
	_, err = s.Set(ctx, routing.SetProviderInput{Name: "openrouter", BaseURL: ptr("https://proxy.example/api/v1")})
	require.Equal(t, errkind.Conflict, errkind.Of(err))
	sts, err := s.List(ctx)
	require.NoError(t, err)
	require.False(t, statusOf(t, sts, "openrouter").Stored, "a refused change stores nothing")

	// A stored pair written without the environment's key (say before it was set)
	// stays dormant while the environment's key is set: the environment's pair runs.
	plain := b.settings(t, "mk", routing.ProvidersConfig{})
	_, err = plain.Set(ctx, routing.SetProviderInput{Name: "openrouter", APIKey: "stored-key", BaseURL: ptr("https://proxy.example/api/v1")})
	require.NoError(t, err)
	eff, err := s.Effective(ctx)
	require.NoError(t, err)
	require.Equal(t, "env-key", eff.OpenRouter.APIKey.Reveal())
	require.Empty(t, eff.OpenRouter.BaseURL, "the environment's key goes to the default, not to the stored base URL")
	sts, err = s.List(ctx)
	require.NoError(t, err)
	st := statusOf(t, sts, "openrouter")
	require.Equal(t, routing.ProviderSourceEnv, st.KeySource)
	require.Equal(t, routing.ProviderSourceNone, st.BaseURLSource)
	require.Equal(t, routing.DefaultOpenRouterBaseURL, st.BaseURL)

	// The reverse: OPENROUTER_BASE_URL alone never receives the stored key.
	envURL := b.settings(t, "mk", routing.ProvidersConfig{OpenRouter: routing.ProviderKeyConfig{BaseURL: "https://env-proxy.example/v1"}})
	eff, err = envURL.Effective(ctx)
	require.NoError(t, err)
	require.Equal(t, "stored-key", eff.OpenRouter.APIKey.Reveal())
	require.Equal(t, "https://proxy.example/api/v1", eff.OpenRouter.BaseURL)
	_, err = plain.Set(ctx, routing.SetProviderInput{Name: "openrouter", BaseURL: ptr("")})
	require.NoError(t, err)
	eff, err = envURL.Effective(ctx)
	require.NoError(t, err)
	require.Empty(t, eff.OpenRouter.BaseURL, "the stored key with the default, not OPENROUTER_BASE_URL")

	// A base-URL-only change keeps the stored key; a key-only change keeps the base URL.
	_, err = plain.Set(ctx, routing.SetProviderInput{Name: "openrouter", BaseURL: ptr("https://other.example/api/v1")})
	require.NoError(t, err)
	_, err = plain.Set(ctx, routing.SetProviderInput{Name: "openrouter", APIKey: "new-key"})
	require.NoError(t, err)
	eff, err = plain.Effective(ctx)
	require.NoError(t, err)
	require.Equal(t, "new-key", eff.OpenRouter.APIKey.Reveal())
	require.Equal(t, "https://other.example/api/v1", eff.OpenRouter.BaseURL)
}

func ptr[T any](v T) *T { return &v }

func TestSetProviderInputValidate(t *testing.T) {
	t.Parallel()
	b := setupProviderSettings(t, "sqlite")
	s := b.settings(t, "mk", routing.ProvidersConfig{})
	for _, tc := range []struct {
		name string
		in   routing.SetProviderInput
		kind *errkind.Kind
		msg  string
	}{
		{"unknown provider", routing.SetProviderInput{Name: "sim", APIKey: "k"}, errkind.NotFound, "provider"},
		{"first store needs a key", routing.SetProviderInput{Name: "anthropic"}, errkind.Invalid, "api_key is required"},
		{"not a URL", routing.SetProviderInput{Name: "openai", APIKey: "k", BaseURL: ptr("localhost:9000")}, errkind.Invalid, "absolute http(s)"},
		{"credentials in URL", routing.SetProviderInput{Name: "openai", APIKey: "k", BaseURL: ptr("https://u:p@x.example/v1")}, errkind.Invalid, "credentials"},
		{"whitespace in key", routing.SetProviderInput{Name: "openai", APIKey: "a b"}, errkind.Invalid, "whitespace"},
	} {
		_, err := s.Set(t.Context(), tc.in)
		require.Equal(t, tc.kind, errkind.Of(err), tc.name)
		require.True(t, strings.Contains(err.Error(), tc.msg), "%s: %v", tc.name, err)
	}
}
