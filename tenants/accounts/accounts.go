package accounts

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// Account lifecycle: passwords, disabling, signing out everywhere, deleting. Every
// change is audited in the platform log (tenant "") and in each tenant the user
// belongs to, inside the transaction of the change.

// revokeUserSessionsTx revokes every refresh-token family of the user except
// keepFamily (empty revokes all). Access tokens die with their family: Verify
// refuses a token whose family has no live refresh token.
func revokeUserSessionsTx(tx *gorm.DB, userID, keepFamily string) error {
	q := tx.Model(&refreshRow{}).Where("user_id = ? AND revoked_at IS NULL", userID)
	if keepFamily != "" {
		q = q.Where("family_id <> ?", keepFamily)
	}
	return q.Update("revoked_at", tenants.NowUTC()).Error
}

// recordUserAudit records a change to an account in the platform log and in the
// log of every tenant the user is a member of.
func recordUserAudit(tx *gorm.DB, userID string, actor audit.Actor, action, target string, details map[string]any) error {
	var tenantIDs []string
	if err := tx.Model(&membershipRow{}).Where("user_id = ?", userID).Order("tenant_id").Pluck("tenant_id", &tenantIDs).Error; err != nil {
		return err
	}
	for _, t := range append([]string{""}, tenantIDs...) {
		if err := audit.RecordTx(tx, tenants.ID(t), actor, action, target, details); err != nil {
			return err
		}
	}
	return nil
}

func (s *Users) userByID(tx *gorm.DB, userID string) (userRow, error) {
	var row userRow
	err := tx.Where("id = ?", userID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return userRow{}, errkind.New(errkind.NotFound, "user %q not found", userID)
	}
	return row, err
}

// ChangePasswordInput is a signed-in user changing their own password.
type ChangePasswordInput struct {
	UserID  string
	Current seal.Secret
	New     seal.Secret
	// KeepFamily is the session family of the request, which stays signed in; every
	// other session of the user is revoked.
	KeepFamily string
	Actor      audit.Actor
}

// Validate reports every problem with the input.
func (in ChangePasswordInput) Validate() error {
	var errs []error
	if in.Current == "" {
		errs = append(errs, errors.New("current_password is required"))
	}
	if err := validatePassword(in.New.Reveal()); err != nil {
		errs = append(errs, errors.New("new_password: "+err.Error()))
	}
	if in.New != "" && in.New == in.Current {
		errs = append(errs, errors.New("new_password must differ from the current one"))
	}
	return errkind.JoinInvalid("invalid password change", errs)
}

// ChangePassword sets a new password after checking the current one, and signs
// out every other session of the user.
func (s *Users) ChangePassword(ctx context.Context, in ChangePasswordInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	row, err := s.userByID(s.db.Gorm.WithContext(ctx), in.UserID)
	if err != nil {
		return err
	}
	ok := false
	if row.PasswordHash != "" {
		if ok, err = s.hasher.Verify(ctx, in.Current.Reveal(), row.PasswordHash); err != nil {
			return err
		}
	}
	if !ok {
		return &errkind.Error{Kind: errkind.Invalid, Code: "wrong_password", Message: "current_password is wrong; nothing was changed"}
	}
	return s.setPassword(ctx, row, in.New, in.KeepFamily, in.Actor, audit.AuditUserPasswordChanged)
}

// SetPasswordInput is the operator setting a password from the server's CLI.
type SetPasswordInput struct {
	Email    string
	Password seal.Secret
	Actor    audit.Actor
}

// SetPassword sets a user's password (operator CLI, on the server) and signs them
// out everywhere.
func (s *Users) SetPassword(ctx context.Context, in SetPasswordInput) error {
	if err := validatePassword(in.Password.Reveal()); err != nil {
		return errkind.New(errkind.Invalid, "invalid password: %s", err)
	}
	row, err := s.byEmail(ctx, s.db.Gorm, in.Email)
	if err != nil {
		return err
	}
	return s.setPassword(ctx, row, in.Password, "", in.Actor, audit.AuditUserPasswordSet)
}

func (s *Users) setPassword(ctx context.Context, row userRow, pw seal.Secret, keepFamily string, actor audit.Actor, action string) error {
	hash, err := s.hasher.Hash(ctx, pw.Reveal())
	if err != nil {
		return err
	}
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&userRow{}).Where("id = ?", row.ID).Update("password_hash", hash).Error; err != nil {
			return err
		}
		if err := revokeUserSessionsTx(tx, row.ID, keepFamily); err != nil {
			return err
		}
		// Reset links made earlier would let their holder override the new password.
		if err := tx.Model(&invitationRow{}).Where("purpose = ? AND email = ? AND "+pendingLink, string(PurposeReset), row.Email, tenants.NowUTC()).
			Update("revoked_at", tenants.NowUTC()).Error; err != nil {
			return err
		}
		return recordUserAudit(tx, row.ID, actor, action, row.Email, nil)
	})
}

// SignOutEverywhere revokes every session of the user: their refresh tokens stop
// working and so do their access tokens, on every instance, at once.
func (s *Users) SignOutEverywhere(ctx context.Context, userID string, actor audit.Actor) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.userByID(tx, userID)
		if err != nil {
			return err
		}
		if err := revokeUserSessionsTx(tx, row.ID, ""); err != nil {
			return err
		}
		return recordUserAudit(tx, row.ID, actor, audit.AuditUserSignedOut, row.Email, nil)
	})
}

// SetDisabledInput disables or enables a user.
type SetDisabledInput struct {
	UserID   string
	Disabled bool
	Actor    audit.Actor
}

// SetDisabled disables or enables a user. A disabled user cannot sign in or
// refresh, and their sessions are revoked at once. Nobody disables themselves.
func (s *Users) SetDisabled(ctx context.Context, in SetDisabledInput) (User, error) {
	var out User
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.userByID(tx, in.UserID)
		if err != nil {
			return err
		}
		if in.Disabled && in.Actor.UserID == row.ID {
			return errkind.New(errkind.Conflict, "you cannot disable your own account")
		}
		if (row.DisabledAt != nil) == in.Disabled {
			out = mapUser(row)
			return nil
		}
		action := audit.AuditUserEnabled
		if in.Disabled {
			now := tenants.NowUTC()
			row.DisabledAt, action = &now, audit.AuditUserDisabled
			if err := revokeUserSessionsTx(tx, row.ID, ""); err != nil {
				return err
			}
		} else {
			row.DisabledAt = nil
		}
		if err := tx.Model(&userRow{}).Where("id = ?", row.ID).Update("disabled_at", row.DisabledAt).Error; err != nil {
			return err
		}
		out = mapUser(row)
		return recordUserAudit(tx, row.ID, in.Actor, action, row.Email, nil)
	})
	return out, err
}

// DeleteUserInput deletes an account (superadmin).
type DeleteUserInput struct {
	UserID string
	// KeepKeys keeps the API keys the user created; by default they are revoked.
	KeepKeys bool
	Actor    audit.Actor
}

// DeleteUser removes an account with its memberships and sessions, and revokes the
// API keys it created unless KeepKeys. Refused (Conflict) for oneself, for the last
// superadmin and for the last owner of a tenant.
func (s *Users) DeleteUser(ctx context.Context, in DeleteUserInput) error {
	var hashes []string
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.userByID(tx, in.UserID)
		if err != nil {
			return err
		}
		if in.Actor.UserID == row.ID {
			return errkind.New(errkind.Conflict, "you cannot delete your own account")
		}
		if row.Superadmin {
			if err := ensureAnotherSuperadmin(tx, row.ID); err != nil {
				return err
			}
		}
		var ms []membershipRow
		if err := tx.Where("user_id = ?", row.ID).Order("tenant_id").Find(&ms).Error; err != nil {
			return err
		}
		for _, m := range ms {
			if _, err := s.lockMembers(tx, tenants.ID(m.TenantID), row.ID); err != nil {
				return err
			}
			if access.Role(m.Role) == access.RoleOwner {
				if err := ensureAnotherOwner(tx, tenants.ID(m.TenantID), row.ID); err != nil {
					if errkind.Of(err) != errkind.Conflict {
						return err
					}
					var t tenants.TenantRow
					_ = tx.Where("id = ?", m.TenantID).Take(&t).Error
					return errkind.New(errkind.Conflict, "%s is the last owner of tenant %q; make another member owner first", row.Email, t.Slug)
				}
			}
			if err := access.UnassignRolesTx(tx, row.ID, m.TenantID); err != nil {
				return err
			}
			revoked, err := apikeys.RevokeMemberKeysTx(tx, s.feed, tenants.ID(m.TenantID), row.ID, in.KeepKeys, in.Actor)
			if err != nil {
				return err
			}
			hashes = append(hashes, revoked...)
			if err := audit.RecordTx(tx, tenants.ID(m.TenantID), in.Actor, audit.AuditMemberRemoved, row.Email,
				map[string]any{"role": m.Role, "user_deleted": true, "keys_revoked": len(revoked)}); err != nil {
				return err
			}
		}
		if row.Superadmin {
			if err := access.UnassignRolesTx(tx, row.ID, access.PolicyDomainAny); err != nil {
				return err
			}
		}
		for _, q := range []struct {
			model any
			where string
		}{{&membershipRow{}, "user_id = ?"}, {&refreshRow{}, "user_id = ?"}, {&userRow{}, "id = ?"}} {
			if err := tx.Where(q.where, row.ID).Delete(q.model).Error; err != nil {
				return err
			}
		}
		if err := tx.Model(&invitationRow{}).Where("email = ? AND "+pendingLink, row.Email, tenants.NowUTC()).
			Update("revoked_at", tenants.NowUTC()).Error; err != nil {
			return err
		}
		if err := audit.RecordTx(tx, "", in.Actor, audit.AuditUserDeleted, row.Email,
			map[string]any{"user_id": row.ID, "keys_revoked": len(hashes)}); err != nil {
			return err
		}
		return s.feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeRBAC})
	})
	if err != nil {
		return err
	}
	s.keysRevoked(ctx, hashes)
	s.rbacChanged(ctx)
	return nil
}

func ensureAnotherSuperadmin(tx *gorm.DB, userID string) error {
	var n int64
	if err := tx.Model(&userRow{}).Where("superadmin = ? AND disabled_at IS NULL AND id <> ?", true, userID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return errkind.New(errkind.Conflict, "this is the last superadmin; make another user superadmin first")
	}
	return nil
}

// keysRevoked tells this instance's key cache at once (others follow the feed).
func (s *Users) keysRevoked(ctx context.Context, hashes []string) {
	for _, h := range hashes {
		s.feed.Deliver(ctx, tenants.Change{Kind: tenants.ChangeKey, Ref: h})
	}
}

// LiveKeyCounts returns, per member of the tenant, how many working API keys they
// created (the console shows it before a removal).
func (s *Users) LiveKeyCounts(ctx context.Context, tenant tenants.ID) (map[string]int, error) {
	return apikeys.LiveKeyCounts(ctx, s.db, tenant)
}
