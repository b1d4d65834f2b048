package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
)

// One desktop instance per user: the first `tollgate desktop` holds an exclusive
// lock on <dir>/desktop.lock (the operating system drops it when the process dies,
// so a crash leaves no stale lock) and serves a small control endpoint on loopback.
// A second start finds the lock taken, reads the endpoint and its token from
// <dir>/desktop.json (0600, so only this user can drive the first instance) and
// asks it to open the console, then exits.

// desktopState is <dir>/desktop.json, written by the running instance.
type desktopState struct {
	PID int `json:"pid"`
	// URL is the gateway's base URL (http://127.0.0.1:PORT); kept after exit so the
	// next start reuses the port when it is free.
	URL string `json:"url"`
	// Control is the control endpoint's address; Token authorises calls to it.
	Control string `json:"control"`
	Token   string `json:"token"`
}

const (
	desktopLockFile  = "desktop.lock"
	desktopStateFile = "desktop.json"
)

// errDesktopRunning means another instance holds the lock.
var errDesktopRunning = errors.New("another tollgate desktop is running for this user")

// defaultDesktopDir is the per-user data directory: ~/.config/tollgate on Linux
// ($XDG_CONFIG_HOME), ~/Library/Application Support/Tollgate on macOS,
// %AppData%\Tollgate on Windows.
func defaultDesktopDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", errkind.Wrap(errkind.Invalid, err, "no per-user config directory; pass --data-dir")
	}
	name := "tollgate"
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		name = "Tollgate"
	}
	return filepath.Join(base, name), nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func readDesktopState(dir string) (desktopState, error) {
	var st desktopState
	raw, err := os.ReadFile(filepath.Join(dir, desktopStateFile))
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(raw, &st)
}

// writeDesktopState replaces the state file atomically, readable by this user only.
func writeDesktopState(dir string, st desktopState) error {
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, desktopStateFile+".tmp")
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, desktopStateFile))
}

// controlServer is the running instance's loopback endpoint: POST /open opens the
// console (a second start calls it). Every call must carry the token.
type controlServer struct {
	ln    net.Listener
	srv   *http.Server
	token string
}

func startControl(open func()) (*controlServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	token, err := seal.RandomBase62(32)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	c := &controlServer{ln: ln, token: token}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /open", func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("Authorization")
		if subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+c.token)) != 1 {
			http.Error(w, "unauthorised", http.StatusUnauthorized)
			return
		}
		go open()
		w.WriteHeader(http.StatusNoContent)
	})
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

func (c *controlServer) addr() string { return c.ln.Addr().String() }

func (c *controlServer) close() { _ = c.srv.Close() }

// askRunningToOpen tells the running instance to open the console. The first
// instance may still be starting (lock taken, state not yet written): retry for a
// few seconds.
func askRunningToOpen(ctx context.Context, dir string) error {
	deadline := time.Now().Add(15 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		last = tryOpen(ctx, dir)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return errkind.Wrap(errkind.Unavailable, last, "tollgate desktop is already running (%s) but does not answer", dir)
}

func tryOpen(ctx context.Context, dir string) error {
	st, err := readDesktopState(dir)
	if err != nil {
		return err
	}
	if st.Control == "" || st.PID == os.Getpid() {
		return errors.New("no control endpoint yet")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+st.Control+"/open", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+st.Token)
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("control endpoint answered %d", resp.StatusCode)
	}
	return nil
}

// freeLoopbackAddr returns 127.0.0.1:port for the port of prevURL when it is free,
// else a port the kernel picks.
func freeLoopbackAddr(prevURL string) (string, error) {
	if prevURL != "" {
		if host := hostOfURL(prevURL); host != "" {
			if ln, err := net.Listen("tcp", host); err == nil {
				_ = ln.Close()
				return host, nil
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// hostOfURL is the 127.0.0.1:PORT of an http://127.0.0.1:PORT URL, or "".
func hostOfURL(u string) string {
	const prefix = "http://127.0.0.1:"
	if len(u) <= len(prefix) || u[:len(prefix)] != prefix {
		return ""
	}
	return u[len("http://"):]
}
