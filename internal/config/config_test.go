package config

import (
	"fmt"
	"maps"
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
		"TOLLGATE_MASTER_KEY":        "0123456789abcdef0123456789abcde", // 31 bytes
		"TOLLGATE_METRICS_TOKEN":     "short",
		"TOLLGATE_METRICS_ADDR":      "nine-thousand",
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

// TOLLGATE_MASTER_KEY derives the sealing key: under 32 bytes it is refused with a
// message that says how to make one; 32 bytes is enough.
func TestMasterKeyLength(t *testing.T) {
	t.Parallel()
	_, err := Parse(map[string]string{"TOLLGATE_MASTER_KEY": "change-me"})
	require.Error(t, err)
	require.Contains(t, err.Error(), "TOLLGATE_MASTER_KEY: too short (9 bytes): use at least 32 bytes")
	require.NotContains(t, err.Error(), "change-me", "the key never reaches an error message")
	c, err := Parse(map[string]string{"TOLLGATE_MASTER_KEY": strings.Repeat("k", 32)})
	require.NoError(t, err)
	require.Len(t, c.Auth.MasterKey.Reveal(), 32)
}

// TOLLGATE_METRICS_TOKEN and TOLLGATE_METRICS_ADDR parse, and the metrics listener
// may not be the API's.
func TestMetricsSettings(t *testing.T) {
	t.Parallel()
	c, err := Parse(map[string]string{"TOLLGATE_METRICS_TOKEN": "scrape-token-0123456789", "TOLLGATE_METRICS_ADDR": "127.0.0.1:9090"})
	require.NoError(t, err)
	require.Equal(t, "scrape-token-0123456789", c.HTTP.MetricsToken.Reveal())
	require.Equal(t, "[redacted]", c.HTTP.MetricsToken.String())
	require.Equal(t, "127.0.0.1:9090", c.HTTP.MetricsAddr)
	_, err = Parse(map[string]string{"TOLLGATE_ADDR": ":8080", "TOLLGATE_METRICS_ADDR": ":8080"})
	require.ErrorContains(t, err, "TOLLGATE_METRICS_ADDR")
	_, err = Parse(map[string]string{"TOLLGATE_METRICS_TOKEN": "has a space in it 0123456789"})
	require.ErrorContains(t, err, "TOLLGATE_METRICS_TOKEN")
}

func TestOIDCSettings(t *testing.T) {
	t.Parallel()
	full := map[string]string{"TOLLGATE_MODE": "single-tenant", "TOLLGATE_OIDC_ISSUER": "https://login.example.com",
		"TOLLGATE_OIDC_CLIENT_ID": "tollgate", "TOLLGATE_OIDC_CLIENT_SECRET": "s3cret", "TOLLGATE_OIDC_ALLOWED_DOMAINS": " Example.com, example.org ",
		"TOLLGATE_OIDC_ROLE_MAPPING": "ops=admin, devs=developer", "TOLLGATE_OIDC_REQUIRED": "1"}
	c, err := Parse(full)
	require.NoError(t, err)
	require.Equal(t, []string{"example.com", "example.org"}, c.OIDC.AllowedDomains)
	require.Equal(t, []OIDCGroupRole{{Group: "ops", Role: "admin"}, {Group: "devs", Role: "developer"}}, c.OIDC.RoleMapping)
	require.True(t, c.OIDC.Required)
	require.NotContains(t, fmt.Sprintf("%v %+v", c.OIDC, c.OIDC), "s3cret")

	for key, val := range map[string]string{
		"TOLLGATE_OIDC_ISSUER":          "login.example.com",
		"TOLLGATE_OIDC_CLIENT_ID":       "",
		"TOLLGATE_OIDC_CLIENT_SECRET":   "",
		"TOLLGATE_OIDC_ALLOWED_DOMAINS": "",
		"TOLLGATE_OIDC_ROLE_MAPPING":    "ops=root",
		"TOLLGATE_OIDC_DEFAULT_ROLE":    "superadmin",
	} {
		env := maps.Clone(full)
		env[key] = val
		_, err := Parse(env)
		require.Error(t, err, key)
		require.Contains(t, err.Error(), key, "the error names the variable")
	}
	// Multi-tenant mode: each tenant configures its own provider.
	env := maps.Clone(full)
	env["TOLLGATE_MODE"] = "multi-tenant"
	_, err = Parse(env)
	require.ErrorContains(t, err, "TOLLGATE_OIDC_ISSUER")
	require.ErrorContains(t, err, "in the console")
}

func TestTenantClusters(t *testing.T) {
	t.Parallel()
	const control = "postgres://u@db:5432/tg"
	c, err := Parse(map[string]string{"TOLLGATE_DATABASE_URL": control})
	require.NoError(t, err)
	require.Empty(t, c.Database.TenantClusters, "default: the control database is the only cluster")

	c, err = Parse(map[string]string{"TOLLGATE_DATABASE_URL": control,
		"TOLLGATE_TENANT_DATABASE_URLS": " eu-1=postgres://u:pw@db2:5432/tg?sslmode=disable , eu_2=postgresql://u@db3/tg"})
	require.NoError(t, err)
	require.Equal(t, []TenantCluster{{Name: "eu-1", URL: "postgres://u:pw@db2:5432/tg?sslmode=disable"}, {Name: "eu_2", URL: "postgresql://u@db3/tg"}},
		c.Database.TenantClusters)

	for name, tc := range map[string]struct{ db, clusters, want string }{
		"sqlite control":       {"sqlite://./data/x.db", "b=postgres://u@db2/tg", "need TOLLGATE_DATABASE_URL on Postgres"},
		"no equals":            {control, "postgres://u@db2/tg", "not name=postgres"},
		"main is reserved":     {control, "main=postgres://u@db2/tg", "control database's cluster name"},
		"bad name":             {control, "Big Cluster=postgres://u@db2/tg", "lowercase letters"},
		"listed twice":         {control, "b=postgres://u@db2/tg,b=postgres://u@db3/tg", "listed twice"},
		"not postgres":         {control, "b=mysql://u@db2/tg", "not a postgres URL"},
		"same as control":      {control, "b=postgres://other@DB/tg", "already configured"},
		"two names, one db":    {control, "b=postgres://u@db2/tg,c=postgres://u@db2:5432/tg", "already configured"},
		"password not printed": {control, "b=mysql://u:hunter2@db2/tg", "not a postgres URL"},
	} {
		_, err := Parse(map[string]string{"TOLLGATE_DATABASE_URL": tc.db, "TOLLGATE_TENANT_DATABASE_URLS": tc.clusters})
		require.Error(t, err, name)
		require.Contains(t, err.Error(), "TOLLGATE_TENANT_DATABASE_URLS", name)
		require.Contains(t, err.Error(), tc.want, name)
		require.NotContains(t, err.Error(), "hunter2", name)
	}
}
