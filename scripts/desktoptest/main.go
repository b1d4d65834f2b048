// Command desktoptest checks `tollgate desktop` end to end on a Linux desktop
// session without a real desktop: run it under dbus-run-session with an X server
// (scripts/desktop-test.sh starts Xvfb). It plays the desktop's tray host: it
// owns org.kde.StatusNotifierWatcher on the session bus, waits for the tray icon
// of `tollgate desktop` to register, reads its menu over com.canonical.dbusmenu
// and clicks through it: open console (the page it opens, loaded in headless
// Chromium, must show the console signed in: DOM checked, screenshot saved),
// copy an API key snippet (when xclip is present) and call the gateway with it,
// pause and resume, a second start (opens the console of the running one), and
// quit, after which the process must have exited cleanly.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

type watcher struct {
	mu    sync.Mutex
	items []string // "<sender><path>"
	seen  chan struct{}
}

// RegisterStatusNotifierItem is what a tray icon calls to announce itself.
func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.items = append(w.items, string(sender)+"|"+service)
	select {
	case w.seen <- struct{}{}:
	default:
	}
	return nil
}

// RegisterStatusNotifierHost accepts a host (none in this test but ourselves).
func (w *watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

type item struct {
	id      int32
	label   string
	enabled bool
	toggle  int32
	hasTog  bool
}

func main() {
	bin := flag.String("bin", "bin/tollgate", "tollgate binary")
	chromium := flag.String("chromium", "/usr/bin/chromium", "Chromium for the console screenshot")
	out := flag.String("out", "bin/desktop-test", "directory for the data dir, logs and the screenshot")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("desktop-test: ")
	if err := run(*bin, *chromium, *out); err != nil {
		log.Fatalf("FAIL: %v", err)
	}
	log.Print("PASS")
}

func run(bin, chromium, out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, _ = filepath.Abs(out)
	_ = os.RemoveAll(out)
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	dataDir := filepath.Join(out, "data")
	opened := filepath.Join(out, "opened.txt")
	browser := filepath.Join(out, "browser.sh")
	if err := os.WriteFile(browser, []byte("#!/bin/sh\necho \"$1\" >> '"+opened+"'\n"), 0o755); err != nil {
		return err
	}

	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return fmt.Errorf("no session bus (run under dbus-run-session): %w", err)
	}
	defer conn.Close()
	w := &watcher{seen: make(chan struct{}, 1)}
	if err := conn.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		return err
	}
	if reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("cannot own org.kde.StatusNotifierWatcher: %v", err)
	}

	logPath := filepath.Join(out, "tollgate.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// XDG_CONFIG_HOME keeps the autostart entry the test makes out of the real one.
	xdg := filepath.Join(out, "xdg")
	env := append(os.Environ(), "TOLLGATE_BROWSER="+browser, "TOLLGATE_LOG_LEVEL=info", "XDG_CONFIG_HOME="+xdg)
	cmd := exec.Command(bin, "desktop", "--data-dir", dataDir, "--env-file=")
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()

	// 1. The tray icon registers with the watcher.
	select {
	case <-w.seen:
	case err := <-exited:
		return fmt.Errorf("tollgate desktop exited before its tray registered: %v (log %s)", err, logPath)
	case <-ctx.Done():
		return fmt.Errorf("no StatusNotifierItem registered within the deadline (log %s)", logPath)
	}
	w.mu.Lock()
	sender, path, _ := strings.Cut(w.items[0], "|")
	w.mu.Unlock()
	log.Printf("tray registered after %s: %s %s", time.Since(start).Round(time.Millisecond), sender, path)
	obj := conn.Object(sender, dbus.ObjectPath(path))
	var menuPath dbus.ObjectPath
	if err := obj.Call("org.freedesktop.DBus.Properties.Get", 0, "org.kde.StatusNotifierItem", "Menu").Store(&menuPath); err != nil {
		return fmt.Errorf("item Menu property: %w", err)
	}
	var title string
	_ = obj.Call("org.freedesktop.DBus.Properties.Get", 0, "org.kde.StatusNotifierItem", "Title").Store(&title)
	menu := conn.Object(sender, menuPath)

	// 2. The menu has every entry.
	items, err := layout(menu)
	if err != nil {
		return err
	}
	var labels []string
	for _, it := range items {
		labels = append(labels, it.label)
	}
	log.Printf("menu (title %q): %q", title, labels)
	summary, ok := find(items, "Today ")
	if !ok || !strings.Contains(summary.label, "$") {
		return fmt.Errorf("no spend line (\"Today $…\") in the menu %q", labels)
	}
	for _, want := range []string{"Open console", "Copy API key snippet", "Pause gateway", "Start at login", "Quit Tollgate"} {
		if _, ok := find(items, want); !ok {
			return fmt.Errorf("menu entry %q missing from %q", want, labels)
		}
	}
	if it, _ := find(items, "Start at login"); !it.hasTog {
		return errors.New(`"Start at login" is not a checkbox`)
	}

	// 3. The first run opened the console once.
	if n := lines(opened); n != 1 {
		return fmt.Errorf("first run: want the console opened once, got %d", n)
	}
	base, err := gatewayURL(dataDir)
	if err != nil {
		return err
	}

	// 4. Open console → a signed-in console in Chromium (DOM and screenshot; each
	// page signs in once, so one click per load).
	dom, err := openAndLoad(menu, items, opened, chromium, out, "--dump-dom")
	if err != nil {
		return err
	}
	// Signed in: the shell with the user menu on the tenant's overview, not the login form.
	if !strings.Contains(dom, `class="usermenu"`) || !strings.Contains(dom, "<title>Overview · default") ||
		strings.Contains(dom, "Sign in to the console") {
		_ = os.WriteFile(filepath.Join(out, "console-dom.html"), []byte(dom), 0o600)
		return fmt.Errorf("the console opened from the tray is not signed in (DOM in %s/console-dom.html)", out)
	}
	shot := filepath.Join(out, "console.png")
	if _, err := openAndLoad(menu, items, opened, chromium, out, "--screenshot="+shot); err != nil {
		return err
	}
	if st, err := os.Stat(shot); err != nil || st.Size() < 5000 {
		return fmt.Errorf("no console screenshot at %s", shot)
	}
	log.Printf("open console: signed in; screenshot %s", shot)

	// 5. Copy API key snippet → a key that the gateway accepts.
	if _, err := exec.LookPath("xclip"); err == nil {
		if err := click(menu, items, "Copy API key snippet"); err != nil {
			return err
		}
		var clip []byte
		for i := 0; i < 50; i++ {
			time.Sleep(100 * time.Millisecond)
			if clip, err = exec.Command("xclip", "-o", "-selection", "clipboard").Output(); err == nil && bytes.Contains(clip, []byte("OPENAI_API_KEY=")) {
				break
			}
		}
		key, url := snippetValues(string(clip))
		if key == "" || url != base+"/v1" {
			return fmt.Errorf("clipboard does not hold the snippet for %s/v1: %q", base, clip)
		}
		req, _ := http.NewRequest(http.MethodPost, url+"/chat/completions",
			strings.NewReader(`{"model":"sim-small","messages":[{"role":"user","content":"hello"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("chat completion with the copied key: status %d", resp.StatusCode)
		}
		// The spend line follows (the tray refreshes it every 5 s).
		if err := waitFor(func() bool {
			items, _ = layout(menu)
			it, _ := find(items, "Today ")
			return it.label != "" && !strings.HasPrefix(it.label, "Today $0.00 ")
		}, 20*time.Second); err != nil {
			return fmt.Errorf("the spend line did not move after a request: %q", summary.label)
		}
		it, _ := find(items, "Today ")
		log.Printf("copy API key snippet: the copied key works against the gateway; tray now reads %q", it.label)
	} else {
		log.Print("NOTE: xclip not installed; the clipboard check did not run")
	}

	// 6. Pause stops serving, resume serves again on the same address.
	if err := click(menu, items, "Pause gateway"); err != nil {
		return err
	}
	if err := waitFor(func() bool { return !healthy(base) }, 20*time.Second); err != nil {
		return errors.New("gateway still answers after Pause")
	}
	if err := waitFor(func() bool {
		items, _ = layout(menu)
		_, ok := find(items, "Resume gateway")
		return ok
	}, 10*time.Second); err != nil {
		return errors.New(`no "Resume gateway" entry after Pause`)
	}
	if err := click(menu, items, "Resume gateway"); err != nil {
		return err
	}
	if err := waitFor(func() bool { return healthy(base) }, 30*time.Second); err != nil {
		return errors.New("gateway does not answer after Resume")
	}
	log.Print("pause/resume: stopped and served again on " + base)

	// 7. Start at login writes the XDG autostart entry, and unticking removes it.
	entry := filepath.Join(xdg, "autostart", "tollgate.desktop")
	if err := click(menu, items, "Start at login"); err != nil {
		return err
	}
	if err := waitFor(func() bool {
		raw, err := os.ReadFile(entry)
		return err == nil && strings.Contains(string(raw), "desktop --data-dir")
	}, 10*time.Second); err != nil {
		return fmt.Errorf("Start at login: no autostart entry at %s", entry)
	}
	if err := waitFor(func() bool {
		items, _ = layout(menu)
		it, _ := find(items, "Start at login")
		return it.toggle == 1
	}, 10*time.Second); err != nil {
		return errors.New("Start at login is not ticked after enabling it")
	}
	if err := click(menu, items, "Start at login"); err != nil {
		return err
	}
	if err := waitFor(func() bool { _, err := os.Stat(entry); return errors.Is(err, os.ErrNotExist) }, 10*time.Second); err != nil {
		return errors.New("Start at login: unticking did not remove the autostart entry")
	}
	log.Print("start at login: XDG autostart entry written and removed")

	// 8. A second start opens the console of the running instance and exits.
	before := lines(opened)
	second := exec.CommandContext(ctx, bin, "desktop", "--data-dir", dataDir, "--env-file=")
	second.Env = env
	if b, err := second.CombinedOutput(); err != nil {
		return fmt.Errorf("second start: %v: %s", err, b)
	}
	if err := waitFor(func() bool { return lines(opened) == before+1 }, 10*time.Second); err != nil {
		return errors.New("the second start did not open the console")
	}
	log.Print("second start: handed over to the running instance")

	// 9. Quit stops the gateway cleanly and exits 0.
	items, _ = layout(menu)
	if err := click(menu, items, "Quit Tollgate"); err != nil {
		return err
	}
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("tollgate desktop exited with %v after Quit (log %s)", err, logPath)
		}
	case <-time.After(30 * time.Second):
		return errors.New("tollgate desktop still running 30 s after Quit")
	}
	logText, _ := os.ReadFile(logPath)
	if !bytes.Contains(logText, []byte("tollgate desktop stopped cleanly")) {
		return fmt.Errorf("no clean stop in %s", logPath)
	}
	if healthy(base) {
		return errors.New("the gateway still answers after Quit")
	}
	log.Printf("quit: stopped cleanly; whole run %s", time.Since(start).Round(time.Millisecond))
	return nil
}

// layout reads the menu's top level through com.canonical.dbusmenu.GetLayout.
func layout(menu dbus.BusObject) ([]item, error) {
	var rev uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
		return nil, fmt.Errorf("GetLayout: %w", err)
	}
	var items []item
	for _, c := range root.Children {
		fields, ok := c.Value().([]any)
		if !ok || len(fields) < 2 {
			continue
		}
		it := item{enabled: true}
		it.id, _ = fields[0].(int32)
		props, _ := fields[1].(map[string]dbus.Variant)
		if v, ok := props["label"]; ok {
			it.label, _ = v.Value().(string)
		}
		if v, ok := props["enabled"]; ok {
			it.enabled, _ = v.Value().(bool)
		}
		if v, ok := props["toggle-type"]; ok {
			s, _ := v.Value().(string)
			it.hasTog = s == "checkmark"
		}
		if v, ok := props["toggle-state"]; ok {
			it.toggle, _ = v.Value().(int32)
		}
		if v, ok := props["visible"]; ok {
			if vis, _ := v.Value().(bool); !vis {
				continue
			}
		}
		items = append(items, it)
	}
	return items, nil
}

func find(items []item, prefix string) (item, bool) {
	for _, it := range items {
		if strings.HasPrefix(it.label, prefix) {
			return it, true
		}
	}
	return item{}, false
}

// click sends the dbusmenu "clicked" event a tray host sends.
func click(menu dbus.BusObject, items []item, label string) error {
	it, ok := find(items, label)
	if !ok {
		return fmt.Errorf("no menu entry %q", label)
	}
	return menu.Call("com.canonical.dbusmenu.Event", 0, it.id, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix())).Err
}

// openAndLoad clicks Open console, takes the page it opened and loads it in
// headless Chromium with mode (--dump-dom or --screenshot=FILE).
func openAndLoad(menu dbus.BusObject, items []item, opened, chromium, out, mode string) (string, error) {
	before := lines(opened)
	if err := click(menu, items, "Open console"); err != nil {
		return "", err
	}
	if err := waitFor(func() bool { return lines(opened) > before }, 10*time.Second); err != nil {
		return "", errors.New("open console did not open a browser")
	}
	raw, _ := os.ReadFile(opened)
	all := strings.Fields(string(raw))
	page, err := os.ReadFile(all[len(all)-1])
	if err != nil {
		return "", err
	}
	copyPath := filepath.Join(out, fmt.Sprintf("open-%d.html", before))
	if err := os.WriteFile(copyPath, page, 0o600); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--user-data-dir=" + filepath.Join(out, fmt.Sprintf("chromium-%d", before)),
		"--window-size=1280,800", "--virtual-time-budget=10000", mode, "file://" + copyPath}
	var stdout, stderr bytes.Buffer
	c := exec.CommandContext(ctx, chromium, args...)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("chromium %s: %v: %s", mode, err, tail(stderr.String()))
	}
	return stdout.String(), nil
}

func tail(s string) string {
	if len(s) > 800 {
		return s[len(s)-800:]
	}
	return s
}

func lines(path string) int {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return len(strings.Fields(string(raw)))
}

func gatewayURL(dataDir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dataDir, "desktop.json"))
	if err != nil {
		return "", err
	}
	_, rest, ok := strings.Cut(string(raw), `"url": "`)
	if !ok {
		return "", fmt.Errorf("no url in desktop.json: %s", raw)
	}
	url, _, _ := strings.Cut(rest, `"`)
	return url, nil
}

func healthy(base string) bool {
	c := &http.Client{Timeout: time.Second}
	resp, err := c.Get(base + "/healthz")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func waitFor(cond func() bool, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("timed out")
}

func snippetValues(s string) (key, url string) {
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "export OPENAI_API_KEY="); ok {
			key = v
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "export OPENAI_BASE_URL="); ok {
			url = v
		}
	}
	return key, url
}
