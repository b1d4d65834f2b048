package accounts

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

func TestKeyringGeneratedOnceAndRotates(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			ctx := t.Context()
			logger := logging.Discard()
			feed := tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{}, logger)

			// Given two replicas start with no TOLLGATE_JWT_SECRET, they share one key
			sealed := KeyringConfig{Sealer: testSealer(t, testMasterKey)}
			k1, err := LoadKeyring(ctx, b.db, sealed)
			require.NoError(t, err)
			k2, err := LoadKeyring(ctx, b.db, sealed)
			require.NoError(t, err)
			require.Equal(t, k1.Current(), k2.Current())
			k2.Follow(feed, logger)

			users := NewUsers(b.db, NewHasher(TestPasswordParams()), feed, logger)
			u, err := users.Create(ctx, CreateUserInput{Email: "a@example.com", Password: "long enough pw"})
			require.NoError(t, err)
			s1 := NewSessions(b.db, users, k1, SessionConfig{}, logger)
			s2 := NewSessions(b.db, users, k2, SessionConfig{}, logger)
			old, err := s1.Login(ctx, LoginInput{Email: u.Email, Password: "long enough pw", IP: "ip"})
			require.NoError(t, err)
			_, err = s2.Verify(ctx, old.AccessToken.Reveal())
			require.NoError(t, err, "replica 2 verifies replica 1's token")

			// When the key rotates, new tokens carry the new kid and old ones still verify
			kid, err := k1.Rotate(ctx, feed, 3)
			require.NoError(t, err)
			require.Equal(t, kid, k2.Current())
			fresh, err := s2.Login(ctx, LoginInput{Email: u.Email, Password: "long enough pw", IP: "ip"})
			require.NoError(t, err)
			_, err = s2.Verify(ctx, fresh.AccessToken.Reveal())
			require.NoError(t, err)
			_, err = s2.Verify(ctx, old.AccessToken.Reveal())
			require.NoError(t, err)
			// A static keyring (TOLLGATE_JWT_SECRET) knows neither.
			s3 := NewSessions(b.db, users, NewStaticKeyring("0123456789abcdef0123456789abcdef"), SessionConfig{}, logger)
			_, err = s3.Verify(ctx, fresh.AccessToken.Reveal())
			require.ErrorIs(t, err, errkind.Unauthenticated)
		})
	}
}

func TestAccessTokenExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	ctx := t.Context()
	logger := logging.Discard()
	feed := tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{}, logger)
	users := NewUsers(b.db, NewHasher(TestPasswordParams()), feed, logger)
	_, err := users.Create(ctx, CreateUserInput{Email: "a@example.com", Password: "long enough pw"})
	require.NoError(t, err)
	now := time.Now()
	clock := func() time.Time { return now }
	s := NewSessions(b.db, users, NewStaticKeyring("0123456789abcdef0123456789abcdef"), SessionConfig{AccessTTL: time.Minute, Now: clock}, logger)
	pair, err := s.Login(ctx, LoginInput{Email: "a@example.com", Password: "long enough pw", IP: "ip"})
	require.NoError(t, err)
	_, err = s.Verify(ctx, pair.AccessToken.Reveal())
	require.NoError(t, err)
	now = now.Add(2 * time.Minute)
	_, err = s.Verify(ctx, pair.AccessToken.Reveal())
	require.ErrorIs(t, err, errkind.Unauthenticated)
	// The refresh token still works and issues a token valid at the new time.
	next, err := s.Refresh(ctx, pair.RefreshToken)
	require.NoError(t, err)
	_, err = s.Verify(ctx, next.AccessToken.Reveal())
	require.NoError(t, err)
}

func TestBootstrapIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			ctx := t.Context()
			feed := tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{}, logging.Discard())
			users := NewUsers(b.db, NewHasher(TestPasswordParams()), feed, logging.Discard())
			def, err := b.reg.Create(ctx, tenants.CreateInput{Name: "default"})
			require.NoError(t, err)

			// Given a first start with no password configured, one is generated
			res, err := users.Bootstrap(ctx, BootstrapInput{Email: "admin@localhost", OwnerOf: def.ID})
			require.NoError(t, err)
			require.True(t, res.Created)
			require.Len(t, res.GeneratedPassword.Reveal(), 21)
			require.Equal(t, "[redacted]", res.GeneratedPassword.String())
			_, err = users.CheckPassword(ctx, "admin@localhost", res.GeneratedPassword)
			require.NoError(t, err)
			m, err := users.Membership(ctx, def.ID, res.User.ID)
			require.NoError(t, err)
			require.Equal(t, access.RoleOwner, m.Role)

			// When it starts again, nothing changes and no password is shown
			again, err := users.Bootstrap(ctx, BootstrapInput{Email: "admin@localhost", Password: "another password", OwnerOf: def.ID})
			require.NoError(t, err)
			require.False(t, again.Created)
			require.Empty(t, again.GeneratedPassword)
			_, err = users.CheckPassword(ctx, "admin@localhost", res.GeneratedPassword)
			require.NoError(t, err)
			ms, err := users.ListMembers(ctx, def.ID)
			require.NoError(t, err)
			require.Len(t, ms, 1)
		})
	}
}

func TestPolicyMatrixShape(t *testing.T) {
	t.Parallel()
	cells := access.PolicyMatrix()
	require.Len(t, cells, len(access.Permissions())*len(access.TenantRoles()))
	seen := map[access.Permission]bool{}
	for _, p := range access.Permissions() {
		require.False(t, seen[p], "duplicate permission %v", p)
		seen[p] = true
	}
	for _, c := range cells {
		if c.Resource == access.ResourcePlatform {
			require.False(t, c.Allowed, "tenant roles never hold platform permissions")
		}
		if c.Role == access.RoleOwner && c.Resource != access.ResourcePlatform {
			require.True(t, c.Allowed, "owners may do everything in their tenant: %v", c.Permission)
		}
	}
}

// StartTrusted signs a known, enabled user in without a password (the desktop
// tray's owner); an unknown or disabled user gets the same refusal as a bad login.
func TestStartTrusted(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	ctx := t.Context()
	logger := logging.Discard()
	feed := tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{}, logger)
	users := NewUsers(b.db, NewHasher(TestPasswordParams()), feed, logger)
	u, err := users.Create(ctx, CreateUserInput{Email: "owner@example.com", Password: "long enough pw"})
	require.NoError(t, err)
	s := NewSessions(b.db, users, NewStaticKeyring("0123456789abcdef0123456789abcdef"), SessionConfig{}, logger)

	pair, err := s.StartTrusted(ctx, u.ID)
	require.NoError(t, err)
	got, err := s.Verify(ctx, pair.AccessToken.Reveal())
	require.NoError(t, err)
	require.Equal(t, u.ID, got.User.ID)
	_, err = s.Refresh(ctx, pair.RefreshToken)
	require.NoError(t, err, "the refresh token the console takes over works once")
	_, err = s.Refresh(ctx, pair.RefreshToken)
	require.ErrorIs(t, err, errkind.Unauthenticated, "and never again")

	_, err = s.StartTrusted(ctx, "no-such-user")
	require.ErrorIs(t, err, errkind.Unauthenticated)
	_, err = users.SetDisabled(ctx, SetDisabledInput{UserID: u.ID, Disabled: true, Actor: audit.Actor{Email: "cli"}})
	require.NoError(t, err)
	_, err = s.StartTrusted(ctx, u.ID)
	require.ErrorIs(t, err, errkind.Unauthenticated)
}
