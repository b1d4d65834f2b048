package accounts

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// Membership is a user's role in one tenant.
type Membership struct {
	TenantID  tenants.ID
	UserID    string
	Role      access.Role
	CreatedAt time.Time
}

// Member is a membership with the user's details, for member lists.
type Member struct {
	Membership
	Email string
	Name  string
}

// MembershipWithTenant is a membership with its tenant, for /me.
type MembershipWithTenant struct {
	Tenant tenants.Tenant
	Role   access.Role
}

type membershipRow struct {
	TenantID  string `gorm:"primaryKey"`
	UserID    string `gorm:"primaryKey"`
	Role      string
	CreatedAt time.Time
}

func (membershipRow) TableName() string { return "memberships" }

func mapMembership(r membershipRow) Membership {
	return Membership{TenantID: tenants.ID(r.TenantID), UserID: r.UserID, Role: access.Role(r.Role), CreatedAt: r.CreatedAt.UTC()}
}

// memberRow is a membership joined with its user.
type memberRow struct {
	TenantID  string
	UserID    string
	Role      string
	CreatedAt time.Time
	Email     string
	Name      string
}

// Membership returns user's membership in tenant, NotFound when there is none.
func (s *Users) Membership(ctx context.Context, tenant tenants.ID, userID string) (Membership, error) {
	var row membershipRow
	err := s.db.Gorm.WithContext(ctx).Where("tenant_id = ? AND user_id = ?", string(tenant), userID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Membership{}, errkind.New(errkind.NotFound, "not a member")
	}
	return mapMembership(row), err
}

// MembershipsOf lists user's tenants and roles, by tenant name.
func (s *Users) MembershipsOf(ctx context.Context, userID string) ([]MembershipWithTenant, error) {
	var ms []membershipRow
	if err := s.db.Gorm.WithContext(ctx).Where("user_id = ?", userID).Find(&ms).Error; err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return []MembershipWithTenant{}, nil
	}
	roles := make(map[string]access.Role, len(ms))
	ids := make([]string, len(ms))
	for i, m := range ms {
		roles[m.TenantID], ids[i] = access.Role(m.Role), m.TenantID
	}
	var ts []tenants.TenantRow
	if err := s.db.Gorm.WithContext(ctx).Where("id IN ?", ids).Order("name").Find(&ts).Error; err != nil {
		return nil, err
	}
	out := make([]MembershipWithTenant, len(ts))
	for i, t := range ts {
		out[i] = MembershipWithTenant{Tenant: tenants.MapTenantRow(t), Role: roles[t.ID]}
	}
	return out, nil
}

// ListMembers lists a tenant's members, oldest first. Tenants have tens of members,
// not thousands, so the list is not paginated.
func (s *Users) ListMembers(ctx context.Context, tenant tenants.ID) ([]Member, error) {
	var rows []memberRow
	err := s.db.Gorm.WithContext(ctx).Table("memberships m").
		Select("m.tenant_id, m.user_id, m.role, m.created_at, u.email, u.name").
		Joins("JOIN users u ON u.id = m.user_id").
		Where("m.tenant_id = ?", string(tenant)).Order("m.created_at, u.email").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]Member, len(rows))
	for i, r := range rows {
		out[i] = Member{Membership: Membership{TenantID: tenants.ID(r.TenantID), UserID: r.UserID, Role: access.Role(r.Role), CreatedAt: r.CreatedAt.UTC()},
			Email: r.Email, Name: r.Name}
	}
	return out, nil
}

// AddMember gives a user a role in a tenant, or changes it (CLI and bootstrap).
// Unlike ChangeRole it does not protect the last owner, since it never removes one;
// it records an audit entry when the membership is new or changed. A user who
// belongs to another tenant is never added directly (Conflict): joining takes
// their acceptance of an invitation.
func (s *Users) AddMember(ctx context.Context, tenant tenants.ID, userID string, role access.Role, actor audit.Actor) error {
	if !role.Valid() {
		return errkind.New(errkind.Invalid, "role must be one of owner, admin, developer, viewer, billing")
	}
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var existing membershipRow
		err := tx.Where("tenant_id = ? AND user_id = ?", string(tenant), userID).Take(&existing).Error
		if err == nil && existing.Role == string(role) {
			return nil
		}
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		if err != nil {
			var elsewhere int64
			if err := tx.Model(&membershipRow{}).Where("user_id = ? AND tenant_id <> ?", userID, string(tenant)).Count(&elsewhere).Error; err != nil {
				return err
			}
			if elsewhere > 0 {
				return errkind.New(errkind.Conflict, "this user belongs to another tenant; invite them (tollgate users invite) and they join when they accept")
			}
		}
		m := membershipRow{TenantID: string(tenant), UserID: userID, Role: string(role), CreatedAt: tenants.NowUTC()}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"role"}),
		}).Create(&m).Error; err != nil {
			return err
		}
		if err := access.AssignRoleTx(tx, userID, role, string(tenant)); err != nil {
			return err
		}
		var u userRow
		if err := tx.Where("id = ?", userID).Take(&u).Error; err != nil {
			return err
		}
		if err := audit.RecordTx(tx, tenant, actor, audit.AuditMemberInvited, u.Email, map[string]any{"role": role}); err != nil {
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

// ChangeRoleInput changes a member's role.
type ChangeRoleInput struct {
	TenantID tenants.ID
	UserID   string
	Role     access.Role
	// MayManageOwners: see InviteInput.
	MayManageOwners bool
	Actor           audit.Actor
}

// Validate reports every problem with the input.
func (in ChangeRoleInput) Validate() error {
	var errs []error
	if !in.TenantID.Valid() {
		errs = append(errs, errors.New("tenant is required"))
	}
	if strings.TrimSpace(in.UserID) == "" {
		errs = append(errs, errors.New("user id is required"))
	}
	if !in.Role.Valid() {
		errs = append(errs, errors.New("role must be one of owner, admin, developer, viewer, billing"))
	}
	return errkind.JoinInvalid("invalid role change", errs)
}

// ChangeRole changes a member's role. Granting or taking away owner needs
// MayManageOwners; demoting the last owner is a Conflict.
func (s *Users) ChangeRole(ctx context.Context, in ChangeRoleInput) (Member, error) {
	if err := in.Validate(); err != nil {
		return Member{}, err
	}
	var out Member
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		m, err := s.lockMembers(tx, in.TenantID, in.UserID)
		if err != nil {
			return err
		}
		old := access.Role(m.Role)
		if (old == access.RoleOwner || in.Role == access.RoleOwner) && old != in.Role && !in.MayManageOwners {
			return errkind.New(errkind.Forbidden, "only an owner may grant or take away the owner role")
		}
		if old == access.RoleOwner && in.Role != access.RoleOwner {
			if err := ensureAnotherOwner(tx, in.TenantID, in.UserID); err != nil {
				return err
			}
		}
		if err := tx.Model(&membershipRow{}).Where("tenant_id = ? AND user_id = ?", string(in.TenantID), in.UserID).
			Update("role", string(in.Role)).Error; err != nil {
			return err
		}
		if err := access.AssignRoleTx(tx, in.UserID, in.Role, string(in.TenantID)); err != nil {
			return err
		}
		var u userRow
		if err := tx.Where("id = ?", in.UserID).Take(&u).Error; err != nil {
			return err
		}
		m.Role = string(in.Role)
		out = Member{Membership: mapMembership(m), Email: u.Email, Name: u.Name}
		if err := audit.RecordTx(tx, in.TenantID, in.Actor, audit.AuditMemberRoleChanged, u.Email, map[string]any{"from": old, "to": in.Role,
			audit.DetailBefore: map[string]any{"role": old}, audit.DetailAfter: map[string]any{"role": in.Role}}); err != nil {
			return err
		}
		return s.feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeRBAC})
	})
	if err != nil {
		return Member{}, err
	}
	s.rbacChanged(ctx)
	return out, nil
}

// RemoveMemberInput removes a member from a tenant (the user stays).
type RemoveMemberInput struct {
	TenantID tenants.ID
	UserID   string
	// KeepKeys keeps the API keys the member created; by default they are revoked.
	KeepKeys bool
	// MayManageOwners: see InviteInput.
	MayManageOwners bool
	Actor           audit.Actor
}

// RemoveMember removes a membership and revokes the API keys the member created,
// unless KeepKeys; it returns how many keys it revoked. Removing an owner needs
// MayManageOwners; removing the last owner is a Conflict.
func (s *Users) RemoveMember(ctx context.Context, in RemoveMemberInput) (int, error) {
	if !in.TenantID.Valid() || strings.TrimSpace(in.UserID) == "" {
		return 0, errkind.New(errkind.Invalid, "tenant and user id are required")
	}
	var hashes []string
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		m, err := s.lockMembers(tx, in.TenantID, in.UserID)
		if err != nil {
			return err
		}
		if access.Role(m.Role) == access.RoleOwner {
			if !in.MayManageOwners {
				return errkind.New(errkind.Forbidden, "only an owner may remove an owner")
			}
			if err := ensureAnotherOwner(tx, in.TenantID, in.UserID); err != nil {
				return err
			}
		}
		if err := tx.Where("tenant_id = ? AND user_id = ?", string(in.TenantID), in.UserID).Delete(&membershipRow{}).Error; err != nil {
			return err
		}
		if err := access.UnassignRolesTx(tx, in.UserID, string(in.TenantID)); err != nil {
			return err
		}
		var u userRow
		if err := tx.Where("id = ?", in.UserID).Take(&u).Error; err != nil {
			return err
		}
		hashes, err = apikeys.RevokeMemberKeysTx(tx, s.feed, in.TenantID, in.UserID, in.KeepKeys, in.Actor)
		if err != nil {
			return err
		}
		if err := audit.RecordTx(tx, in.TenantID, in.Actor, audit.AuditMemberRemoved, u.Email,
			map[string]any{"role": m.Role, "keys_revoked": len(hashes), "keys_kept": in.KeepKeys}); err != nil {
			return err
		}
		return s.feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeRBAC})
	})
	if err != nil {
		return 0, err
	}
	s.keysRevoked(ctx, hashes)
	s.rbacChanged(ctx)
	return len(hashes), nil
}

// lockMembers locks the tenant row (Postgres; SQLite's immediate transactions
// already serialise writers), so two concurrent demotions cannot both see "another
// owner remains", and returns the target membership.
func (s *Users) lockMembers(tx *gorm.DB, tenant tenants.ID, userID string) (membershipRow, error) {
	var t tenants.TenantRow
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", string(tenant)).Take(&t).Error; err != nil {
		return membershipRow{}, err
	}
	var m membershipRow
	err := tx.Where("tenant_id = ? AND user_id = ?", string(tenant), userID).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return membershipRow{}, errkind.New(errkind.NotFound, "member %q not found in this tenant", userID)
	}
	return m, err
}

func ensureAnotherOwner(tx *gorm.DB, tenant tenants.ID, userID string) error {
	var n int64
	if err := tx.Model(&membershipRow{}).Where("tenant_id = ? AND role = ? AND user_id <> ?", string(tenant), string(access.RoleOwner), userID).
		Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return errkind.New(errkind.Conflict, "this is the tenant's last owner; make another member owner first")
	}
	return nil
}
