package accounts

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// ProviderSignInInput is a person whose identity a tenant's identity provider
// has just vouched for (single sign-on): the email is verified by the provider
// and lies in a domain the tenant allows.
type ProviderSignInInput struct {
	Tenant tenants.ID
	Email  string
	Name   string
	// Role is the role a new member gets (from the tenant's group mapping); an
	// existing member keeps theirs.
	Role access.Role
	// Platform says the provider is the operator's (self-host, configured by
	// environment) rather than a tenant's: only then may it sign in a superadmin.
	Platform bool
	// Issuer and Subject identify the person at the provider, for the audit log.
	Issuer  string
	Subject string
	IP      string
}

// Validate reports every problem with the input.
func (in ProviderSignInInput) Validate() error {
	var errs []error
	if !in.Tenant.Valid() {
		errs = append(errs, errors.New("tenant is required"))
	}
	if err := validateEmail(in.Email); err != nil {
		errs = append(errs, err)
	}
	if !in.Role.Valid() {
		errs = append(errs, errors.New("role must be one of owner, admin, developer, viewer, billing"))
	}
	return errkind.JoinInvalid("invalid single sign-on", errs)
}

// ProviderSignIn returns the account a provider-verified person signs in as,
// creating it (with no password) and its membership with in.Role on first
// sign-in, audited in the tenant's log. It refuses, changing nothing:
//   - an account that exists but is not a member of the tenant: a provider of
//     one tenant never attaches someone else's account to it (joining takes an
//     invitation the person accepts);
//   - a disabled account;
//   - a superadmin, unless the provider is the operator's (a tenant's provider
//     must not be able to mint platform operators).
func (s *Users) ProviderSignIn(ctx context.Context, in ProviderSignInInput) (User, bool, error) {
	if err := in.Validate(); err != nil {
		return User{}, false, err
	}
	refused := func(msg string) error {
		return &errkind.Error{Kind: errkind.Forbidden, Code: "sso_account_refused", Message: msg}
	}
	var out User
	var created bool
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.byEmail(ctx, tx, in.Email)
		actor := audit.Actor{Email: normalizeEmail(in.Email), IP: in.IP}
		details := map[string]any{"issuer": in.Issuer, "subject": in.Subject}
		switch {
		case errors.Is(err, errkind.NotFound):
			u, err := s.createTx(ctx, tx, CreateUserInput{Email: strings.TrimSpace(in.Email), Name: in.Name})
			if err != nil {
				return err
			}
			m := membershipRow{TenantID: string(in.Tenant), UserID: u.ID, Role: string(in.Role), CreatedAt: tenants.NowUTC()}
			if err := tx.Create(&m).Error; err != nil {
				return err
			}
			if err := access.AssignRoleTx(tx, u.ID, in.Role, string(in.Tenant)); err != nil {
				return err
			}
			actor.UserID = u.ID
			details["role"] = in.Role
			if err := audit.RecordTx(tx, in.Tenant, actor, audit.AuditMemberJoinedSSO, u.Email, details); err != nil {
				return err
			}
			out, created = u, true
			return s.feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeRBAC})
		case err != nil:
			return err
		}
		if row.DisabledAt != nil {
			return refused("this account is disabled; ask an administrator")
		}
		if row.Superadmin && !in.Platform {
			return refused("a platform administrator cannot sign in through a tenant's identity provider; sign in with your password")
		}
		var n int64
		if err := tx.Model(&membershipRow{}).Where("tenant_id = ? AND user_id = ?", string(in.Tenant), row.ID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 && !(row.Superadmin && in.Platform) {
			return refused("this email already has a Tollgate account outside this tenant; ask a tenant admin to invite it, then accept the invitation")
		}
		actor.UserID = row.ID
		if err := audit.RecordTx(tx, in.Tenant, actor, audit.AuditUserSignedInSSO, row.Email, details); err != nil {
			return err
		}
		out = mapUser(row)
		return nil
	})
	if err != nil {
		return User{}, false, err
	}
	if created {
		s.rbacChanged(ctx)
	}
	return out, created, nil
}

// NonSuperadminMemberOf lists the tenants user is a member of, for the
// password gate; a superadmin gets none (the platform operator's password
// always works, so no tenant setting can lock the operator out).
func (s *Users) NonSuperadminMemberOf(ctx context.Context, u User) ([]tenants.ID, error) {
	if u.Superadmin {
		return nil, nil
	}
	var ids []string
	if err := s.db.Gorm.WithContext(ctx).Model(&membershipRow{}).Where("user_id = ?", u.ID).Pluck("tenant_id", &ids).Error; err != nil {
		return nil, err
	}
	out := make([]tenants.ID, len(ids))
	for i, id := range ids {
		out[i] = tenants.ID(id)
	}
	return out, nil
}
