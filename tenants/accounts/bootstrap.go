package accounts

import (
	"context"
	"errors"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// GeneratePassword returns a random 21-character base62 password (~89 bits), for
// bootstrap admins, invitations and the CLI; it is shown once.
func GeneratePassword() (seal.Secret, error) {
	s, err := seal.RandomBase62(15)
	return seal.Secret(s), err
}

// BootstrapInput names the platform's first superadmin.
type BootstrapInput struct {
	// Email of the bootstrap admin (TOLLGATE_ADMIN_EMAIL).
	Email string
	// Password (TOLLGATE_ADMIN_PASSWORD); empty generates one, returned once.
	Password seal.Secret
	// OwnerOf, when set, makes the admin owner of that tenant too (the self-host
	// "default" tenant), if the tenant has no owner yet.
	OwnerOf tenants.ID
}

// BootstrapResult says what Bootstrap did.
type BootstrapResult struct {
	// Created is true when the admin user was created by this call.
	Created bool
	User    User
	// GeneratedPassword is set when the password was generated: print it once.
	GeneratedPassword seal.Secret
}

// Bootstrap makes sure a superadmin exists: on first start it creates the admin user
// (or promotes an existing user with that email). It never changes the password of
// an existing user. Safe when several replicas start at once.
func (s *Users) Bootstrap(ctx context.Context, in BootstrapInput) (BootstrapResult, error) {
	var res BootstrapResult
	has, err := s.HasSuperadmin(ctx)
	if err != nil {
		return res, err
	}
	if !has {
		u, err := s.FindByEmail(ctx, in.Email)
		switch {
		case errors.Is(err, errkind.NotFound):
			pw := in.Password
			if pw == "" {
				gen, gerr := seal.RandomBase62(15)
				if gerr != nil {
					return res, gerr
				}
				pw = seal.Secret(gen)
				res.GeneratedPassword = pw
			}
			u, err = s.Create(ctx, CreateUserInput{Email: in.Email, Name: "Admin", Password: pw, Superadmin: true})
			if errkind.Of(err) == errkind.Conflict {
				// Another replica won the race; use its admin.
				res.GeneratedPassword = ""
				u, err = s.FindByEmail(ctx, in.Email)
			} else if err == nil {
				res.Created = true
			}
			if err != nil {
				return res, err
			}
		case err != nil:
			return res, err
		default:
			if err := s.SetSuperadmin(ctx, SetSuperadminInput{UserID: u.ID, Superadmin: true, Actor: audit.Actor{Email: "system"}}); err != nil {
				return res, err
			}
			u.Superadmin = true
		}
		res.User = u
	} else if u, err := s.FindByEmail(ctx, in.Email); err == nil {
		res.User = u
	}
	if in.OwnerOf != "" && res.User.ID != "" {
		var owners int64
		if err := s.db.Gorm.WithContext(ctx).Model(&membershipRow{}).
			Where("tenant_id = ? AND role = ?", string(in.OwnerOf), string(access.RoleOwner)).Count(&owners).Error; err != nil {
			return res, err
		}
		if owners == 0 {
			if err := s.AddMember(ctx, in.OwnerOf, res.User.ID, access.RoleOwner, audit.Actor{Email: "system"}); err != nil && !database.IsUniqueViolation(err) {
				return res, err
			}
		}
	}
	return res, nil
}
