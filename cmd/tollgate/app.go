package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/telemetry"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

// app is the wiring shared by every subcommand: config, logger, database, tenants.
type app struct {
	cfg      config.Config
	logger   *slog.Logger
	db       *database.DB
	registry *tenants.Registry
	// metrics receives the collectors of a job worker running in this process
	// (serve in self-host mode, `tollgate worker`); nil registers none.
	metrics prometheus.Registerer
	// tracing is serve's OpenTelemetry tracing; nil means off.
	tracing *telemetry.Tracing
	// memoryLimit is the soft memory limit serve sets (containerMemoryLimit), 0
	// for none.
	memoryLimit int64
}

// openApp opens the database and applies control-plane migrations (idempotent, and
// serialised by an advisory lock on Postgres, so replicas may all do it).
func openApp(ctx context.Context, cfg config.Config) (*app, error) {
	logger := logging.New(os.Stderr, cfg.Log.Level, cfg.Log.Format)
	profile, err := applyTier(ctx, &cfg)
	if err != nil {
		logger.WarnContext(ctx, "host tier not detected; using built-in sizes", "error", err)
	}
	if cfg.Auth.MasterKey == "" && cfg.Mode == config.ModeSingleTenant {
		key, err := selfHostMasterKey(cfg.DataDir())
		if err != nil {
			return nil, err
		}
		cfg.Auth.MasterKey = key
	}
	db, err := database.Open(ctx, cfg.Database.URL, database.Options{
		MaxOpenConns: cfg.Database.MaxOpenConns,
		MaxIdleConns: cfg.Database.MaxIdleConns,
	})
	if err != nil {
		return nil, err
	}
	if err := migrations.ControlUp(ctx, db.SQL, db.Dialect, logger); err != nil {
		_ = db.Close()
		return nil, err
	}
	clusters := make([]tenants.Cluster, len(cfg.Database.TenantClusters))
	for i, c := range cfg.Database.TenantClusters {
		clusters[i] = tenants.Cluster{Name: c.Name, URL: c.URL}
	}
	return &app{cfg: cfg, logger: logger, db: db, registry: tenants.NewRegistry(db, cfg.DataDir(), logger, clusters...),
		memoryLimit: containerMemoryLimit(profile.Resources)}, nil
}

// selfHostMasterKey loads (or creates on first start) the master key of a self-host
// install from <data dir>/master.key, so webhook and provider secrets can be
// encrypted without configuration. It lives beside the database, not in it: a
// leaked database file alone does not reveal the secrets. Back both up together.
func selfHostMasterKey(dataDir string) (config.Secret, error) {
	path := filepath.Join(dataDir, "master.key")
	if b, err := os.ReadFile(path); err == nil {
		if k := strings.TrimSpace(string(b)); len(k) >= 32 {
			return config.Secret(k), nil
		}
		return "", fmt.Errorf("%s is too short; delete it to generate a new one (sealed secrets become unreadable) or set TOLLGATE_MASTER_KEY", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(dataDir, database.DirMode); err != nil {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	key := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, database.FileMode)
	if errors.Is(err, os.ErrExist) {
		return selfHostMasterKey(dataDir) // another process created it first
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.WriteString(key + "\n"); err != nil {
		return "", err
	}
	return config.Secret(key), f.Sync()
}

func (a *app) Close() {
	a.registry.Close()
	_ = a.db.Close()
}
