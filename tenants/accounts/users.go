// Package accounts owns people and how they sign in: users, tenant memberships,
// passwords (argon2id), sessions (JWT access tokens signed by a rotating keyring,
// refresh token families), invitations and one-time reset links, account
// lifecycle (disable, delete, sign out everywhere) and the first-run bootstrap.
package accounts

import (
	"context"
	"errors"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// User is a person who signs in to the console.
type User struct {
	ID         string
	Email      string
	Name       string
	Superadmin bool
	CreatedAt  time.Time
	DisabledAt *time.Time
}

type userRow struct {
	ID           string `gorm:"primaryKey"`
	Email        string
	Name         string
	PasswordHash string
	Superadmin   bool
	CreatedAt    time.Time
	DisabledAt   *time.Time
}

func (userRow) TableName() string { return "users" }

func mapUser(r userRow) User {
	return User{ID: r.ID, Email: r.Email, Name: r.Name, Superadmin: r.Superadmin, CreatedAt: r.CreatedAt.UTC(), DisabledAt: r.DisabledAt}
}

// Users manages users, their memberships (tenant roles) and superadmin status.
// Every role change writes the membership row and its Casbin rule in one
// transaction, then has every instance reload the policy.
type Users struct {
	db     *database.DB
	hasher *Hasher
	feed   *tenants.ChangeFeed
	logger *slog.Logger
}

// NewUsers returns the user service.
func NewUsers(db *database.DB, hasher *Hasher, feed *tenants.ChangeFeed, logger *slog.Logger) *Users {
	return &Users{db: db, hasher: hasher, feed: feed, logger: logger.With("component", "tenants.users")}
}

// CreateUserInput creates a user, optionally a superadmin.
type CreateUserInput struct {
	Email string
	Name  string
	// Password is the initial password (10..256 characters). Empty leaves the account
	// without one until its owner sets it through a one-time link (CreateResetLink).
	Password seal.Secret
	// Superadmin makes the user a platform operator.
	Superadmin bool
}

// Validate reports every problem with the input.
func (in CreateUserInput) Validate() error {
	var errs []error
	if err := validateEmail(in.Email); err != nil {
		errs = append(errs, err)
	}
	if len(in.Name) > 100 {
		errs = append(errs, errors.New("name must be at most 100 characters"))
	}
	if in.Password != "" {
		if err := validatePassword(in.Password.Reveal()); err != nil {
			errs = append(errs, err)
		}
	}
	return errkind.JoinInvalid("invalid user", errs)
}

func validateEmail(email string) error {
	e := strings.TrimSpace(email)
	if e == "" {
		return errors.New("email is required")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 {
		return errors.New("email is not a valid address like name@example.com")
	}
	return nil
}

// normalizeEmail is the stored and compared form of an email: trimmed, lowercase.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Create adds a user. An email already taken is a Conflict.
func (s *Users) Create(ctx context.Context, in CreateUserInput) (User, error) {
	if err := in.Validate(); err != nil {
		return User{}, err
	}
	var u User
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		u, err = s.createTx(ctx, tx, in)
		return err
	})
	if err != nil {
		return User{}, err
	}
	if in.Superadmin {
		s.rbacChanged(ctx)
	}
	return u, nil
}

func (s *Users) createTx(ctx context.Context, tx *gorm.DB, in CreateUserInput) (User, error) {
	var hash string
	if in.Password != "" {
		var err error
		if hash, err = s.hasher.Hash(ctx, in.Password.Reveal()); err != nil {
			return User{}, err
		}
	}
	row := userRow{ID: tenants.NewULID(), Email: normalizeEmail(in.Email), Name: strings.TrimSpace(in.Name), PasswordHash: hash,
		Superadmin: in.Superadmin, CreatedAt: tenants.NowUTC()}
	if err := tx.Create(&row).Error; err != nil {
		if database.IsUniqueViolation(err) {
			return User{}, errkind.New(errkind.Conflict, "a user with email %q already exists", row.Email)
		}
		return User{}, err
	}
	if in.Superadmin {
		if err := access.AssignRoleTx(tx, row.ID, access.RoleSuperadmin, access.PolicyDomainAny); err != nil {
			return User{}, err
		}
		if err := s.feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeRBAC}); err != nil {
			return User{}, err
		}
	}
	return mapUser(row), nil
}

// SetSuperadminInput grants or withdraws the platform superadmin role.
type SetSuperadminInput struct {
	UserID     string
	Superadmin bool
	Actor      audit.Actor
}

// SetSuperadmin grants or withdraws the platform superadmin role. Withdrawing it
// from the last superadmin is a Conflict.
func (s *Users) SetSuperadmin(ctx context.Context, in SetSuperadminInput) error {
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.userByID(tx, in.UserID)
		if err != nil {
			return err
		}
		if row.Superadmin == in.Superadmin {
			return nil
		}
		if !in.Superadmin {
			if err := ensureAnotherSuperadmin(tx, in.UserID); err != nil {
				return err
			}
		}
		if err := tx.Model(&userRow{}).Where("id = ?", in.UserID).Update("superadmin", in.Superadmin).Error; err != nil {
			return err
		}
		action := audit.AuditUserSuperadminGranted
		if !in.Superadmin {
			action = audit.AuditUserSuperadminRevoked
		}
		if err := audit.RecordTx(tx, "", in.Actor, action, row.Email, nil); err != nil {
			return err
		}
		if in.Superadmin {
			err = access.AssignRoleTx(tx, in.UserID, access.RoleSuperadmin, access.PolicyDomainAny)
		} else {
			err = access.UnassignRolesTx(tx, in.UserID, access.PolicyDomainAny)
		}
		if err != nil {
			return err
		}
		return s.feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeRBAC})
	})
	if err != nil {
		return err
	}
	s.rbacChanged(ctx)
	return nil
}

// Get returns a user by id.
func (s *Users) Get(ctx context.Context, id string) (User, error) {
	var row userRow
	err := s.db.Gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return User{}, errkind.New(errkind.NotFound, "user not found")
	}
	return mapUser(row), err
}

// FindByEmail returns a user by email (case-insensitive).
func (s *Users) FindByEmail(ctx context.Context, email string) (User, error) {
	row, err := s.byEmail(ctx, s.db.Gorm, email)
	if err != nil {
		return User{}, err
	}
	return mapUser(row), nil
}

func (s *Users) byEmail(ctx context.Context, db *gorm.DB, email string) (userRow, error) {
	var row userRow
	err := db.WithContext(ctx).Where("email = ?", normalizeEmail(email)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return userRow{}, errkind.New(errkind.NotFound, "no user with email %q", normalizeEmail(email))
	}
	return row, err
}

// CheckPassword returns the user whose email and password match. Every failure
// (unknown email, wrong password, disabled user) is the same Unauthenticated error
// and takes the same time.
func (s *Users) CheckPassword(ctx context.Context, email string, password seal.Secret) (User, error) {
	fail := errkind.New(errkind.Unauthenticated, "email or password is wrong")
	row, err := s.byEmail(ctx, s.db.Gorm, email)
	if errors.Is(err, errkind.NotFound) || (err == nil && row.PasswordHash == "") {
		s.hasher.Burn(ctx, password.Reveal())
		return User{}, fail
	}
	if err != nil {
		return User{}, err
	}
	ok, err := s.hasher.Verify(ctx, password.Reveal(), row.PasswordHash)
	if err != nil {
		return User{}, err
	}
	if !ok || row.DisabledAt != nil {
		return User{}, fail
	}
	return mapUser(row), nil
}

// HasSuperadmin reports whether any superadmin exists (bootstrap).
func (s *Users) HasSuperadmin(ctx context.Context) (bool, error) {
	var n int64
	err := s.db.Gorm.WithContext(ctx).Model(&userRow{}).Where("superadmin = ?", true).Count(&n).Error
	return n > 0, err
}

// rbacChanged has this instance reload its policy after a committed change (the
// Authorizer subscribes to the feed); other instances got the NOTIFY (Postgres) or
// will see the poll (SQLite).
func (s *Users) rbacChanged(ctx context.Context) {
	s.feed.Deliver(ctx, tenants.Change{Kind: tenants.ChangeRBAC})
}
