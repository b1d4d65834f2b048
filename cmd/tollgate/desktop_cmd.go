package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/logging"
)

// desktopFirstRunMarker exists once the console was opened on a first run.
const desktopFirstRunMarker = "first-run-done"

// desktopOptions are `tollgate desktop`'s flags.
type desktopOptions struct {
	dataDir   string
	noTray    bool
	noBrowser bool
}

func newDesktopCmd(g *globalFlags) *cobra.Command {
	var o desktopOptions
	cmd := &cobra.Command{
		Use:   "desktop [--data-dir DIR] [--no-tray] [--no-browser]",
		Short: "Run the self-host gateway for this user on a free local port, with a tray icon",
		Long: `Runs the self-host gateway (SQLite, one tenant) on 127.0.0.1 on a free port, with
its data in the per-user directory. On the first run it opens the console in the
browser, signed in. Where the desktop has a tray it shows an icon whose menu has
today's spend against the budget, open console, copy an API key snippet,
pause/resume, start at login and quit. One instance runs per user: starting it
again opens the console of the running one.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDesktop(cmd.Context(), g, o, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&o.dataDir, "data-dir", "", "per-user data directory (default: the user's config directory + /tollgate)")
	cmd.Flags().BoolVar(&o.noTray, "no-tray", false, "run without a tray icon (stop with Ctrl-C)")
	cmd.Flags().BoolVar(&o.noBrowser, "no-browser", false, "never open the browser by itself")
	return cmd
}

func runDesktop(ctx context.Context, g *globalFlags, o desktopOptions, stderr io.Writer) error {
	dir := o.dataDir
	if dir == "" {
		var err error
		if dir, err = defaultDesktopDir(); err != nil {
			return err
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	release, err := lockDesktop(dir)
	if errors.Is(err, errDesktopRunning) {
		if err := askRunningToOpen(ctx, dir); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "tollgate desktop is already running; asked it to open the console")
		return nil
	}
	if err != nil {
		return err
	}
	defer release()

	prev, _ := readDesktopState(dir)
	addr, err := freeLoopbackAddr(prev.URL)
	if err != nil {
		return err
	}
	cfg, err := desktopConfig(g, dir, addr)
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "tollgate.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	logger := logging.New(io.MultiWriter(stderr, logFile), cfg.Log.Level, cfg.Log.Format)

	// The generated admin password (first run) goes to a file only this user reads.
	notices, err := os.OpenFile(filepath.Join(dir, "admin-password.txt"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer notices.Close()
	gw := &desktopGateway{cfg: cfg, dir: dir, out: notices}
	if err := gw.start(ctx); err != nil {
		return err
	}
	_, url, _ := gw.running()
	openConsole := func() {
		page, err := gw.signInPage(ctx)
		if err != nil {
			logger.ErrorContext(ctx, "open console", "error", err)
			return
		}
		if err := openURL(cfg.Desktop.Browser, page); err != nil {
			logger.ErrorContext(ctx, "open console", "error", err)
		}
	}
	control, err := startControl(openConsole)
	if err != nil {
		_ = gw.stop()
		return err
	}
	defer control.close()
	if err := writeDesktopState(dir, desktopState{PID: os.Getpid(), URL: url, Control: control.addr(), Token: control.token}); err != nil {
		_ = gw.stop()
		return err
	}
	logger.InfoContext(ctx, "tollgate desktop running", "url", url, "data_dir", dir)

	marker := filepath.Join(dir, desktopFirstRunMarker)
	if !o.noBrowser && !fileExists(marker) {
		openConsole()
		_ = os.WriteFile(marker, nil, 0o600)
	}

	if o.noTray {
		<-ctx.Done()
	} else {
		var args []string
		if o.dataDir != "" {
			args = []string{"--data-dir", dir}
		}
		entry, err := newAutostart(append([]string{"desktop"}, args...))
		if err != nil {
			return err
		}
		runTray(ctx, trayActions{
			summary: func(ctx context.Context) (string, error) {
				s, err := gw.summary(ctx)
				return s.String(), err
			},
			openConsole: openConsole,
			copySnippet: func() error {
				text, err := gw.apiKeySnippet(ctx)
				if err != nil {
					return err
				}
				return copyToClipboard(text)
			},
			pause:     gw.pause,
			resume:    func() error { return gw.resume(ctx) },
			autostart: entry,
			logger:    logger,
		})
	}
	logger.InfoContext(ctx, "tollgate desktop stopping")
	err = gw.stop()
	st := desktopState{URL: url}
	_ = writeDesktopState(dir, st)
	if err != nil {
		return err
	}
	logger.InfoContext(ctx, "tollgate desktop stopped cleanly")
	return nil
}

// desktopConfig is the environment with the desktop's settings over it: single
// tenant, SQLite in dir, no Redis, listening on addr (loopback). A database URL
// given with --database-url wins over the SQLite default.
func desktopConfig(g *globalFlags, dir, addr string) (config.Config, error) {
	base, err := g.loadConfig()
	if err != nil && base.Env == nil {
		return base, err
	}
	env := maps.Clone(base.Env)
	env["TOLLGATE_MODE"] = string(config.ModeSingleTenant)
	env["TOLLGATE_ADDR"] = addr
	env["TOLLGATE_REDIS_URL"] = ""
	if g.databaseURL == "" || !strings.HasPrefix(g.databaseURL, "sqlite") {
		env["TOLLGATE_DATABASE_URL"] = "sqlite://" + filepath.ToSlash(filepath.Join(dir, "tollgate.db"))
	}
	env["TOLLGATE_SPOOL_DIR"] = filepath.Join(dir, "spool")
	if env["TOLLGATE_BACKUP_DIR"] == "" {
		env["TOLLGATE_BACKUP_DIR"] = filepath.Join(dir, "backups")
	}
	return config.Parse(env)
}
