package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := Parse(map[string]string{})
	require.NoError(t, err)
	require.Equal(t, ":8080", c.Addr)
	require.Equal(t, ModeSingleTenant, c.Mode, "SQLite defaults to self-host mode")
	require.Equal(t, DriverSQLite, c.DatabaseDriver())
	require.True(t, c.Providers.Sim, "self-host answers without provider keys")
	require.Equal(t, "data/spool", c.SpoolDir)
	require.Empty(t, c.HTTP.TrustedProxies)

	pg, err := Parse(map[string]string{"TOLLGATE_DATABASE_URL": "postgres://u@db:5432/tg", "TOLLGATE_REDIS_URL": "r1:7001,r2:7002"})
	require.NoError(t, err)
	require.Equal(t, ModeMultiTenant, pg.Mode)
	require.False(t, pg.Providers.Sim)
	require.True(t, pg.RedisCluster())
	require.Equal(t, []string{"r1:7001", "r2:7002"}, pg.RedisAddrs())
}

// Every bad value stops start-up with a message naming its variable.
func TestInvalidValuesNameTheirVariable(t *testing.T) {
	t.Parallel()
	for key, val := range map[string]string{
		"TOLLGATE_ADDR":              "localhost",
		"TOLLGATE_MODE":              "galaxy",
		"TOLLGATE_DATABASE_URL":      "mysql://root@db/x",
		"TOLLGATE_REDIS_URL":         "redis://",
		"TOLLGATE_DB_MAX_OPEN_CONNS": "-3",
		"TOLLGATE_METER_FAIL_OPEN":   "maybe",
		"TOLLGATE_SHUTDOWN_GRACE":    "soon",
		"TOLLGATE_LOG_LEVEL":         "loud",
		"TOLLGATE_JWT_SECRET":        "short",
		"OPENAI_BASE_URL":            "ftp://x",
		"TOLLGATE_TRUSTED_PROXIES":   "10.0.0.0/8,not-an-ip",
		"TOLLGATE_PPROF_ADDR":        "0.0.0.0:6060",
	} {
		_, err := Parse(map[string]string{key: val})
		require.Error(t, err, key)
		require.Contains(t, err.Error(), key, "the error names the variable")
		require.NotContains(t, OneLine(err), "\n")
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	t.Parallel()
	c, err := Parse(map[string]string{"STRIPE_API_KEY": "sk_test_123", "TOLLGATE_DATABASE_URL": "postgres://u:hunter2@db:5432/x"})
	require.NoError(t, err)
	require.Equal(t, "[redacted]", c.Stripe.APIKey.String())
	_, err = Parse(map[string]string{"TOLLGATE_DATABASE_URL": "mysql://u:hunter2@db/x"})
	require.Error(t, err)
	require.False(t, strings.Contains(err.Error(), "hunter2"), "a password never reaches an error message")
}
