package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
)

// Config tunes the sign-in flow.
type Config struct {
	// HTTPClient calls the providers (discovery, keys, token, userinfo); nil
	// means a client with a 10 s timeout that refuses private and loopback
	// addresses for tenants' providers unless AllowPrivate.
	HTTPClient *http.Client
	// AllowPrivate lets tenants' providers live on private or loopback
	// addresses (tests, an in-house provider). The environment's provider is
	// the operator's and always may.
	AllowPrivate bool
	// LoginTTL bounds a sign-in from start to the provider's answer; 0 means 10 minutes.
	LoginTTL time.Duration
	// HandoffTTL bounds the console's exchange after the answer; 0 means 2 minutes.
	HandoffTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service runs single sign-on: Start sends the browser to the provider,
// Callback checks the provider's answer and Exchange turns it into a session.
type Service struct {
	db       *database.DB
	store    *Store
	users    *accounts.Users
	sessions *accounts.Sessions
	cfg      Config
	guarded  *http.Client
	open     *http.Client
	logger   *slog.Logger

	mu        sync.Mutex
	providers map[string]cachedProvider
}

type cachedProvider struct {
	p  *oidc.Provider
	at time.Time
}

// providerTTL is how long a provider's discovery document is trusted.
const providerTTL = 10 * time.Minute

// NewService returns the sign-in flow.
func NewService(db *database.DB, store *Store, users *accounts.Users, sessions *accounts.Sessions, cfg Config, logger *slog.Logger) *Service {
	if cfg.LoginTTL <= 0 {
		cfg.LoginTTL = 10 * time.Minute
	}
	if cfg.HandoffTTL <= 0 {
		cfg.HandoffTTL = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{db: db, store: store, users: users, sessions: sessions, cfg: cfg, logger: logger.With("component", "tenants.sso"),
		providers: map[string]cachedProvider{}}
	if cfg.HTTPClient != nil {
		s.guarded, s.open = cfg.HTTPClient, cfg.HTTPClient
	} else {
		s.open = &http.Client{Timeout: 10 * time.Second}
		s.guarded = s.open
		if !cfg.AllowPrivate {
			s.guarded = guardedClient()
		}
	}
	return s
}

// Store returns the settings store.
func (s *Service) Store() *Store { return s.store }

type loginRow struct {
	ID               string `gorm:"primaryKey"`
	StateHash        string
	BrowserHash      string
	TenantID         string
	Nonce            string
	CodeVerifier     string
	ReturnTo         string
	CreatedAt        time.Time
	ExpiresAt        time.Time
	UsedAt           *time.Time
	UserID           string
	HandoffHash      *string
	HandoffExpiresAt *time.Time
	HandoffUsedAt    *time.Time
}

func (loginRow) TableName() string { return "sso_logins" }

// StartInput begins a sign-in.
type StartInput struct {
	Email string
	// Tenant (id or slug) picks the tenant when several share the email's domain.
	Tenant string
	// ReturnTo is the console path to land on afterwards ("/t/acme/keys"); only
	// a local path is kept.
	ReturnTo string
	// RedirectURL is this server's callback URL, registered at the provider.
	RedirectURL string
}

// StartResult is where to send the browser, and the value of the cookie that
// binds the sign-in to this browser.
type StartResult struct {
	AuthURL string
	Browser seal.Secret
	TTL     time.Duration
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Service) client(st Settings) *http.Client {
	if st.Platform {
		return s.open
	}
	return s.guarded
}

// provider returns the issuer's discovered provider, cached for providerTTL.
func (s *Service) provider(ctx context.Context, st Settings) (*oidc.Provider, error) {
	key := st.Issuer
	if !st.Platform {
		key = string(st.Tenant) + " " + st.Issuer
	}
	now := s.cfg.Now()
	s.mu.Lock()
	c, ok := s.providers[key]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < providerTTL {
		return c.p, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, s.client(st)), st.Issuer)
	if err != nil {
		s.logger.WarnContext(ctx, "identity provider discovery failed", "issuer", st.Issuer, "error", err)
		return nil, &errkind.Error{Kind: errkind.Unavailable, Code: "sso_provider_unreachable",
			Message: "the identity provider at " + st.Issuer + " cannot be reached or is not an OpenID provider; retry, or ask your administrator to check the issuer"}
	}
	s.mu.Lock()
	s.providers[key] = cachedProvider{p: p, at: now}
	s.mu.Unlock()
	return p, nil
}

func oauthConfig(st Settings, p *oidc.Provider, redirectURL string) *oauth2.Config {
	return &oauth2.Config{ClientID: st.ClientID, ClientSecret: st.ClientSecret.Reveal(), Endpoint: p.Endpoint(),
		RedirectURL: redirectURL, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// localPath keeps p only when it is a path of this site ("/x", not "//x" or a URL).
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || len(p) > 512 || strings.ContainsAny(p, "\r\n") {
		return ""
	}
	return p
}

// Start discovers the email's provider, records a single-use state bound to
// the browser (with a nonce and a PKCE verifier) and returns the provider's
// authorization URL.
func (s *Service) Start(ctx context.Context, in StartInput) (StartResult, error) {
	if len(in.Email) > 254 || len(in.Tenant) > 100 {
		return StartResult{}, errkind.New(errkind.Invalid, "email or tenant is too long")
	}
	st, err := s.store.Discover(ctx, strings.TrimSpace(in.Email), strings.TrimSpace(in.Tenant))
	if err != nil {
		return StartResult{}, err
	}
	p, err := s.provider(ctx, st)
	if err != nil {
		return StartResult{}, err
	}
	state, err := randomToken()
	if err != nil {
		return StartResult{}, err
	}
	nonce, err := randomToken()
	if err != nil {
		return StartResult{}, err
	}
	browser, err := randomToken()
	if err != nil {
		return StartResult{}, err
	}
	verifier := oauth2.GenerateVerifier()
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	row := loginRow{ID: tenants.NewULID(), StateHash: seal.SHA256Hex(state), BrowserHash: seal.SHA256Hex(browser), TenantID: string(st.Tenant),
		Nonce: nonce, CodeVerifier: verifier, ReturnTo: localPath(in.ReturnTo), CreatedAt: now, ExpiresAt: now.Add(s.cfg.LoginTTL)}
	db := s.db.Gorm.WithContext(ctx)
	// Old attempts are kept a day for the record, then dropped here, where they pile up.
	if err := db.Where("expires_at < ?", now.Add(-24*time.Hour)).Delete(&loginRow{}).Error; err != nil {
		return StartResult{}, err
	}
	if err := db.Create(&row).Error; err != nil {
		return StartResult{}, err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if hint := strings.TrimSpace(in.Email); hint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", hint))
	}
	return StartResult{AuthURL: oauthConfig(st, p, in.RedirectURL).AuthCodeURL(state, opts...), Browser: seal.Secret(browser), TTL: s.cfg.LoginTTL}, nil
}

// CallbackInput is the provider's answer, as the browser brought it back.
type CallbackInput struct {
	State string
	Code  string
	// Error and ErrorDescription are the provider's refusal, if any.
	Error            string
	ErrorDescription string
	// Browser is the cookie set by Start.
	Browser     seal.Secret
	RedirectURL string
	IP          string
}

// CallbackResult is the one-time hand-off the console exchanges for a session.
type CallbackResult struct {
	Handoff  seal.Secret
	ReturnTo string
	User     accounts.User
	Created  bool
}

func refuse(code, msg string) error {
	return &errkind.Error{Kind: errkind.Unauthenticated, Code: code, Message: msg}
}

// consumeState marks the state used, once: only an unexpired, unused state
// presented by the browser that started it passes.
func (s *Service) consumeState(ctx context.Context, state string, browser seal.Secret) (loginRow, error) {
	bad := refuse("sso_state_invalid", "this sign-in was already used, has expired or was started in another browser; start again from the sign-in page")
	if state == "" || len(state) > 100 || browser == "" || len(browser) > 100 {
		return loginRow{}, bad
	}
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	var row loginRow
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&loginRow{}).Where("state_hash = ? AND browser_hash = ? AND used_at IS NULL AND expires_at > ?",
			seal.SHA256Hex(state), seal.SHA256Hex(browser.Reveal()), now).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return bad
		}
		return tx.Where("state_hash = ?", seal.SHA256Hex(state)).Take(&row).Error
	})
	return row, err
}

// Callback checks the provider's answer: the state (single use, this browser,
// unexpired), the code exchanged with the PKCE verifier at the provider of the
// tenant that started the sign-in, the ID token's signature (the provider's
// published keys), issuer, audience, expiry and nonce, then a verified email
// in an allowed domain and a role from the groups. The person is then found or
// created as a member of that tenant, and a one-time hand-off returned.
func (s *Service) Callback(ctx context.Context, in CallbackInput) (CallbackResult, error) {
	row, err := s.consumeState(ctx, in.State, in.Browser)
	if err != nil {
		return CallbackResult{}, err
	}
	if in.Error != "" {
		msg := in.Error
		if in.ErrorDescription != "" {
			msg += ": " + in.ErrorDescription
		}
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return CallbackResult{}, refuse("sso_provider_refused", "the identity provider did not sign you in ("+msg+")")
	}
	if in.Code == "" || len(in.Code) > 2048 {
		return CallbackResult{}, refuse("sso_code_missing", "the identity provider sent no authorization code; start again")
	}
	tenant := tenants.ID(row.TenantID)
	st, ok, err := s.store.Get(ctx, tenant)
	if err != nil {
		return CallbackResult{}, err
	}
	if !ok || !st.Enabled {
		return CallbackResult{}, refuse("sso_not_configured", "single sign-on was turned off for this tenant meanwhile")
	}
	claims, err := s.verify(ctx, st, row, in)
	if err != nil {
		return CallbackResult{}, err
	}
	if !claims.emailVerified {
		return CallbackResult{}, refuse("sso_email_unverified", "your identity provider has not verified your email address ("+claims.email+"); verify it there, then sign in again")
	}
	if !st.allows(claims.email) {
		return CallbackResult{}, refuse("sso_domain_not_allowed", "addresses at "+emailDomain(claims.email)+" may not sign in to this tenant through single sign-on; ask your administrator")
	}
	role, ok := st.roleFor(claims.groups)
	if !ok {
		return CallbackResult{}, &errkind.Error{Kind: errkind.Forbidden, Code: "sso_no_role",
			Message: "none of your groups at the identity provider gives you a role in this tenant; ask your administrator"}
	}
	u, created, err := s.users.ProviderSignIn(ctx, accounts.ProviderSignInInput{Tenant: tenant, Email: claims.email, Name: claims.name, Role: role,
		Platform: st.Platform, Issuer: st.Issuer, Subject: claims.subject, IP: in.IP})
	if err != nil {
		return CallbackResult{}, err
	}
	handoff, err := randomToken()
	if err != nil {
		return CallbackResult{}, err
	}
	hh, exp := seal.SHA256Hex(handoff), s.cfg.Now().UTC().Truncate(time.Microsecond).Add(s.cfg.HandoffTTL)
	if err := s.db.Gorm.WithContext(ctx).Model(&loginRow{}).Where("id = ?", row.ID).
		Updates(map[string]any{"user_id": u.ID, "handoff_hash": hh, "handoff_expires_at": exp}).Error; err != nil {
		return CallbackResult{}, err
	}
	s.logger.InfoContext(ctx, "single sign-on", "tenant_id", string(tenant), "user_id", u.ID, "created", created)
	return CallbackResult{Handoff: seal.Secret(handoff), ReturnTo: row.ReturnTo, User: u, Created: created}, nil
}

type idClaims struct {
	subject       string
	email         string
	emailVerified bool
	name          string
	groups        []string
}

// verify exchanges the code and verifies the ID token.
func (s *Service) verify(ctx context.Context, st Settings, row loginRow, in CallbackInput) (idClaims, error) {
	p, err := s.provider(ctx, st)
	if err != nil {
		return idClaims{}, err
	}
	cctx := oidc.ClientContext(ctx, s.client(st))
	tok, err := oauthConfig(st, p, in.RedirectURL).Exchange(cctx, in.Code, oauth2.VerifierOption(row.CodeVerifier))
	if err != nil {
		s.logger.InfoContext(ctx, "single sign-on code exchange refused", "tenant_id", row.TenantID, "error", err)
		return idClaims{}, refuse("sso_code_refused", "the identity provider refused the sign-in code (expired, already used, or issued to another application); start again")
	}
	raw, _ := tok.Extra("id_token").(string)
	badToken := refuse("sso_token_invalid", "the identity provider's ID token failed verification; sign-in refused")
	if raw == "" {
		return idClaims{}, badToken
	}
	idt, err := p.VerifierContext(cctx, &oidc.Config{ClientID: st.ClientID, Now: s.cfg.Now}).Verify(cctx, raw)
	if err != nil {
		s.logger.WarnContext(ctx, "single sign-on ID token refused", "tenant_id", row.TenantID, "error", err)
		return idClaims{}, badToken
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(row.Nonce)) != 1 {
		s.logger.WarnContext(ctx, "single sign-on ID token nonce mismatch", "tenant_id", row.TenantID)
		return idClaims{}, badToken
	}
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		return idClaims{}, badToken
	}
	if _, ok := m["email"].(string); !ok && p.UserInfoEndpoint() != "" {
		// Some providers put the email only in userinfo; take it there, for the same subject.
		ui, err := p.UserInfo(cctx, oauth2.StaticTokenSource(tok))
		if err != nil || ui.Subject != idt.Subject {
			return idClaims{}, badToken
		}
		var um map[string]any
		if err := ui.Claims(&um); err != nil {
			return idClaims{}, badToken
		}
		for k, v := range um {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
	}
	out := idClaims{subject: idt.Subject}
	out.email, _ = m["email"].(string)
	out.email = strings.TrimSpace(out.email)
	if out.email == "" {
		return idClaims{}, refuse("sso_email_missing", "the identity provider sent no email address; ask your administrator to release the email claim")
	}
	switch v := m["email_verified"].(type) {
	case bool:
		out.emailVerified = v
	case string:
		out.emailVerified = strings.EqualFold(v, "true")
	}
	out.name, _ = m["name"].(string)
	if len(out.name) > 100 {
		out.name = out.name[:100]
	}
	switch g := m[st.GroupsClaim].(type) {
	case string:
		out.groups = []string{g}
	case []any:
		for _, x := range g {
			if s, ok := x.(string); ok {
				out.groups = append(out.groups, s)
			}
		}
	}
	return out, nil
}

// ExchangeInput is the console trading its hand-off for a session.
type ExchangeInput struct {
	Handoff seal.Secret
	Browser seal.Secret
}

// Exchange trades a hand-off (once, from the browser that signed in, within
// HandoffTTL) for a session: confined to the provider's tenant, except with
// the environment's provider of a self-host server.
func (s *Service) Exchange(ctx context.Context, in ExchangeInput) (accounts.TokenPair, error) {
	bad := refuse("sso_handoff_invalid", "this sign-in was already completed or has expired; sign in again")
	h, b := in.Handoff.Reveal(), in.Browser.Reveal()
	if h == "" || len(h) > 100 || b == "" || len(b) > 100 {
		return accounts.TokenPair{}, bad
	}
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	var row loginRow
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&loginRow{}).Where("handoff_hash = ? AND browser_hash = ? AND handoff_used_at IS NULL AND handoff_expires_at > ?",
			seal.SHA256Hex(h), seal.SHA256Hex(b), now).Update("handoff_used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return bad
		}
		return tx.Where("handoff_hash = ?", seal.SHA256Hex(h)).Take(&row).Error
	})
	if err != nil {
		return accounts.TokenPair{}, err
	}
	st, ok, err := s.store.Get(ctx, tenants.ID(row.TenantID))
	if err != nil {
		return accounts.TokenPair{}, err
	}
	if !ok || !st.Enabled || row.UserID == "" {
		return accounts.TokenPair{}, bad
	}
	scope := tenants.ID(row.TenantID)
	if st.Platform {
		scope = ""
	}
	return s.sessions.Start(ctx, accounts.StartInput{UserID: row.UserID, Tenant: scope, Method: accounts.AuthMethodSSO})
}

// errPrivateAddress is a tenant's provider resolving to an address of ours.
var errPrivateAddress = errors.New("sso: the identity provider resolves to a private or loopback address")
