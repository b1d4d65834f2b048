// Package teststripe runs a real stripe-mock for tests of billing/stripe and its callers.
// It lives apart from billing/stripe so that the binary never links package testing.
package teststripe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test support: a real stripe-mock for tests of this package and of its callers.

// EnvTestStripeURL names the variable holding the base URL of an already running
// stripe-mock (as scripts/stripe-mock.sh prints it); TestURL then uses it.
const EnvTestStripeURL = "TOLLGATE_TEST_STRIPE_URL"

// MockInstallHint tells how to get the stripe-mock binary.
const MockInstallHint = "install with: go install github.com/stripe/stripe-mock@v0.203.0"

// mockStartTimeout bounds how long StartMock waits for stripe-mock to answer.
const mockStartTimeout = 20 * time.Second

// ErrMockNotInstalled is returned by FindMockBinary when no stripe-mock is found.
var ErrMockNotInstalled = errors.New("stripe-mock not found; " + MockInstallHint)

// FindMockBinary looks for the stripe-mock executable on PATH, then in $GOBIN,
// the first $GOPATH entry's bin and $HOME/go/bin, reading variables through
// lookupEnv (os.LookupEnv in tests).
func FindMockBinary(lookupEnv func(string) (string, bool)) (string, error) {
	get := func(k string) string { v, _ := lookupEnv(k); return v }
	var dirs []string
	dirs = append(dirs, filepath.SplitList(get("PATH"))...)
	if gobin := get("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if gopath := filepath.SplitList(get("GOPATH")); len(gopath) > 0 && gopath[0] != "" {
		dirs = append(dirs, filepath.Join(gopath[0], "bin"))
	}
	if home := get("HOME"); home != "" {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		p := filepath.Join(d, "stripe-mock")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrMockNotInstalled
}

// Mock is a stripe-mock process started by StartMock.
type Mock struct {
	// URL is the HTTP base URL, "http://127.0.0.1:PORT": Config.APIBase.
	URL string

	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has exited
	waitErr error
	once    sync.Once
}

// StartMock starts the stripe-mock binary on loopback, HTTP and HTTPS both on
// ports the kernel picks (so they are free and nothing listens on all
// interfaces), and returns once it answers HTTP. ctx bounds the start only; stop
// the process with Close. -strict-version-check stays off: stripe-go v76 sends an
// older Stripe-Version than stripe-mock's spec.
func StartMock(ctx context.Context, binary string) (*Mock, error) {
	ctx, cancel := context.WithTimeout(ctx, mockStartTimeout)
	defer cancel()

	pr, pw := io.Pipe()
	cmd := exec.Command(binary, "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:")
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start stripe-mock: %w", err)
	}
	m := &Mock{cmd: cmd, done: make(chan struct{})}
	go func() {
		m.waitErr = cmd.Wait()
		pw.Close()
		close(m.done)
	}()

	// Read the log for the HTTP address, then keep draining it so stripe-mock
	// never blocks writing its per-request lines.
	addrc := make(chan string, 1)
	var logMu sync.Mutex
	var logHead strings.Builder
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if !sent {
				logMu.Lock()
				logHead.WriteString(line + "\n")
				logMu.Unlock()
				if addr, ok := strings.CutPrefix(line, "Listening for HTTP at address: "); ok {
					addrc <- strings.TrimSpace(addr)
					sent = true
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()

	fail := func(err error) (*Mock, error) {
		_ = m.Close()
		logMu.Lock()
		defer logMu.Unlock()
		return nil, fmt.Errorf("%w; stripe-mock output:\n%s", err, logHead.String())
	}
	var addr string
	select {
	case addr = <-addrc:
	case <-m.done:
		return fail(fmt.Errorf("stripe-mock exited at start: %v", m.waitErr))
	case <-ctx.Done():
		return fail(fmt.Errorf("stripe-mock did not report its address: %w", ctx.Err()))
	}
	m.URL = "http://" + addr
	probe := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/v1/customers", nil)
		if err != nil {
			return fail(err)
		}
		req.Header.Set("Authorization", "Bearer sk_test_123")
		if resp, err := probe.Do(req); err == nil {
			resp.Body.Close()
			return m, nil
		}
		select {
		case <-m.done:
			return fail(fmt.Errorf("stripe-mock exited at start: %v", m.waitErr))
		case <-ctx.Done():
			return fail(fmt.Errorf("stripe-mock did not answer at %s: %w", m.URL, ctx.Err()))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops the process (SIGTERM, then SIGKILL after 5 s) and waits for it.
// It is safe to call more than once.
func (m *Mock) Close() error {
	m.once.Do(func() {
		_ = m.cmd.Process.Signal(os.Interrupt)
		select {
		case <-m.done:
		case <-time.After(5 * time.Second):
			_ = m.cmd.Process.Kill()
			<-m.done
		}
	})
	return nil
}

// TestURL returns the base URL of a stripe-mock for tb: EnvTestStripeURL when set,
// else a stripe-mock started for tb and stopped at its cleanup. When none can be
// had it skips tb, or fails it when CI=true, so CI never passes by skipping.
// lookupEnv is os.LookupEnv in tests (this package reads no environment itself).
func TestURL(tb testing.TB, lookupEnv func(string) (string, bool)) string {
	tb.Helper()
	if u, ok := lookupEnv(EnvTestStripeURL); ok && u != "" {
		return strings.TrimRight(u, "/")
	}
	unavailable := func(format string, args ...any) {
		tb.Helper()
		if ci, _ := lookupEnv("CI"); ci == "true" {
			tb.Fatalf(format, args...)
		}
		tb.Skipf(format, args...)
	}
	bin, err := FindMockBinary(lookupEnv)
	if err != nil {
		unavailable("stripe-mock unavailable: %v (or set %s)", err, EnvTestStripeURL)
		return ""
	}
	m, err := StartMock(tb.Context(), bin)
	if err != nil {
		unavailable("stripe-mock unavailable: %v", err)
		return ""
	}
	tb.Cleanup(func() { _ = m.Close() })
	return m.URL
}
