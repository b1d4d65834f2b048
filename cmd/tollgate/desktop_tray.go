package main

import (
	"context"
	_ "embed"
	"log/slog"
	"runtime"
	"time"

	"fyne.io/systray"
)

// The tray icon: PNG for Linux (StatusNotifierItem) and macOS, ICO for Windows.
var (
	//go:embed desktop_icon.png
	trayIconPNG []byte
	//go:embed desktop_icon.ico
	trayIconICO []byte
)

// Tray menu titles. The desktop tray test reads them back over D-Bus.
const (
	trayOpenConsole = "Open console"
	trayCopySnippet = "Copy API key snippet"
	trayPause       = "Pause gateway"
	trayResume      = "Resume gateway"
	trayAutostart   = "Start at login"
	trayQuit        = "Quit Tollgate"
)

// trayActions are what the menu does; desktop wires them to the gateway.
type trayActions struct {
	summary     func(ctx context.Context) (string, error)
	openConsole func()
	copySnippet func() error
	pause       func() error
	resume      func() error
	autostart   autostartEntry
	logger      *slog.Logger
}

// runTray shows the tray icon and blocks until Quit is chosen or ctx ends. Where
// the desktop has no tray (no StatusNotifierWatcher on the session bus, or no
// session bus at all) the library logs that and the gateway runs on without one.
func runTray(ctx context.Context, a trayActions) {
	stop := context.AfterFunc(ctx, systray.Quit)
	defer stop()
	systray.Run(func() { trayReady(ctx, a) }, func() {})
}

func trayReady(ctx context.Context, a trayActions) {
	if runtime.GOOS == "windows" {
		systray.SetIcon(trayIconICO)
	} else {
		systray.SetIcon(trayIconPNG)
	}
	systray.SetTitle("Tollgate")
	systray.SetTooltip("Tollgate gateway")

	summary := systray.AddMenuItem("Today: …", "Today's spend and the tenant budget")
	summary.Disable()
	systray.AddSeparator()
	open := systray.AddMenuItem(trayOpenConsole, "Open the console in the browser, signed in")
	copyKey := systray.AddMenuItem(trayCopySnippet, "Copy OPENAI_BASE_URL and OPENAI_API_KEY for this gateway")
	pause := systray.AddMenuItem(trayPause, "Stop serving requests until resumed")
	autostart := systray.AddMenuItemCheckbox(trayAutostart, "Start Tollgate when you log in", a.autostart.enabled())
	systray.AddSeparator()
	quit := systray.AddMenuItem(trayQuit, "Stop the gateway and quit")

	paused := false
	refresh := func() {
		if paused {
			summary.SetTitle("Paused")
			systray.SetTooltip("Tollgate (paused)")
			return
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		text, err := a.summary(rctx)
		if err != nil {
			a.logger.WarnContext(ctx, "tray summary", "error", err)
			text = "Spend unavailable"
		}
		summary.SetTitle(text)
		systray.SetTooltip("Tollgate: " + text)
	}
	refresh()
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				refresh()
			case <-open.ClickedCh:
				a.openConsole()
			case <-copyKey.ClickedCh:
				if err := a.copySnippet(); err != nil {
					a.logger.ErrorContext(ctx, "copy API key snippet", "error", err)
					copyKey.SetTooltip("Copy failed: " + err.Error())
				}
			case <-pause.ClickedCh:
				if paused {
					if err := a.resume(); err != nil {
						a.logger.ErrorContext(ctx, "resume the gateway", "error", err)
						continue
					}
					paused = false
					pause.SetTitle(trayPause)
					open.Enable()
					copyKey.Enable()
				} else {
					if err := a.pause(); err != nil {
						a.logger.ErrorContext(ctx, "pause the gateway", "error", err)
					}
					paused = true
					pause.SetTitle(trayResume)
					open.Disable()
					copyKey.Disable()
				}
				refresh()
			case <-autostart.ClickedCh:
				var err error
				if autostart.Checked() {
					err = a.autostart.disable()
				} else {
					err = a.autostart.enable()
				}
				if err != nil {
					a.logger.ErrorContext(ctx, "start at login", "error", err)
				}
				if a.autostart.enabled() {
					autostart.Check()
				} else {
					autostart.Uncheck()
				}
			case <-quit.ClickedCh:
				systray.Quit()
				return
			}
		}
	}()
}
