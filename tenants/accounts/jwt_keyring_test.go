package accounts

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
)

// testMasterKey seals the stored keyrings of tests.
const testMasterKey = "test-master-key-0123456789abcdef0123456789"

func testSealer(t *testing.T, masterKey string) *seal.Sealer {
	t.Helper()
	s, err := seal.New(seal.Secret(masterKey))
	require.NoError(t, err)
	return s
}

// storedKeyringValue is the raw settings value of the keyring, as a database
// reader or a pg_dump would see it.
func storedKeyringValue(t *testing.T, b *testBundle) string {
	t.Helper()
	var v string
	require.NoError(t, b.db.SQL.QueryRowContext(t.Context(), "SELECT value FROM settings WHERE key = 'jwt_keyring'").Scan(&v))
	return v
}

// rawKeys returns the base64 secrets the keyring holds in memory.
func rawKeys(k *Keyring) []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out []string
	for _, b := range k.keys {
		out = append(out, base64.RawStdEncoding.EncodeToString(b))
	}
	return out
}

// TestKeyringSealedAtRest: a generated keyring is stored sealed with the master
// key, an old plaintext keyring is sealed on start without signing anyone out, a
// rotation stays sealed, and a wrong or missing master key is refused clearly.
func TestKeyringSealedAtRest(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			logger := logging.Discard()
			sealer := testSealer(t, testMasterKey)

			// Given a fresh database, the generated keyring never reaches it in clear.
			fresh := setup(t, backend)
			k, err := LoadKeyring(ctx, fresh.db, KeyringConfig{Sealer: sealer})
			require.NoError(t, err)
			value := storedKeyringValue(t, fresh)
			require.Contains(t, value, `"sealed"`)
			for _, raw := range rawKeys(k) {
				require.NotContains(t, value, raw)
			}
			require.NotContains(t, value, k.Current(), "not even the key ids")

			// Given a keyring stored in plaintext by an older version, with a live session.
			b := setup(t, backend)
			const oldKid, oldSecret = "k0123456789ab", "c2VjcmV0LXNpZ25pbmcta2V5LW9mLXRoZS1vbGQtdmVyc2lvbg"
			_, err = b.db.SQL.ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES ('jwt_keyring', $1, CURRENT_TIMESTAMP)",
				`{"current":"`+oldKid+`","keys":{"`+oldKid+`":"`+oldSecret+`"}}`)
			require.NoError(t, err)
			feed := tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{}, logger)
			users := NewUsers(b.db, NewHasher(TestPasswordParams()), feed, logger)
			u, err := users.Create(ctx, CreateUserInput{Email: "a@example.com", Password: "long enough pw"})
			require.NoError(t, err)
			legacy := &Keyring{current: oldKid, keys: map[string][]byte{oldKid: mustB64(t, oldSecret)}}
			before, err := NewSessions(b.db, users, legacy, SessionConfig{}, logger).Login(ctx, LoginInput{Email: u.Email, Password: "long enough pw", IP: "ip"})
			require.NoError(t, err)

			// Without a master key it does not start, and says what to set.
			_, err = LoadKeyring(ctx, b.db, KeyringConfig{})
			require.ErrorIs(t, err, errkind.Invalid)
			require.Contains(t, err.Error(), "TOLLGATE_MASTER_KEY")

			// When the new version starts with a master key, the row is sealed in place
			// and a fresh key signs from now on (the old one may sit in backups).
			upgraded, err := LoadKeyring(ctx, b.db, KeyringConfig{Sealer: sealer})
			require.NoError(t, err)
			require.NotEqual(t, oldKid, upgraded.Current())
			value = storedKeyringValue(t, b)
			require.NotContains(t, value, oldSecret)
			require.NotContains(t, value, oldKid)
			require.Contains(t, value, `"sealed"`)
			// The session signed before the upgrade still verifies, within the grace.
			s := NewSessions(b.db, users, upgraded, SessionConfig{}, logger)
			_, err = s.Verify(ctx, before.AccessToken.Reveal())
			require.NoError(t, err)
			after, err := s.Login(ctx, LoginInput{Email: u.Email, Password: "long enough pw", IP: "ip"})
			require.NoError(t, err)
			// A second start (another replica) reads the sealed row as it is.
			again, err := LoadKeyring(ctx, b.db, KeyringConfig{Sealer: sealer})
			require.NoError(t, err)
			require.Equal(t, upgraded.Current(), again.Current())
			require.Equal(t, value, storedKeyringValue(t, b))

			// Once the grace has passed, a token signed with the exposed key (as
			// anyone holding an old backup could mint) no longer verifies; new ones do.
			later := time.Now().Add(exposedKeyGrace + time.Minute)
			upgraded.now = func() time.Time { return later }
			_, err = s.Verify(ctx, before.AccessToken.Reveal())
			require.ErrorIs(t, err, errkind.Unauthenticated)
			_, err = s.Verify(ctx, after.AccessToken.Reveal())
			require.NoError(t, err)

			// A rotation writes the new key sealed too, and drops the exposed one.
			kid, err := upgraded.Rotate(ctx, feed, 3)
			require.NoError(t, err)
			value = storedKeyringValue(t, b)
			require.NotContains(t, value, oldSecret)
			require.NotContains(t, value, kid)
			for _, raw := range rawKeys(upgraded) {
				require.NotContains(t, value, raw)
			}
			doc, plaintext, err := readKeyring(ctx, b.db.Gorm, sealer)
			require.NoError(t, err)
			require.False(t, plaintext)
			require.NotContains(t, doc.Keys, oldKid)
			require.Len(t, doc.Keys, 2, "the upgrade's key and the rotation's")

			// Another master key cannot open it: a clear refusal, not a new keyring.
			_, err = LoadKeyring(ctx, b.db, KeyringConfig{Sealer: testSealer(t, "another-master-key-0123456789abcdef012")})
			require.ErrorIs(t, err, errkind.Invalid)
			require.Contains(t, err.Error(), "TOLLGATE_MASTER_KEY differs")
			require.Equal(t, value, storedKeyringValue(t, b), "a wrong key changes nothing")

			// A static keyring has nothing stored to rotate.
			_, err = NewStaticKeyring("0123456789abcdef0123456789abcdef").Rotate(ctx, feed, 3)
			require.ErrorIs(t, err, errkind.Invalid)
		})
	}
}

// TestAccessTokenLifetimeBounded: a token whose exp - iat exceeds the access TTL
// (one minted with a stolen key, valid for a year) is refused, and so are tokens
// without iat or exp, even when correctly signed for a live session.
func TestAccessTokenLifetimeBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	ctx := t.Context()
	logger := logging.Discard()
	feed := tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{}, logger)
	users := NewUsers(b.db, NewHasher(TestPasswordParams()), feed, logger)
	u, err := users.Create(ctx, CreateUserInput{Email: "a@example.com", Password: "long enough pw"})
	require.NoError(t, err)
	keyring := NewStaticKeyring("0123456789abcdef0123456789abcdef")
	s := NewSessions(b.db, users, keyring, SessionConfig{AccessTTL: 15 * time.Minute}, logger)
	pair, err := s.Login(ctx, LoginInput{Email: u.Email, Password: "long enough pw", IP: "ip"})
	require.NoError(t, err)
	_, err = s.Verify(ctx, pair.AccessToken.Reveal())
	require.NoError(t, err)
	var family string
	{
		var c SessionClaims
		_, _, err := jwtParser().ParseUnverified(pair.AccessToken.Reveal(), &c)
		require.NoError(t, err)
		family = c.Family
	}
	now := time.Now()
	for name, tc := range map[string]struct {
		iat, exp *time.Time
		ok       bool
	}{
		"exactly the TTL":   {iat: &now, exp: ptr(now.Add(15 * time.Minute)), ok: true},
		"a year long":       {iat: &now, exp: ptr(now.Add(365 * 24 * time.Hour))},
		"a second over":     {iat: &now, exp: ptr(now.Add(15*time.Minute + time.Second))},
		"iat backdated":     {iat: ptr(now.Add(-time.Hour)), exp: ptr(now.Add(time.Minute))},
		"no iat":            {exp: ptr(now.Add(time.Minute))},
		"no exp":            {iat: &now},
		"exp before iat":    {iat: &now, exp: ptr(now.Add(-time.Second))},
		"iat in the future": {iat: ptr(now.Add(time.Hour)), exp: ptr(now.Add(time.Hour + time.Minute))},
	} {
		tok := signForTest(t, keyring, u.ID, family, tc.iat, tc.exp)
		_, err := s.Verify(ctx, tok)
		if tc.ok {
			require.NoError(t, err, name)
			continue
		}
		require.ErrorIs(t, err, errkind.Unauthenticated, name)
	}
}

func ptr[T any](v T) *T { return &v }

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawStdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

func jwtParser() *jwt.Parser { return jwt.NewParser() }

// signForTest signs a session token with keyring's current key and the given
// iat/exp (nil leaves the claim out), as someone holding the key could.
func signForTest(t *testing.T, keyring *Keyring, userID, family string, iat, exp *time.Time) string {
	t.Helper()
	c := SessionClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: jwtIssuer, Subject: userID, ID: tenants.NewULID()}, Family: family}
	if iat != nil {
		c.IssuedAt = jwt.NewNumericDate(*iat)
	}
	if exp != nil {
		c.ExpiresAt = jwt.NewNumericDate(*exp)
	}
	kid, secret := keyring.signingKey()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(secret)
	require.NoError(t, err)
	return s
}
