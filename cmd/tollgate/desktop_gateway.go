package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// desktopGateway runs `serve` in-process and can pause (stop it, freeing the port
// but keeping the address) and resume it (start it again on the same address).
type desktopGateway struct {
	cfg config.Config
	dir string
	out io.Writer

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan error
	parts  serverParts
	url    string
	paused bool
}

// start runs the gateway and returns once it listens, or with its start-up error.
func (g *desktopGateway) start(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cancel != nil {
		return nil
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ready := make(chan serverParts, 1)
	done := make(chan error, 1)
	go func() {
		done <- serveWith(runCtx, g.cfg, serveHooks{out: g.out, ready: func(addr string, p serverParts) {
			g.url = "http://" + addr
			ready <- p
		}})
	}()
	select {
	case p := <-ready:
		g.parts, g.cancel, g.done, g.paused = p, cancel, done, false
		return nil
	case err := <-done:
		cancel()
		if err == nil {
			err = errors.New("the gateway stopped during start-up")
		}
		return err
	case <-ctx.Done():
		cancel()
		<-done
		return ctx.Err()
	}
}

// stop shuts the gateway down cleanly (in-flight requests finish, the ledger
// drains) and waits for it.
func (g *desktopGateway) stop() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cancel == nil {
		return nil
	}
	g.cancel()
	err := <-g.done
	g.cancel, g.done = nil, nil
	return err
}

// pause stops the gateway and remembers it is paused; resume starts it again.
func (g *desktopGateway) pause() error {
	err := g.stop()
	g.mu.Lock()
	g.paused = true
	g.mu.Unlock()
	return err
}

func (g *desktopGateway) resume(ctx context.Context) error { return g.start(ctx) }

func (g *desktopGateway) running() (serverParts, string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.parts, g.url, g.cancel != nil
}

func (g *desktopGateway) isPaused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

// selfHost is the one tenant's handle and the owner's user id.
func (p serverParts) selfHost(ctx context.Context, purpose string) (*tenants.Handle, string, error) {
	t, err := p.registry.Get(ctx, selfHostTenantName)
	if err != nil {
		return nil, "", err
	}
	h, err := p.registry.Handle(tenants.SystemPrincipal(t, purpose))
	if err != nil {
		return nil, "", err
	}
	u, err := p.users.FindByEmail(ctx, p.adminEmail)
	if err != nil {
		return nil, "", fmt.Errorf("the admin %s: %w", p.adminEmail, err)
	}
	return h, u.ID, nil
}

// signInPage writes a one-use page into dir that forwards the browser to the
// console with a fresh refresh token of the owner in the URL fragment (never sent
// to the server, and never on a command line: only the page's path is). The
// console stores it as if the owner had signed in, and its first refresh makes the
// token used, so a second load of the page signs nobody in. The page is deleted a
// minute later.
func (g *desktopGateway) signInPage(ctx context.Context) (string, error) {
	p, base, ok := g.running()
	if !ok {
		return "", errkind.New(errkind.Unavailable, "the gateway is paused; resume it first")
	}
	_, userID, err := p.selfHost(ctx, "desktop")
	if err != nil {
		return "", err
	}
	pair, err := p.sessions.StartTrusted(ctx, userID)
	if err != nil {
		return "", err
	}
	target := base + "/#desktop_refresh=" + pair.RefreshToken.Reveal()
	page := `<!doctype html><meta charset="utf-8"><title>Tollgate</title>` +
		`<meta http-equiv="refresh" content="0;url=` + target + `">` +
		`<script>location.replace(` + jsString(target) + `)</script>` +
		`<p>Opening the Tollgate console…</p>`
	path := filepath.Join(g.dir, "open-console.html")
	if err := os.WriteFile(path, []byte(page), 0o600); err != nil {
		return "", err
	}
	time.AfterFunc(time.Minute, func() { _ = os.Remove(path) })
	return path, nil
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// desktopSummary is the tray's first line: today's spend and the tenant budget.
type desktopSummary struct {
	Today billing.NanoUSD
	// Budget is the tenant-wide budget of the shortest period, if any.
	Budget *desktopBudget
}

type desktopBudget struct {
	Period meter.Period
	Spent  billing.NanoUSD
	Limit  billing.NanoUSD
}

// String reads "Today $0.42 · budget $3.10 of $50.00 this month".
func (s desktopSummary) String() string {
	out := "Today " + usd(s.Today)
	if s.Budget == nil {
		return out + " · no budget set"
	}
	return fmt.Sprintf("%s · budget %s of %s %s", out, usd(s.Budget.Spent), usd(s.Budget.Limit), periodPhrase(s.Budget.Period))
}

// usd shows dollars and cents, and under a dollar up to micro-dollars, so that a
// few cheap requests do not read as $0.00 ($0.000042). Display only: amounts stay
// nano-USD everywhere else.
func usd(n billing.NanoUSD) string {
	if n < 0 {
		return "-" + usd(-n)
	}
	if n >= 1_000_000_000 {
		return fmt.Sprintf("$%d.%02d", n/1_000_000_000, n%1_000_000_000/10_000_000)
	}
	frac := strings.TrimRight(fmt.Sprintf("%06d", n/1_000), "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return "$0." + frac
}

func periodPhrase(p meter.Period) string {
	switch p {
	case meter.PeriodDay:
		return "today"
	case meter.PeriodMonth:
		return "this month"
	}
	return "(" + string(p) + ")"
}

// summary reads today's spend from the ledger and the tenant budget's status.
func (g *desktopGateway) summary(ctx context.Context) (desktopSummary, error) {
	p, _, ok := g.running()
	if !ok {
		return desktopSummary{}, errkind.New(errkind.Unavailable, "paused")
	}
	h, _, err := p.selfHost(ctx, "desktop")
	if err != nil {
		return desktopSummary{}, err
	}
	today := time.Now().UTC().Format("2006-01-02")
	_, totals, err := ledger.Series(ctx, h, ledger.SeriesQuery{From: today, To: today})
	if err != nil {
		return desktopSummary{}, err
	}
	out := desktopSummary{Today: totals.Cost}
	statuses, err := p.budgets.List(ctx, h)
	if err != nil {
		return out, err
	}
	rank := map[meter.Period]int{meter.PeriodDay: 0, meter.PeriodMonth: 1}
	for _, s := range statuses {
		if s.Scope != meter.ScopeTenant {
			continue
		}
		if out.Budget == nil || rank[s.Period] < rank[out.Budget.Period] {
			out.Budget = &desktopBudget{Period: s.Period, Spent: s.Spent, Limit: s.Limit}
		}
	}
	return out, nil
}

// desktopKeyFile keeps the snippet key's id and secret (0600) so that every copy
// reuses one key instead of making a new one.
const desktopKeyFile = "desktop-key.json"

type desktopKey struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// apiKeySnippet returns environment lines that point an OpenAI client at this
// gateway with the desktop's API key, creating the key on first use (or when it
// was revoked or deleted in the console).
func (g *desktopGateway) apiKeySnippet(ctx context.Context) (string, error) {
	p, base, ok := g.running()
	if !ok {
		return "", errkind.New(errkind.Unavailable, "the gateway is paused; resume it first")
	}
	h, userID, err := p.selfHost(ctx, "desktop")
	if err != nil {
		return "", err
	}
	tenant := h.TenantID()
	path := filepath.Join(g.dir, desktopKeyFile)
	var k desktopKey
	if raw, err := os.ReadFile(path); err == nil && json.Unmarshal(raw, &k) == nil && k.ID != "" {
		if got, err := p.keys.Get(ctx, tenant, k.ID); err != nil || got.RevokedAt != nil ||
			(got.ExpiresAt != nil && got.ExpiresAt.Before(time.Now())) {
			k = desktopKey{}
		}
	}
	if k.ID == "" {
		created, secret, err := p.keys.Create(ctx, apikeys.CreateKeyInput{TenantID: tenant, Name: "desktop",
			Actor: audit.Actor{UserID: userID, Email: p.adminEmail}})
		if err != nil {
			return "", err
		}
		k = desktopKey{ID: created.ID, Secret: secret.Reveal()}
		raw, _ := json.Marshal(k)
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return "", err
		}
	}
	return snippet(runtime.GOOS, base+"/v1", k.Secret), nil
}

// snippet is the two environment lines in the platform's shell syntax.
func snippet(goos, baseURL, key string) string {
	if goos == "windows" {
		return fmt.Sprintf("$env:OPENAI_BASE_URL=%q\r\n$env:OPENAI_API_KEY=%q\r\n", baseURL, key)
	}
	return strings.Join([]string{"export OPENAI_BASE_URL=" + baseURL, "export OPENAI_API_KEY=" + key, ""}, "\n")
}
