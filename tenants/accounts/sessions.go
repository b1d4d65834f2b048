package accounts

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// SessionConfig tunes sessions.
type SessionConfig struct {
	// AccessTTL is the lifetime of an access JWT; 0 means 15 minutes.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of a refresh token; 0 means 30 days. Each refresh
	// issues a new one, so an active session never expires.
	RefreshTTL time.Duration
	// Limits rate-limit login attempts.
	Limits LoginLimits
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PasswordGate, when set, is asked after a correct password whether the user
	// may sign in with a password at all (single sign-on required by one of their
	// tenants refuses); nil allows every password sign-in.
	PasswordGate func(ctx context.Context, u User) error
}

// jwtIssuer is the iss claim of every session token.
const jwtIssuer = "tollgate"

// refreshTokenPrefix starts every refresh token (recognisable in leaks).
const refreshTokenPrefix = "tgr_"

// errSession is the one refusal for any bad token: expired, revoked, malformed,
// unsigned or signed with an unknown key all look the same to the caller.
func errSession() error {
	return errkind.New(errkind.Unauthenticated, "session is invalid or expired; sign in again")
}

// TokenPair is what login and refresh return.
type TokenPair struct {
	AccessToken  seal.Secret
	RefreshToken seal.Secret
	// ExpiresIn is the access token's lifetime.
	ExpiresIn time.Duration
}

// SessionClaims are the claims of an access token.
type SessionClaims struct {
	jwt.RegisteredClaims
	// Family is the refresh-token family (one per login); logout revokes it and with
	// it every access token of the session.
	Family string `json:"fam"`
	// Tenant, when set, confines the session to one tenant: a session started
	// through that tenant's identity provider reaches nothing else.
	Tenant string `json:"tnt,omitempty"`
}

// Session is a verified access token with its user.
type Session struct {
	User   User
	Family string
	// Tenant is empty for a password session (every tenant the user belongs to);
	// a session started through a tenant's single sign-on holds that tenant only.
	Tenant tenants.ID
}

// errLoginThrottled refuses a sign-in attempt over the login limits; the message
// and Retry-After name the delay.
func errLoginThrottled(wait time.Duration) error {
	wait = max(wait, time.Second)
	return &errkind.Error{Kind: errkind.RateLimited, Code: "rate_limit_exceeded", RetryAfter: wait,
		Message: "too many sign-in attempts; retry in " + wait.Round(time.Second).String()}
}

// LoginLimits configure login rate limiting. Each is a token bucket: Burst attempts
// at once, refilled at PerMinute.
type LoginLimits struct {
	// PerAccountPerMinute refills one account's bucket; 0 means 10.
	PerAccountPerMinute float64
	// PerAccountBurst is one account's capacity; 0 means 10.
	PerAccountBurst float64
	// PerIPPerMinute refills one client IP's bucket; 0 means 60.
	PerIPPerMinute float64
	// PerIPBurst is one client IP's capacity; 0 means 30.
	PerIPBurst float64
	// MaxTracked bounds the number of tracked accounts and IPs; 0 means 100,000.
	MaxTracked int
}

// Sessions signs users in and out: short-lived HS256 access tokens (with a kid, so
// the key can rotate) and rotating refresh tokens stored as hashes. Reusing a
// refresh token that was already exchanged revokes its whole family: whoever stole
// it and the rightful owner are both signed out.
type Sessions struct {
	db      *database.DB
	users   *Users
	keyring *Keyring
	cfg     SessionConfig
	now     func() time.Time
	ipLim   *apikeys.KeyedLimiter
	userLim *apikeys.KeyedLimiter
	logger  *slog.Logger
}

// NewSessions returns the session service; zero config fields take defaults.
func NewSessions(db *database.DB, users *Users, keyring *Keyring, cfg SessionConfig, logger *slog.Logger) *Sessions {
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = 15 * time.Minute
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	l := &cfg.Limits
	l.PerAccountPerMinute = orFloat(l.PerAccountPerMinute, 10)
	l.PerAccountBurst = orFloat(l.PerAccountBurst, 10)
	l.PerIPPerMinute = orFloat(l.PerIPPerMinute, 60)
	l.PerIPBurst = orFloat(l.PerIPBurst, 30)
	if l.MaxTracked <= 0 {
		l.MaxTracked = 100_000
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Sessions{db: db, users: users, keyring: keyring, cfg: cfg, now: now,
		ipLim:   apikeys.NewKeyedLimiter(l.PerIPPerMinute, l.PerIPBurst, l.MaxTracked, now),
		userLim: apikeys.NewKeyedLimiter(l.PerAccountPerMinute, l.PerAccountBurst, l.MaxTracked, now),
		logger:  logger.With("component", "tenants.sessions")}
}

func orFloat(v, d float64) float64 {
	if v <= 0 {
		return d
	}
	return v
}

// LoginInput is a sign-in attempt.
type LoginInput struct {
	Email    string
	Password seal.Secret
	// IP is the client address, for rate limiting.
	IP string
}

// Validate reports every problem with the input.
func (in LoginInput) Validate() error {
	var errs []error
	if strings.TrimSpace(in.Email) == "" {
		errs = append(errs, errors.New("email is required"))
	} else if len(in.Email) > 254 {
		errs = append(errs, errors.New("email is too long"))
	}
	if in.Password == "" {
		errs = append(errs, errors.New("password is required"))
	} else if len(in.Password) > maxPasswordLen {
		errs = append(errs, errors.New("password is too long"))
	}
	return errkind.JoinInvalid("invalid sign-in", errs)
}

// Login checks the password and starts a session. Attempts are rate-limited per
// client IP and per account, whether they succeed or not.
func (s *Sessions) Login(ctx context.Context, in LoginInput) (TokenPair, error) {
	if err := in.Validate(); err != nil {
		return TokenPair{}, err
	}
	if err := s.Throttle(in.IP, in.Email); err != nil {
		return TokenPair{}, err
	}
	u, err := s.users.CheckPassword(ctx, in.Email, in.Password)
	if err != nil {
		if errkind.Of(err) == errkind.Unauthenticated {
			s.logger.InfoContext(ctx, "sign-in refused", "ip", in.IP)
		}
		return TokenPair{}, err
	}
	if s.cfg.PasswordGate != nil {
		if err := s.cfg.PasswordGate(ctx, u); err != nil {
			s.logger.InfoContext(ctx, "password sign-in refused: single sign-on required", "ip", in.IP)
			return TokenPair{}, err
		}
	}
	return s.Start(ctx, StartInput{UserID: u.ID, Method: AuthMethodPassword})
}

// AuthMethod is how a session's user proved who they are.
type AuthMethod string

// Auth methods.
const (
	AuthMethodPassword AuthMethod = "password"
	AuthMethodSSO      AuthMethod = "sso"
)

// StartInput begins a session for a user whose identity was proven elsewhere.
type StartInput struct {
	UserID string
	// Tenant, when set, confines the session, and every session refreshed from
	// it, to that tenant.
	Tenant tenants.ID
	// Method is how the user signed in; a password session stops refreshing once
	// one of the user's tenants requires single sign-on.
	Method AuthMethod
}

// Start begins a session (Login after the password, single sign-on after the
// identity provider).
func (s *Sessions) Start(ctx context.Context, in StartInput) (TokenPair, error) {
	if in.UserID == "" || (in.Method != AuthMethodPassword && in.Method != AuthMethodSSO) {
		return TokenPair{}, errkind.New(errkind.Invalid, "a session needs a user and a sign-in method")
	}
	family := tenants.NewULID()
	var pair TokenPair
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		pair, err = s.issue(tx, refreshRow{UserID: in.UserID, FamilyID: family, TenantScope: string(in.Tenant), AuthMethod: string(in.Method)})
		return err
	})
	return pair, err
}

// StartTrusted starts a session for userID without a password, for a caller that
// has already established who the user is by other means: the desktop tray, which
// runs as the operating-system user who owns the one-user database it opened. A
// disabled or unknown user is refused exactly as Login refuses a bad password.
func (s *Sessions) StartTrusted(ctx context.Context, userID string) (TokenPair, error) {
	u, err := s.users.Get(ctx, userID)
	if err != nil || u.DisabledAt != nil {
		return TokenPair{}, errSession()
	}
	family := tenants.NewULID()
	var pair TokenPair
	err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		pair, err = s.issue(tx, refreshRow{UserID: u.ID, FamilyID: family, AuthMethod: string(AuthMethodPassword)})
		return err
	})
	return pair, err
}

// Throttle counts one password attempt against the client IP and the account (the
// limits of Login), so no endpoint that checks a password is a faster oracle than
// sign-in. Over a limit it returns a RateLimited error with its Retry-After.
func (s *Sessions) Throttle(ip, email string) error {
	if ok, wait := s.ipLim.Allow(ip); !ok {
		return errLoginThrottled(wait)
	}
	if ok, wait := s.userLim.Allow(normalizeEmail(email)); !ok {
		return errLoginThrottled(wait)
	}
	return nil
}

type refreshRow struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	FamilyID  string
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	// TenantScope confines the family to one tenant ("" = none).
	TenantScope string
	// AuthMethod is how the family's user signed in ("password", "sso").
	AuthMethod string
}

func (refreshRow) TableName() string { return "refresh_tokens" }

// issue stores a new refresh token of the family of prev (its user, family,
// scope and method) and signs an access token.
func (s *Sessions) issue(tx *gorm.DB, prev refreshRow) (TokenPair, error) {
	userID, family, scope := prev.UserID, prev.FamilyID, prev.TenantScope
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return TokenPair{}, err
	}
	refresh := refreshTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	now := s.now().UTC().Truncate(time.Microsecond)
	row := refreshRow{ID: tenants.NewULID(), UserID: userID, FamilyID: family, Hash: seal.SHA256Hex(refresh), CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL), TenantScope: scope, AuthMethod: prev.AuthMethod}
	if err := tx.Create(&row).Error; err != nil {
		return TokenPair{}, err
	}
	access, err := s.sign(userID, family, scope, now)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: seal.Secret(access), RefreshToken: seal.Secret(refresh), ExpiresIn: s.cfg.AccessTTL}, nil
}

func (s *Sessions) sign(userID, family, scope string, now time.Time) (string, error) {
	kid, secret := s.keyring.signingKey()
	claims := SessionClaims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: jwtIssuer, Subject: userID, ID: tenants.NewULID(),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.AccessTTL))},
		Family: family,
		Tenant: scope,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = kid
	return t.SignedString(secret)
}

// Refresh exchanges a refresh token for a new pair. The old token is marked used;
// presenting a used token again is theft or a bug either way, so it revokes the
// whole family.
func (s *Sessions) Refresh(ctx context.Context, refreshToken seal.Secret) (TokenPair, error) {
	tok := refreshToken.Reveal()
	if !strings.HasPrefix(tok, refreshTokenPrefix) || len(tok) > 100 {
		return TokenPair{}, errSession()
	}
	var pair TokenPair
	var reused bool
	var gated error
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row refreshRow
		err := tx.Where("hash = ?", seal.SHA256Hex(tok)).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errSession()
		}
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		if row.RevokedAt != nil || !row.ExpiresAt.After(now) {
			return errSession()
		}
		// Mark used only if nobody did yet: of two concurrent exchanges exactly one wins.
		// A family revoked meanwhile (sign-out everywhere) also loses the race.
		res := tx.Model(&refreshRow{}).Where("id = ? AND used_at IS NULL AND revoked_at IS NULL", row.ID).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			reused = true
			return revokeFamily(tx, row.FamilyID, now)
		}
		var u userRow
		if err := tx.Where("id = ?", row.UserID).Take(&u).Error; err != nil || u.DisabledAt != nil {
			return errSession()
		}
		// A password session ends at its next refresh once a tenant of its user
		// requires single sign-on (within the access TTL, not the refresh TTL).
		if row.AuthMethod == string(AuthMethodPassword) && s.cfg.PasswordGate != nil {
			if err := s.cfg.PasswordGate(ctx, mapUser(u)); err != nil {
				gated = err
				return revokeFamily(tx, row.FamilyID, now)
			}
		}
		pair, err = s.issue(tx, row)
		return err
	})
	if gated != nil {
		return TokenPair{}, gated
	}
	if reused {
		s.logger.WarnContext(ctx, "refresh token reused; session family revoked")
		return TokenPair{}, errSession()
	}
	return pair, err
}

// Logout revokes the session family of refreshToken: its refresh tokens and every
// access token it issued. An unknown token is not an error (logout is idempotent).
func (s *Sessions) Logout(ctx context.Context, refreshToken seal.Secret) error {
	tok := refreshToken.Reveal()
	if !strings.HasPrefix(tok, refreshTokenPrefix) || len(tok) > 100 {
		return nil
	}
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row refreshRow
		err := tx.Where("hash = ?", seal.SHA256Hex(tok)).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return revokeFamily(tx, row.FamilyID, s.now().UTC().Truncate(time.Microsecond))
	})
}

func revokeFamily(tx *gorm.DB, family string, now time.Time) error {
	return tx.Model(&refreshRow{}).Where("family_id = ? AND revoked_at IS NULL", family).Update("revoked_at", now).Error
}

// lifetimeOK reports whether a token carries iat and exp no further apart than the
// access TTL: we never sign a longer one, so a longer one was minted elsewhere
// (with a leaked key) and must not outlive a rotation by a year.
func (s *Sessions) lifetimeOK(c jwt.RegisteredClaims) bool {
	return c.IssuedAt != nil && c.ExpiresAt != nil && !c.ExpiresAt.Before(c.IssuedAt.Time) &&
		c.ExpiresAt.Sub(c.IssuedAt.Time) <= s.cfg.AccessTTL
}

// Verify checks an access token: HS256 only (no "none", no algorithm confusion),
// a known kid, our issuer, iat and exp present and at most the access TTL apart,
// not expired, its session family not revoked, its user not disabled. Any failure
// is the same Unauthenticated error.
func (s *Sessions) Verify(ctx context.Context, accessToken string) (Session, error) {
	if len(accessToken) > 4096 {
		return Session{}, errSession()
	}
	var claims SessionClaims
	_, err := jwt.ParseWithClaims(accessToken, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := s.keyring.verificationKey(kid)
		if !ok {
			return nil, errors.New("unknown kid")
		}
		return key, nil
	}, jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(jwtIssuer),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(s.now))
	if err != nil || claims.Subject == "" || claims.Family == "" || !s.lifetimeOK(claims.RegisteredClaims) {
		return Session{}, errSession()
	}
	var live int64
	if err := s.db.Gorm.WithContext(ctx).Model(&refreshRow{}).
		Where("family_id = ? AND user_id = ? AND tenant_scope = ? AND revoked_at IS NULL", claims.Family, claims.Subject, claims.Tenant).Count(&live).Error; err != nil {
		return Session{}, errkind.Wrap(errkind.Unavailable, err, "cannot check the session right now; retry")
	}
	if live == 0 {
		return Session{}, errSession()
	}
	u, err := s.users.Get(ctx, claims.Subject)
	if err != nil || u.DisabledAt != nil {
		return Session{}, errSession()
	}
	return Session{User: u, Family: claims.Family, Tenant: tenants.ID(claims.Tenant)}, nil
}
