package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/testdb"
)

type composeFile struct {
	Services map[string]struct {
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Build       *struct {
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
	} `yaml:"services"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docker-compose.yml"))
	require.NoError(t, err)
	var cf composeFile
	require.NoError(t, yaml.Unmarshal(raw, &cf))
	return cf
}

// The compose file must pass only variables internal/config knows, with values it
// accepts, to both the api and the worker.
func TestComposeEnvIsValidConfig(t *testing.T) {
	t.Parallel()
	cf := readCompose(t)
	for _, name := range []string{"api", "worker"} {
		svc, ok := cf.Services[name]
		require.True(t, ok, "service %s", name)
		require.NotNil(t, svc.Build)
		require.Equal(t, "infra/Dockerfile", svc.Build.Dockerfile)
		for k := range svc.Environment {
			require.True(t, strings.HasPrefix(k, "TOLLGATE_") || strings.HasPrefix(k, "STRIPE_"), "unknown variable %s in %s", k, name)
		}
		cfg, err := config.Parse(svc.Environment)
		require.NoError(t, err, name)
		require.Equal(t, config.ModeMultiTenant, cfg.Mode)
		require.True(t, cfg.RedisCluster(), "compose runs a Redis Cluster")
		require.Len(t, cfg.RedisAddrs(), 3)
	}
	require.Equal(t, []string{"serve"}, cf.Services["api"].Command)
	require.Equal(t, []string{"worker", "--metrics-addr=:9090"}, cf.Services["worker"].Command, "the worker's health check needs its /healthz")
}

// The binary starts and answers /healthz with exactly the api service's env, the
// compose host names swapped for this machine's test services.
func TestServeStartsWithComposeEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	for k, v := range readCompose(t).Services["api"].Environment {
		env[k] = v
	}
	env["TOLLGATE_DATABASE_URL"] = testdb.Postgres(t)
	env["TOLLGATE_REDIS_URL"] = "" // the meter is covered by its own tests
	env["TOLLGATE_ADDR"] = "127.0.0.1:0"
	env["TOLLGATE_SPOOL_DIR"] = filepath.Join(t.TempDir(), "spool") // not ./data under the package
	env["TOLLGATE_LOG_LEVEL"] = "warn"
	cfg, err := config.Parse(env)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	cancel()
	require.NoError(t, <-done)
}

// The Dockerfile builds in stages from pinned images and runs as a non-root user.
func TestDockerfileShape(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "infra", "Dockerfile"))
	require.NoError(t, err)
	df := string(raw)
	var froms []string
	for _, line := range strings.Split(df, "\n") {
		if strings.HasPrefix(line, "FROM ") {
			froms = append(froms, line)
			image := strings.Fields(line)[1]
			require.Contains(t, image, ":", "base image %s must be pinned", image)
			require.NotContains(t, image, ":latest", "base image %s must be pinned", image)
		}
	}
	require.Len(t, froms, 3, "node, go and runtime stages")
	require.Contains(t, df, "-trimpath")
	require.Contains(t, df, "USER 10001")
	require.Contains(t, df, `ENTRYPOINT ["tollgate"]`)
}
