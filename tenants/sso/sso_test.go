package sso

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/internal/testoidc"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// The relying party's callback: the provider redirects there and
// testoidc.Login stops at it, so nothing needs to listen.
const testRedirect = "http://127.0.0.1:1/api/v1/auth/sso/callback"

type testBundle struct {
	db       *database.DB
	reg      *tenants.Registry
	users    *accounts.Users
	sessions *accounts.Sessions
	store    *Store
	svc      *Service
	op       *testoidc.Provider
	a, b     tenants.Tenant
	now      time.Time
}

var opUsers = []testoidc.User{
	{ID: "u-alice", Username: "alice", Password: "alice-pw", Email: "alice@a.test", EmailVerified: true, Name: "Alice", Groups: []string{"eng", "tollgate-admins"}},
	{ID: "u-carol", Username: "carol", Password: "carol-pw", Email: "carol@a.test", EmailVerified: true, Name: "Carol", Groups: []string{"sales"}},
	{ID: "u-unverified", Username: "unverified", Password: "unverified-pw", Email: "eve@a.test", EmailVerified: false},
	{ID: "u-outsider", Username: "outsider", Password: "outsider-pw", Email: "mallory@elsewhere.test", EmailVerified: true},
	{ID: "u-bob", Username: "bob", Password: "bob-pw", Email: "bob@b.test", EmailVerified: true, Groups: []string{"tollgate-admins"}},
}

var opClients = []testoidc.Client{
	{ID: "client-a", Secret: "secret-a", RedirectURIs: []string{testRedirect}},
	{ID: "client-b", Secret: "secret-b", RedirectURIs: []string{testRedirect}},
}

func setup(t *testing.T, backend string) *testBundle {
	t.Helper()
	logger := testdb.Logger(t)
	db, dataDir := testdb.ControlDB(t, backend, logger)
	reg := tenants.NewRegistry(db, dataDir, logger)
	t.Cleanup(reg.Close)
	ctx := t.Context()
	feed := tenants.NewChangeFeed(db, tenants.ChangeFeedConfig{}, logging.Discard())
	users := accounts.NewUsers(db, accounts.NewHasher(accounts.TestPasswordParams()), feed, logger)
	sealer, err := seal.New("test-master-key-0123456789abcdef0123456789")
	require.NoError(t, err)
	b := &testBundle{db: db, reg: reg, users: users, now: time.Now().UTC()}
	b.store = NewStore(db, reg, users, StoreConfig{Sealer: sealer, AllowInsecure: true, Now: b.clock})
	b.sessions = accounts.NewSessions(db, users, accounts.NewStaticKeyring("0123456789abcdef0123456789abcdef"),
		accounts.SessionConfig{PasswordGate: b.store.PasswordGate}, logger)
	b.svc = NewService(db, b.store, users, b.sessions, Config{AllowPrivate: true, Now: b.clock}, logger)
	b.op = testoidc.Start(t, testoidc.Options{Users: opUsers, Clients: opClients})
	b.a, err = reg.Create(ctx, tenants.CreateInput{Name: "alpha"})
	require.NoError(t, err)
	b.b, err = reg.Create(ctx, tenants.CreateInput{Name: "beta"})
	require.NoError(t, err)
	b.configure(t, b.a.ID, "client-a", "secret-a", []string{"a.test"})
	b.configure(t, b.b.ID, "client-b", "secret-b", []string{"b.test"})
	return b
}

func (b *testBundle) clock() time.Time { return b.now }

func (b *testBundle) configure(t *testing.T, tenant tenants.ID, client, secret string, domains []string) {
	t.Helper()
	b.configureAt(t, tenant, b.op.Issuer, client, secret, domains)
}

func (b *testBundle) configureAt(t *testing.T, tenant tenants.ID, issuer, client, secret string, domains []string) {
	t.Helper()
	_, err := b.store.Set(t.Context(), SetInput{Tenant: tenant, Issuer: issuer, ClientID: client, ClientSecret: seal.Secret(secret),
		Domains: domains, Mapping: []GroupRole{{Group: "tollgate-admins", Role: access.RoleAdmin}, {Group: "eng", Role: access.RoleDeveloper}},
		DefaultRole: access.RoleViewer, Enabled: true})
	require.NoError(t, err)
}

// browser is one browser's sign-in: the state and cookie from Start.
type browser struct {
	authURL string
	cookie  seal.Secret
}

func (b *testBundle) start(t *testing.T, email, tenant string) browser {
	t.Helper()
	res, err := b.svc.Start(t.Context(), StartInput{Email: email, Tenant: tenant, RedirectURL: testRedirect, ReturnTo: "/t/x/keys"})
	require.NoError(t, err)
	require.Contains(t, res.AuthURL, "code_challenge_method=S256")
	require.Contains(t, res.AuthURL, "nonce=")
	return browser{authURL: res.AuthURL, cookie: res.Browser}
}

// login signs in at the provider's form and returns the callback's code and state.
func (b *testBundle) login(t *testing.T, br browser, username, password string) (code, state string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	u, err := testoidc.Login(ctx, br.authURL, username, password, testRedirect)
	require.NoError(t, err)
	q := u.Query()
	require.NotEmpty(t, q.Get("code"))
	return q.Get("code"), q.Get("state")
}

func (b *testBundle) callback(t *testing.T, br browser, code, state string) (CallbackResult, error) {
	return b.svc.Callback(t.Context(), CallbackInput{State: state, Code: code, Browser: br.cookie, RedirectURL: testRedirect, IP: "192.0.2.1"})
}

func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	require.Error(t, err)
	var e *errkind.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, code, e.Code, "error: %v", err)
}

func (b *testBundle) requireNoUser(t *testing.T, email string) {
	t.Helper()
	_, err := b.users.FindByEmail(t.Context(), email)
	require.ErrorIs(t, err, errkind.NotFound, "no account was created for %s", email)
}

func TestSSOFirstSignInCreatesMemberWithMappedRole(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			ctx := t.Context()

			// Given alice (groups eng + tollgate-admins) has no account yet
			b.requireNoUser(t, "alice@a.test")

			// When she signs in through tenant alpha's provider (discovered by her domain)
			br := b.start(t, "Alice@A.test", "")
			code, state := b.login(t, br, "alice", "alice-pw")
			res, err := b.callback(t, br, code, state)
			require.NoError(t, err)

			// Then she is a new member of alpha with the most powerful mapped role
			require.True(t, res.Created)
			require.Equal(t, "/t/x/keys", res.ReturnTo)
			m, err := b.users.Membership(ctx, b.a.ID, res.User.ID)
			require.NoError(t, err)
			require.Equal(t, access.RoleAdmin, m.Role)
			_, err = b.users.Membership(ctx, b.b.ID, res.User.ID)
			require.ErrorIs(t, err, errkind.NotFound)
			page, err := audit.NewAuditLog(b.db).List(ctx, audit.ListAuditInput{TenantID: b.a.ID})
			require.NoError(t, err)
			require.True(t, hasAudit(page.Entries, audit.AuditMemberJoinedSSO, "alice@a.test"), "first sign-in is audited")

			// And the hand-off gives a session confined to alpha, once, to this browser only
			_, err = b.svc.Exchange(ctx, ExchangeInput{Handoff: res.Handoff, Browser: "another-browser"})
			requireCode(t, err, "sso_handoff_invalid")
			pair, err := b.svc.Exchange(ctx, ExchangeInput{Handoff: res.Handoff, Browser: br.cookie})
			require.NoError(t, err)
			sess, err := b.sessions.Verify(ctx, pair.AccessToken.Reveal())
			require.NoError(t, err)
			require.Equal(t, b.a.ID, sess.Tenant)
			require.Equal(t, "alice@a.test", sess.User.Email)
			_, err = b.svc.Exchange(ctx, ExchangeInput{Handoff: res.Handoff, Browser: br.cookie})
			requireCode(t, err, "sso_handoff_invalid")
			// A refreshed session keeps its tenant.
			pair2, err := b.sessions.Refresh(ctx, pair.RefreshToken)
			require.NoError(t, err)
			sess, err = b.sessions.Verify(ctx, pair2.AccessToken.Reveal())
			require.NoError(t, err)
			require.Equal(t, b.a.ID, sess.Tenant)

			// When she signs in again, her account is reused
			br = b.start(t, "alice@a.test", "")
			code, state = b.login(t, br, "alice", "alice-pw")
			again, err := b.callback(t, br, code, state)
			require.NoError(t, err)
			require.False(t, again.Created)
			require.Equal(t, res.User.ID, again.User.ID)

			// And carol, whose groups are not mapped, gets the default role
			br = b.start(t, "carol@a.test", "")
			code, state = b.login(t, br, "carol", "carol-pw")
			res, err = b.callback(t, br, code, state)
			require.NoError(t, err)
			m, err = b.users.Membership(ctx, b.a.ID, res.User.ID)
			require.NoError(t, err)
			require.Equal(t, access.RoleViewer, m.Role)
		})
	}
}

func hasAudit(entries []audit.AuditEntry, action, target string) bool {
	for _, e := range entries {
		if e.Action == action && e.Target == target {
			return true
		}
	}
	return false
}

func TestSSOProviderOfOneTenantNeverSignsIntoAnother(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			ctx := t.Context()
			bob, err := b.users.Create(ctx, accounts.CreateUserInput{Email: "bob@b.test", Password: "bob's long password"})
			require.NoError(t, err)
			require.NoError(t, b.users.AddMember(ctx, b.b.ID, bob.ID, access.RoleViewer, audit.CLIActor()))

			// Given alpha's admin claims beta's domain for alpha's provider
			b.configure(t, b.a.ID, "client-a", "secret-a", []string{"a.test", "b.test"})

			// When bob (a member of beta) signs in through alpha's provider
			br := b.start(t, "bob@b.test", "alpha")
			code, state := b.login(t, br, "bob", "bob-pw")
			_, err = b.callback(t, br, code, state)

			// Then he is refused and alpha gained no member
			requireCode(t, err, "sso_account_refused")
			_, err = b.users.Membership(ctx, b.a.ID, bob.ID)
			require.ErrorIs(t, err, errkind.NotFound)

			// When a code alpha's provider issued is brought back with a sign-in
			// beta started, it is exchanged at beta's client and refused
			brA := b.start(t, "alice@a.test", "alpha")
			codeA, _ := b.login(t, brA, "alice", "alice-pw")
			brB := b.start(t, "bob@b.test", "beta")
			_, stateB := b.login(t, brB, "bob", "bob-pw")
			_, err = b.callback(t, brB, codeA, stateB)
			requireCode(t, err, "sso_code_refused")
			b.requireNoUser(t, "alice@a.test")

			// And a state alpha started cannot be finished by beta's browser
			br = b.start(t, "alice@a.test", "alpha")
			code, state = b.login(t, br, "alice", "alice-pw")
			_, err = b.callback(t, brB, code, state)
			requireCode(t, err, "sso_state_invalid")
		})
	}
}

func TestSSORefusesUnverifiedEmail(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	br := b.start(t, "eve@a.test", "")
	code, state := b.login(t, br, "unverified", "unverified-pw")
	_, err := b.callback(t, br, code, state)
	requireCode(t, err, "sso_email_unverified")
	require.ErrorIs(t, err, errkind.Unauthenticated)
	b.requireNoUser(t, "eve@a.test")
}

func TestSSORefusesDomainOutsideAllowedList(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	// The email typed is in alpha's domain, the one the provider vouches for is not.
	br := b.start(t, "mallory@a.test", "")
	code, state := b.login(t, br, "outsider", "outsider-pw")
	_, err := b.callback(t, br, code, state)
	requireCode(t, err, "sso_domain_not_allowed")
	b.requireNoUser(t, "mallory@elsewhere.test")

	// Discovery itself refuses a domain no tenant allows.
	_, err = b.svc.Start(t.Context(), StartInput{Email: "mallory@elsewhere.test", RedirectURL: testRedirect})
	requireCode(t, err, "sso_not_configured")
}

func TestSSORefusesReplayedAndExpiredState(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			br := b.start(t, "alice@a.test", "")
			code, state := b.login(t, br, "alice", "alice-pw")
			_, err := b.callback(t, br, code, state)
			require.NoError(t, err)

			// Replaying the same answer is refused.
			_, err = b.callback(t, br, code, state)
			requireCode(t, err, "sso_state_invalid")
			// A state nobody issued is refused.
			_, err = b.callback(t, br, code, "forged-state")
			requireCode(t, err, "sso_state_invalid")

			// The code is bound to the PKCE challenge: another verifier is refused by the provider.
			br = b.start(t, "alice@a.test", "")
			code, state = b.login(t, br, "alice", "alice-pw")
			require.NoError(t, b.db.Gorm.Exec("UPDATE sso_logins SET code_verifier = ? WHERE state_hash = ?",
				"another-verifier-0123456789-0123456789-0123456789", seal.SHA256Hex(state)).Error)
			_, err = b.callback(t, br, code, state)
			requireCode(t, err, "sso_code_refused")

			// A state past its lifetime is refused, and stays unusable.
			br = b.start(t, "carol@a.test", "")
			code, state = b.login(t, br, "carol", "carol-pw")
			b.now = b.now.Add(11 * time.Minute)
			_, err = b.callback(t, br, code, state)
			requireCode(t, err, "sso_state_invalid")
			b.requireNoUser(t, "carol@a.test")
		})
	}
}

func TestSSORefusesTokenSignedByAnotherKey(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	// A provider whose published keys did not sign its tokens.
	bad := testoidc.Start(t, testoidc.Options{Users: opUsers, Clients: opClients, WrongKeys: true})
	b.configureAt(t, b.a.ID, bad.Issuer, "client-a", "secret-a", []string{"a.test"})
	br := b.start(t, "alice@a.test", "")
	code, state := b.login(t, br, "alice", "alice-pw")
	_, err := b.callback(t, br, code, state)
	requireCode(t, err, "sso_token_invalid")
	b.requireNoUser(t, "alice@a.test")
}

func TestSSORequiredBlocksPasswordSignIn(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			ctx := t.Context()
			const pw = seal.Secret("a long enough password")
			member, err := b.users.Create(ctx, accounts.CreateUserInput{Email: "dan@a.test", Password: pw})
			require.NoError(t, err)
			require.NoError(t, b.users.AddMember(ctx, b.a.ID, member.ID, access.RoleDeveloper, audit.CLIActor()))
			op, err := b.users.Create(ctx, accounts.CreateUserInput{Email: "root@ops.test", Password: pw, Superadmin: true})
			require.NoError(t, err)
			require.NoError(t, b.users.AddMember(ctx, b.a.ID, op.ID, access.RoleOwner, audit.CLIActor()))
			before, err := b.sessions.Login(ctx, accounts.LoginInput{Email: "dan@a.test", Password: pw, IP: "ip"})
			require.NoError(t, err, "password sign-in works while SSO is optional")

			// When alpha requires single sign-on
			st, _, err := b.store.Get(ctx, b.a.ID)
			require.NoError(t, err)
			_, err = b.store.Set(ctx, SetInput{Tenant: b.a.ID, Issuer: st.Issuer, ClientID: st.ClientID, Domains: st.Domains,
				Mapping: st.Mapping, DefaultRole: st.DefaultRole, Enabled: true, Required: true})
			require.NoError(t, err, "an empty secret keeps the stored one")

			// Then its members' passwords no longer sign them in, the operator's still does
			_, err = b.sessions.Login(ctx, accounts.LoginInput{Email: "dan@a.test", Password: pw, IP: "ip"})
			requireCode(t, err, "sso_required")
			require.ErrorIs(t, err, errkind.Forbidden)
			// A password session from before stops at its next refresh, and with it its access tokens.
			_, err = b.sessions.Refresh(ctx, before.RefreshToken)
			requireCode(t, err, "sso_required")
			_, err = b.sessions.Verify(ctx, before.AccessToken.Reveal())
			require.ErrorIs(t, err, errkind.Unauthenticated)
			_, err = b.sessions.Login(ctx, accounts.LoginInput{Email: "root@ops.test", Password: pw, IP: "ip"})
			require.NoError(t, err)
			// A wrong password is still just a wrong password (nothing revealed).
			_, err = b.sessions.Login(ctx, accounts.LoginInput{Email: "dan@a.test", Password: "not the password", IP: "ip"})
			require.ErrorIs(t, err, errkind.Unauthenticated)
			// Beta's members are unaffected.
			other, err := b.users.Create(ctx, accounts.CreateUserInput{Email: "erin@b.test", Password: pw})
			require.NoError(t, err)
			require.NoError(t, b.users.AddMember(ctx, b.b.ID, other.ID, access.RoleViewer, audit.CLIActor()))
			_, err = b.sessions.Login(ctx, accounts.LoginInput{Email: "erin@b.test", Password: pw, IP: "ip"})
			require.NoError(t, err)
		})
	}
}

func TestSSODiscovery(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	ctx := t.Context()
	b.configure(t, b.a.ID, "client-a", "secret-a", []string{"a.test", "shared.test"})
	b.configure(t, b.b.ID, "client-b", "secret-b", []string{"b.test", "shared.test"})

	_, err := b.svc.Start(ctx, StartInput{Email: "x@shared.test", RedirectURL: testRedirect})
	requireCode(t, err, "sso_ambiguous")
	require.ErrorIs(t, err, errkind.Conflict)
	res, err := b.svc.Start(ctx, StartInput{Email: "x@shared.test", Tenant: "beta", RedirectURL: testRedirect})
	require.NoError(t, err)
	require.Contains(t, res.AuthURL, "client_id=client-b")
	_, err = b.svc.Start(ctx, StartInput{Email: "x@nowhere.test", RedirectURL: testRedirect})
	requireCode(t, err, "sso_not_configured")
	// A tenant named explicitly must still allow the domain.
	_, err = b.svc.Start(ctx, StartInput{Email: "bob@b.test", Tenant: "alpha", RedirectURL: testRedirect})
	requireCode(t, err, "sso_not_configured")
	_, err = b.svc.Start(ctx, StartInput{Email: "not-an-email", RedirectURL: testRedirect})
	require.ErrorIs(t, err, errkind.Invalid)
}

func TestSSOSecretIsSealedAtRest(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	var raw string
	require.NoError(t, b.db.Gorm.Raw("SELECT client_secret_sealed FROM sso_providers WHERE tenant_id = ?", string(b.a.ID)).Scan(&raw).Error)
	require.NotEmpty(t, raw)
	require.NotContains(t, raw, "secret-a")
	st, ok, err := b.store.Get(t.Context(), b.a.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "secret-a", st.ClientSecret.Reveal())
	// Copied to another tenant's row, it does not open.
	require.NoError(t, b.db.Gorm.Exec("UPDATE sso_providers SET client_secret_sealed = ? WHERE tenant_id = ?", raw, string(b.b.ID)).Error)
	_, _, err = b.store.Get(t.Context(), b.b.ID)
	require.ErrorIs(t, err, errkind.Unavailable)
}

func TestSetInputValidate(t *testing.T) {
	t.Parallel()
	good := func() SetInput {
		return SetInput{Tenant: tenants.ID(tenants.NewULID()), Issuer: "https://login.example.com", ClientID: "c", ClientSecret: "s",
			Domains: []string{"example.com"}, Mapping: []GroupRole{{Group: "g", Role: access.RoleAdmin}}, MayGrantOwner: false}
	}
	for _, tc := range []struct {
		name   string
		change func(*SetInput)
		want   string
		kind   error
	}{
		{"http issuer", func(in *SetInput) { in.Issuer = "http://login.example.com" }, "https", errkind.Invalid},
		{"issuer with query", func(in *SetInput) { in.Issuer = "https://x.example.com/?a=b" }, "issuer", errkind.Invalid},
		{"no domains", func(in *SetInput) { in.Domains = nil }, "allowed_domains", errkind.Invalid},
		{"bad domain", func(in *SetInput) { in.Domains = []string{"*.example.com"} }, "not a domain", errkind.Invalid},
		{"bad role", func(in *SetInput) { in.Mapping = []GroupRole{{Group: "g", Role: "superadmin"}} }, "role_mapping[0].role", errkind.Invalid},
		{"owner by a non-owner", func(in *SetInput) { in.Mapping = []GroupRole{{Group: "g", Role: access.RoleOwner}} }, "only an owner", errkind.Forbidden},
		{"default owner by a non-owner", func(in *SetInput) { in.DefaultRole = access.RoleOwner }, "only an owner", errkind.Forbidden},
		{"no client id", func(in *SetInput) { in.ClientID = "" }, "client_id", errkind.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := good()
			tc.change(&in)
			in.normalize()
			err := in.Validate()
			require.ErrorIs(t, err, tc.kind)
			require.True(t, strings.Contains(err.Error(), tc.want), err.Error())
		})
	}
	in := good()
	in.Domains = []string{" @Example.COM ", "example.com"}
	in.normalize()
	require.NoError(t, in.Validate())
	require.Equal(t, []string{"example.com"}, in.Domains)
}

func TestSSOEnvironmentProviderOfASelfHostServer(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	ctx := t.Context()
	logger := logging.Discard()

	// Self-host without TOLLGATE_OIDC_*: no single sign-on, and none can be stored.
	off := NewStore(b.db, b.reg, b.users, StoreConfig{EnvOnly: true})
	require.False(t, off.Available())
	_, err := off.Set(ctx, SetInput{Tenant: b.a.ID})
	require.ErrorIs(t, err, errkind.Conflict)
	_, err = NewService(b.db, off, b.users, b.sessions, Config{}, logger).Start(ctx, StartInput{Email: "alice@a.test", RedirectURL: testRedirect})
	requireCode(t, err, "sso_not_configured")

	// With TOLLGATE_OIDC_*: the operator's provider signs into the one tenant;
	// the operator may sign in through it, and its sessions are not confined.
	env := NewStore(b.db, b.reg, b.users, StoreConfig{EnvOnly: true, Env: &Settings{Tenant: b.a.ID, Issuer: b.op.Issuer, ClientID: "client-a",
		ClientSecret: "secret-a", Domains: []string{"a.test"}, Mapping: []GroupRole{{Group: "tollgate-admins", Role: access.RoleOwner}}}})
	require.True(t, env.Available())
	require.True(t, env.EnvConfigured())
	root, err := b.users.Create(ctx, accounts.CreateUserInput{Email: "alice@a.test", Superadmin: true})
	require.NoError(t, err)
	svc := NewService(b.db, env, b.users, b.sessions, Config{Now: b.clock}, logger)
	res, err := svc.Start(ctx, StartInput{Email: "alice@a.test", RedirectURL: testRedirect})
	require.NoError(t, err)
	br := browser{authURL: res.AuthURL, cookie: res.Browser}
	code, state := b.login(t, br, "alice", "alice-pw")
	cb, err := svc.Callback(ctx, CallbackInput{State: state, Code: code, Browser: br.cookie, RedirectURL: testRedirect})
	require.NoError(t, err)
	require.Equal(t, root.ID, cb.User.ID)
	pair, err := svc.Exchange(ctx, ExchangeInput{Handoff: cb.Handoff, Browser: br.cookie})
	require.NoError(t, err)
	sess, err := b.sessions.Verify(ctx, pair.AccessToken.Reveal())
	require.NoError(t, err)
	require.Empty(t, sess.Tenant)

	// A tenant's provider may not sign the same superadmin in.
	br = b.start(t, "alice@a.test", "")
	code, state = b.login(t, br, "alice", "alice-pw")
	_, err = b.callback(t, br, code, state)
	requireCode(t, err, "sso_account_refused")
}
