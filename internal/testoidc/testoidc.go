// Package testoidc runs a real OpenID provider on loopback for tests: the
// zitadel OIDC library's op package (discovery, JWKS, authorization with PKCE,
// token and userinfo endpoints) with its example login form, in-memory users
// and clients, and a groups claim. It is a test helper, never linked into the
// binary.
package testoidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	exstorage "github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person who can sign in at the provider's login form.
type User struct {
	ID       string
	Username string
	Password string
	Email    string
	// EmailVerified false leaves email_verified out of the tokens.
	EmailVerified bool
	Name          string
	Groups        []string
}

// Client is a registered relying party (a web client: secret in HTTP Basic).
type Client struct {
	ID           string
	Secret       string
	RedirectURIs []string
}

// Options configure a provider.
type Options struct {
	Users   []User
	Clients []Client
	// WrongKeys publishes a key other than the one that signs the tokens, so
	// every ID token it issues fails signature verification.
	WrongKeys bool
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's issuer URL (http://127.0.0.1:port).
	Issuer string
	srv    *http.Server
}

// Start runs a provider for the test and stops it at cleanup.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	// The library's example server logs every request through the process's
	// default logger; keep test output to the test's own.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	p, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatalf("testoidc: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// Listen runs a provider on addr (loopback) until Close.
func Listen(addr string, opts Options) (*Provider, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	issuer := "http://" + ln.Addr().String()
	users := userStore{byID: map[string]*exstorage.User{}, groups: map[string][]string{}}
	for _, u := range opts.Users {
		users.byID[u.ID] = &exstorage.User{ID: u.ID, Username: u.Username, Password: u.Password, Email: u.Email,
			EmailVerified: u.EmailVerified, FirstName: u.Name}
		users.groups[u.ID] = u.Groups
	}
	clients := map[string]*exstorage.Client{}
	for _, c := range opts.Clients {
		clients[c.ID] = exstorage.WebClient(c.ID, c.Secret, c.RedirectURIs...)
	}
	st := &storage{Storage: exstorage.NewStorageWithClients(users, clients), groups: users.groups}
	if opts.WrongKeys {
		if st.otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, err
		}
	}
	router := exampleop.SetupServer(issuer, st, nil, false)
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &Provider{Issuer: issuer, srv: srv}, nil
}

// Close stops the provider.
func (p *Provider) Close() error { return p.srv.Close() }

// Login plays the browser: it follows authURL to the provider's login form,
// submits username and password, and follows redirects until one leads to a
// URL starting with stopAt (the relying party's callback), which it returns
// without requesting it.
func Login(ctx context.Context, authURL, username, password, stopAt string) (*url.URL, error) {
	var stopped *url.URL
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), stopAt) {
			stopped = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	// The login form is at /login/username?authRequestID=...
	id := resp.Request.URL.Query().Get("authRequestID")
	if id == "" {
		return nil, errors.New("testoidc: the authorization request did not reach the login form: " + resp.Request.URL.String())
	}
	form := url.Values{"id": {id}, "username": {username}, "password": {password}}
	loginURL := resp.Request.URL.Scheme + "://" + resp.Request.URL.Host + "/login/username"
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, loginURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if stopped == nil {
		return nil, errors.New("testoidc: the provider did not redirect to " + stopAt + " (status " + resp.Status + ")")
	}
	return stopped, nil
}

type userStore struct {
	byID   map[string]*exstorage.User
	groups map[string][]string
}

func (u userStore) GetUserByID(id string) *exstorage.User { return u.byID[id] }

func (u userStore) GetUserByUsername(name string) *exstorage.User {
	for _, x := range u.byID {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (u userStore) ExampleClientID() string { return "service" }

// storage is the library's example in-memory storage with a groups claim,
// userinfo claims in the ID token, and optionally the wrong published key.
type storage struct {
	*exstorage.Storage
	groups   map[string][]string
	otherKey *rsa.PrivateKey
}

func (s *storage) addGroups(info *oidc.UserInfo, subject string) {
	if g := s.groups[subject]; len(g) > 0 {
		info.AppendClaims("groups", g)
	}
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, token, scopes); err != nil {
		return err
	}
	s.addGroups(info, token.GetSubject())
	return nil
}

// SetUserinfoFromToken fills the userinfo endpoint's answer.
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	s.addGroups(info, subject)
	return nil
}

// GetClientByClientID returns clients that put the userinfo claims (email,
// email_verified, groups) in the ID token, as most providers do.
func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return claimsClient{c}, nil
}

type claimsClient struct{ op.Client }

func (claimsClient) IDTokenUserinfoClaimsAssertion() bool { return true }

// KeySet publishes the signing key, or another key under the same id.
func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	if s.otherKey == nil {
		return s.Storage.KeySet(ctx)
	}
	sk, err := s.Storage.SigningKey(ctx)
	if err != nil {
		return nil, err
	}
	return []op.Key{publicKey{id: sk.ID(), key: &s.otherKey.PublicKey}}, nil
}

type publicKey struct {
	id  string
	key *rsa.PublicKey
}

func (k publicKey) ID() string                         { return k.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.key }
