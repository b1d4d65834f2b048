package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/database/backup"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

func newBackupCmd(g *globalFlags) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "backup [--dir D]",
		Short: "Back up the databases now (SQLite: VACUUM INTO; Postgres: pg_dump --format=custom)",
		Long: "Writes a timestamped folder under --dir (default TOLLGATE_BACKUP_DIR, data/backups) and keeps the newest " +
			"TOLLGATE_BACKUP_KEEP. Safe while the server runs. The worker also backs up every TOLLGATE_BACKUP_INTERVAL.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			if dir == "" {
				dir = a.cfg.Worker.BackupDir
			}
			out, err := backup.Take(cmd.Context(), a.db, backup.Config{Dir: dir, Keep: a.cfg.Worker.BackupKeep, DataDir: a.cfg.DataDir()}, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "backup written to", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder receiving the backup (default TOLLGATE_BACKUP_DIR)")
	return cmd
}

func newRestoreCmd(g *globalFlags) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "restore --from D",
		Short: "Replace the SQLite databases with a backup folder (stop serve and worker first)",
		Long: "Restores a folder written by `tollgate backup` into the configured data folder, replacing each file " +
			"atomically by rename. It refuses while a tollgate serve or worker holds the data folder. For Postgres, " +
			"restore the dump with: pg_restore --clean --if-exists --no-owner --dbname=$TOLLGATE_DATABASE_URL <D>/tollgate.pgdump",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			if cfg.DatabaseDriver() != config.DriverSQLite {
				return errkind.New(errkind.Invalid, "restore handles SQLite; for Postgres run: pg_restore --clean --if-exists --no-owner --dbname=<url> %s/tollgate.pgdump", from)
			}
			files, err := backup.RestoreSQLite(cmd.Context(), backup.RestoreInput{From: from, ControlPath: cfg.SQLitePath(), DataDir: cfg.DataDir()})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %d database files from %s\n", len(files), from)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "backup folder (data/backups/<timestamp>)")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}
