package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

// app is the wiring shared by every subcommand: config, logger, database, tenants.
type app struct {
	cfg      config.Config
	logger   *slog.Logger
	db       *database.DB
	registry *tenants.Registry
}

// openApp opens the database and applies control-plane migrations (idempotent, and
// serialised by an advisory lock on Postgres, so replicas may all do it).
func openApp(ctx context.Context, cfg config.Config) (*app, error) {
	logger := logging.New(os.Stderr, cfg.Log.Level, cfg.Log.Format)
	if _, err := applyTier(ctx, &cfg); err != nil {
		logger.WarnContext(ctx, "host tier not detected; using built-in sizes", "error", err)
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
	return &app{cfg: cfg, logger: logger, db: db, registry: tenants.NewRegistry(db, cfg.DataDir(), logger)}, nil
}

func (a *app) Close() {
	a.registry.Close()
	_ = a.db.Close()
}
