package accounts

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// One-time links. An invitation (purpose invite) asks someone to join a tenant; a
// reset link (purpose reset) lets a user set their own password. Both are a random
// token handed out once (only its SHA-256 is stored), expire, work at most once and
// can be revoked. Nobody but the link's holder sets a password with it, and an
// existing account only joins a tenant when its owner, signed in, accepts.

// LinkPurpose is what a one-time link is for.
type LinkPurpose string

// Link purposes.
const (
	// PurposeInvite joins a tenant (creating the account when the email is new).
	PurposeInvite LinkPurpose = "invite"
	// PurposeReset sets the password of an existing account.
	PurposeReset LinkPurpose = "reset"
)

const (
	// InvitationTTL is how long an invitation link works.
	InvitationTTL = 7 * 24 * time.Hour
	// ResetLinkTTL is how long a password reset link works.
	ResetLinkTTL = 24 * time.Hour
	// linkTokenPrefix starts every link token (recognisable in leaks).
	linkTokenPrefix = "tgl_"
	// linkTokenLen is the prefix plus 43 base62 characters (256 bits).
	linkTokenLen = len(linkTokenPrefix) + 43
)

// Invitation is a one-time link as stored (without its token).
type Invitation struct {
	ID       string
	Purpose  LinkPurpose
	TenantID tenants.ID
	Email    string
	Role     access.Role
	// InvitedBy and InvitedByEmail name who made the link ("cli" for the operator).
	InvitedBy      string
	InvitedByEmail string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	AcceptedAt     *time.Time
	RevokedAt      *time.Time
}

// Link is a freshly made one-time link: the invitation and its token, shown once.
type Link struct {
	Invitation Invitation
	Token      seal.Secret
}

// Path is the console path of the link: /invite/<token> or /reset/<token>. Prefix it
// with the console's base URL.
func (l Link) Path() string { return "/" + string(l.Invitation.Purpose) + "/" + l.Token.Reveal() }

type invitationRow struct {
	ID             string `gorm:"primaryKey"`
	Purpose        string
	TokenHash      string
	TenantID       string
	Email          string
	Role           string
	InvitedBy      string
	InvitedByEmail string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	AcceptedAt     *time.Time
	AcceptedBy     string
	RevokedAt      *time.Time
}

func (invitationRow) TableName() string { return "invitations" }

func mapInvitation(r invitationRow) Invitation {
	return Invitation{ID: r.ID, Purpose: LinkPurpose(r.Purpose), TenantID: tenants.ID(r.TenantID), Email: r.Email, Role: access.Role(r.Role),
		InvitedBy: r.InvitedBy, InvitedByEmail: r.InvitedByEmail, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		AcceptedAt: r.AcceptedAt, RevokedAt: r.RevokedAt}
}

// errLink is the one refusal for a link that cannot be used: unknown, expired,
// used or revoked all look the same.
func errLink() error {
	return &errkind.Error{Kind: errkind.NotFound, Code: "invalid_link",
		Message: "this link is invalid, expired, already used or revoked; ask for a new one"}
}

// pending is the condition of a link that still works.
const pendingLink = "accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?"

// newLinkTx stores a new link and returns it with its token.
func newLinkTx(tx *gorm.DB, purpose LinkPurpose, tenant tenants.ID, email string, role access.Role, ttl time.Duration, actor audit.Actor) (Link, error) {
	body, err := seal.RandomBase62(32)
	if err != nil {
		return Link{}, err
	}
	token := linkTokenPrefix + body
	now := tenants.NowUTC()
	row := invitationRow{ID: tenants.NewULID(), Purpose: string(purpose), TokenHash: seal.SHA256Hex(token), TenantID: string(tenant),
		Email: normalizeEmail(email), Role: string(role), InvitedBy: actor.UserID, InvitedByEmail: actor.Email,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := tx.Create(&row).Error; err != nil {
		return Link{}, err
	}
	return Link{Invitation: mapInvitation(row), Token: seal.Secret(token)}, nil
}

// InviteInput invites an email to a tenant with a role.
type InviteInput struct {
	TenantID tenants.ID
	Email    string
	Role     access.Role
	// MayManageOwners is whether the caller may grant the owner role (the handler
	// asks the Authorizer; the service enforces it).
	MayManageOwners bool
	Actor           audit.Actor
}

// Validate reports every problem with the input.
func (in InviteInput) Validate() error {
	var errs []error
	if !in.TenantID.Valid() {
		errs = append(errs, errors.New("tenant is required"))
	}
	if err := validateEmail(in.Email); err != nil {
		errs = append(errs, err)
	}
	if !in.Role.Valid() {
		errs = append(errs, errors.New("role must be one of owner, admin, developer, viewer, billing"))
	}
	return errkind.JoinInvalid("invalid invitation", errs)
}

// Invite makes an invitation link for email to join the tenant with role. It
// changes nothing about any account: a new user sets their own password when they
// accept, an existing user must sign in and accept. Already a member, or a pending
// invitation for the email: Conflict.
func (s *Users) Invite(ctx context.Context, in InviteInput) (Link, error) {
	if err := in.Validate(); err != nil {
		return Link{}, err
	}
	if in.Role == access.RoleOwner && !in.MayManageOwners {
		return Link{}, errkind.New(errkind.Forbidden, "only an owner may grant the owner role")
	}
	email := normalizeEmail(in.Email)
	var out Link
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var members int64
		if err := tx.Table("memberships m").Joins("JOIN users u ON u.id = m.user_id").
			Where("m.tenant_id = ? AND u.email = ?", string(in.TenantID), email).Count(&members).Error; err != nil {
			return err
		}
		if members > 0 {
			return errkind.New(errkind.Conflict, "%s is already a member of this tenant", email)
		}
		var pending int64
		if err := tx.Model(&invitationRow{}).Where("purpose = ? AND tenant_id = ? AND email = ? AND "+pendingLink,
			string(PurposeInvite), string(in.TenantID), email, tenants.NowUTC()).Count(&pending).Error; err != nil {
			return err
		}
		if pending > 0 {
			return errkind.New(errkind.Conflict, "%s already has a pending invitation; revoke it on the members page to send a new link", email)
		}
		var err error
		out, err = newLinkTx(tx, PurposeInvite, in.TenantID, email, in.Role, InvitationTTL, in.Actor)
		if err != nil {
			return err
		}
		return audit.RecordTx(tx, in.TenantID, in.Actor, audit.AuditMemberInvited, email,
			map[string]any{"role": in.Role, "invitation_id": out.Invitation.ID, "expires_at": out.Invitation.ExpiresAt})
	})
	return out, err
}

// PendingInvitations lists a tenant's invitations that can still be accepted,
// oldest first.
func (s *Users) PendingInvitations(ctx context.Context, tenant tenants.ID) ([]Invitation, error) {
	var rows []invitationRow
	err := s.db.Gorm.WithContext(ctx).Where("purpose = ? AND tenant_id = ? AND "+pendingLink, string(PurposeInvite), string(tenant), tenants.NowUTC()).
		Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]Invitation, len(rows))
	for i, r := range rows {
		out[i] = mapInvitation(r)
	}
	return out, nil
}

// RevokeInvitationInput revokes a tenant's pending invitation.
type RevokeInvitationInput struct {
	TenantID     tenants.ID
	InvitationID string
	Actor        audit.Actor
}

// RevokeInvitation makes a pending invitation unusable. An invitation of another
// tenant, or one no longer pending, is NotFound.
func (s *Users) RevokeInvitation(ctx context.Context, in RevokeInvitationInput) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row invitationRow
		err := tx.Where("id = ? AND purpose = ? AND tenant_id = ? AND "+pendingLink, in.InvitationID, string(PurposeInvite),
			string(in.TenantID), tenants.NowUTC()).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errkind.New(errkind.NotFound, "no pending invitation %q in this tenant", in.InvitationID)
		}
		if err != nil {
			return err
		}
		if err := tx.Model(&invitationRow{}).Where("id = ?", row.ID).Update("revoked_at", tenants.NowUTC()).Error; err != nil {
			return err
		}
		return audit.RecordTx(tx, in.TenantID, in.Actor, audit.AuditInvitationRevoked, row.Email, map[string]any{"role": row.Role, "invitation_id": row.ID})
	})
}

// LinkSummary is what the holder of a link may learn before using it.
type LinkSummary struct {
	Purpose    LinkPurpose
	Email      string
	Role       access.Role
	TenantID   tenants.ID
	TenantSlug string
	TenantName string
	// InvitedByEmail is who made the link ("cli" for the operator).
	InvitedByEmail string
	ExpiresAt      time.Time
	// AccountExists tells the page whether to ask for a new password or a sign-in.
	AccountExists bool
}

// LookupLink describes a usable link; anything else is the one invalid-link error.
func (s *Users) LookupLink(ctx context.Context, token seal.Secret) (LinkSummary, error) {
	row, err := s.usableLink(s.db.Gorm.WithContext(ctx), token)
	if err != nil {
		return LinkSummary{}, err
	}
	out := LinkSummary{Purpose: LinkPurpose(row.Purpose), Email: row.Email, Role: access.Role(row.Role), TenantID: tenants.ID(row.TenantID),
		InvitedByEmail: row.InvitedByEmail, ExpiresAt: row.ExpiresAt.UTC()}
	if row.TenantID != "" {
		var t tenants.TenantRow
		if err := s.db.Gorm.WithContext(ctx).Where("id = ?", row.TenantID).Take(&t).Error; err != nil {
			return LinkSummary{}, errLink()
		}
		out.TenantSlug, out.TenantName = t.Slug, t.Name
	}
	_, err = s.byEmail(ctx, s.db.Gorm, row.Email)
	if err != nil && !errors.Is(err, errkind.NotFound) {
		return LinkSummary{}, err
	}
	out.AccountExists = err == nil
	return out, nil
}

func (s *Users) usableLink(db *gorm.DB, token seal.Secret) (invitationRow, error) {
	tok := token.Reveal()
	if len(tok) != linkTokenLen || !strings.HasPrefix(tok, linkTokenPrefix) || !seal.IsBase62(tok[len(linkTokenPrefix):]) {
		return invitationRow{}, errLink()
	}
	var row invitationRow
	err := db.Where("token_hash = ? AND "+pendingLink, seal.SHA256Hex(tok), tenants.NowUTC()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return invitationRow{}, errLink()
	}
	return row, err
}

// AcceptLinkInput uses a one-time link.
type AcceptLinkInput struct {
	Token seal.Secret
	// Password is the new password: required to create an account or to reset one;
	// must be empty when an existing account accepts an invitation (it keeps its own).
	Password seal.Secret
	// Name is the display name of an account the invitation creates.
	Name string
	// SessionUserID is the signed-in user accepting, empty when nobody is signed in.
	// An existing account accepts an invitation only through its own session.
	SessionUserID string
	IP            string
}

// AcceptedLink is the outcome of a used link.
type AcceptedLink struct {
	Purpose LinkPurpose
	User    User
	// TenantID and Role are the membership an invitation gave.
	TenantID tenants.ID
	Role     access.Role
	// PasswordSet is true when the link set the user's password (a new account or a
	// reset): the caller may sign them in with it.
	PasswordSet bool
}

// AcceptLink uses a link once. An invitation for an unknown email creates the
// account with the password its holder chose; for an existing account it needs that
// account's own session, and changes nothing about the account but the new
// membership. A reset link sets the password and signs the user out everywhere.
// Anything refused changes nothing and leaves the link usable.
func (s *Users) AcceptLink(ctx context.Context, in AcceptLinkInput) (AcceptedLink, error) {
	if len(in.Name) > 100 {
		return AcceptedLink{}, errkind.New(errkind.Invalid, "name must be at most 100 characters")
	}
	var out AcceptedLink
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.usableLink(tx, in.Token)
		if err != nil {
			return err
		}
		// Single use: claim the link first, so of two concurrent acceptances exactly
		// one goes on (the other waits for the row, then finds it used). A refusal
		// below rolls the claim back and the link stays usable.
		res := tx.Model(&invitationRow{}).Where("id = ? AND "+pendingLink, row.ID, tenants.NowUTC()).Update("accepted_at", tenants.NowUTC())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errLink()
		}
		out.Purpose = LinkPurpose(row.Purpose)
		user, err := s.byEmail(ctx, tx, row.Email)
		exists := err == nil
		if err != nil && !errors.Is(err, errkind.NotFound) {
			return err
		}
		switch out.Purpose {
		case PurposeInvite:
			out.User, err = s.acceptInviteTx(ctx, tx, row, user, exists, in)
		case PurposeReset:
			out.User, err = s.acceptResetTx(ctx, tx, row, user, exists, in)
		default:
			err = errLink()
		}
		if err != nil {
			return err
		}
		if err := tx.Model(&invitationRow{}).Where("id = ?", row.ID).Update("accepted_by", out.User.ID).Error; err != nil {
			return err
		}
		out.TenantID, out.Role = tenants.ID(row.TenantID), access.Role(row.Role)
		out.PasswordSet = in.Password != ""
		return nil
	})
	if err != nil {
		return AcceptedLink{}, err
	}
	if out.Purpose == PurposeInvite {
		s.rbacChanged(ctx)
	}
	return out, nil
}

func (s *Users) acceptInviteTx(ctx context.Context, tx *gorm.DB, row invitationRow, user userRow, exists bool, in AcceptLinkInput) (User, error) {
	var u User
	if !exists {
		// A new account: the link's holder chooses its password.
		if in.Password == "" {
			return User{}, &errkind.Error{Kind: errkind.Invalid, Code: "password_required",
				Message: "choose a password (10 to 256 characters) to create your account"}
		}
		if err := validatePassword(in.Password.Reveal()); err != nil {
			return User{}, errkind.New(errkind.Invalid, "invalid password: %s", err)
		}
		var err error
		if u, err = s.createTx(ctx, tx, CreateUserInput{Email: row.Email, Name: in.Name, Password: in.Password}); err != nil {
			return User{}, err
		}
	} else {
		// An existing account joins only through its own session, and the link never
		// touches its password: whoever else holds the link (the inviter) gains nothing.
		if in.SessionUserID != user.ID {
			return User{}, &errkind.Error{Kind: errkind.Forbidden, Code: "sign_in_required",
				Message: "this invitation is for " + row.Email + ": sign in as " + row.Email + ", then accept it"}
		}
		if in.Password != "" {
			return User{}, errkind.New(errkind.Invalid, "an existing account keeps its password: accept without one")
		}
		u = mapUser(user)
	}
	if u.DisabledAt != nil {
		return User{}, errkind.New(errkind.Forbidden, "this account is disabled; ask the platform operator")
	}
	var n int64
	if err := tx.Model(&membershipRow{}).Where("tenant_id = ? AND user_id = ?", row.TenantID, u.ID).Count(&n).Error; err != nil {
		return User{}, err
	}
	if n > 0 {
		return User{}, errkind.New(errkind.Conflict, "you are already a member of this tenant")
	}
	if err := tx.Create(&membershipRow{TenantID: row.TenantID, UserID: u.ID, Role: row.Role, CreatedAt: tenants.NowUTC()}).Error; err != nil {
		return User{}, err
	}
	if err := access.AssignRoleTx(tx, u.ID, access.Role(row.Role), row.TenantID); err != nil {
		return User{}, err
	}
	if err := audit.RecordTx(tx, tenants.ID(row.TenantID), audit.Actor{UserID: u.ID, Email: u.Email, IP: in.IP}, audit.AuditMemberJoined, u.Email,
		map[string]any{"role": row.Role, "invitation_id": row.ID, "invited_by": row.InvitedByEmail, "new_account": !exists}); err != nil {
		return User{}, err
	}
	return u, s.feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeRBAC})
}

func (s *Users) acceptResetTx(ctx context.Context, tx *gorm.DB, row invitationRow, user userRow, exists bool, in AcceptLinkInput) (User, error) {
	if !exists {
		return User{}, errLink()
	}
	if user.DisabledAt != nil {
		return User{}, errkind.New(errkind.Forbidden, "this account is disabled; ask the platform operator")
	}
	if in.Password == "" {
		return User{}, &errkind.Error{Kind: errkind.Invalid, Code: "password_required", Message: "choose a new password (10 to 256 characters)"}
	}
	if err := validatePassword(in.Password.Reveal()); err != nil {
		return User{}, errkind.New(errkind.Invalid, "invalid password: %s", err)
	}
	hash, err := s.hasher.Hash(ctx, in.Password.Reveal())
	if err != nil {
		return User{}, err
	}
	if err := tx.Model(&userRow{}).Where("id = ?", user.ID).Update("password_hash", hash).Error; err != nil {
		return User{}, err
	}
	if err := revokeUserSessionsTx(tx, user.ID, ""); err != nil {
		return User{}, err
	}
	u := mapUser(user)
	return u, recordUserAudit(tx, u.ID, audit.Actor{UserID: u.ID, Email: u.Email, IP: in.IP}, audit.AuditUserPasswordReset, u.Email,
		map[string]any{"link_id": row.ID, "link_by": row.InvitedByEmail})
}

// CreateResetLinkInput asks for a password link for an existing user.
type CreateResetLinkInput struct {
	Email string
	Actor audit.Actor
}

// CreateResetLink makes a one-time link with which the user sets a new password
// (the operator's reset: nobody but the user learns the password). It signs the
// user out everywhere and replaces any earlier reset link of theirs.
func (s *Users) CreateResetLink(ctx context.Context, in CreateResetLinkInput) (Link, error) {
	var out Link
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := s.byEmail(ctx, tx, in.Email)
		if err != nil {
			return err
		}
		if err := tx.Model(&invitationRow{}).Where("purpose = ? AND email = ? AND "+pendingLink, string(PurposeReset), u.Email, tenants.NowUTC()).
			Update("revoked_at", tenants.NowUTC()).Error; err != nil {
			return err
		}
		if out, err = newLinkTx(tx, PurposeReset, "", u.Email, "", ResetLinkTTL, in.Actor); err != nil {
			return err
		}
		if err := revokeUserSessionsTx(tx, u.ID, ""); err != nil {
			return err
		}
		return recordUserAudit(tx, u.ID, in.Actor, audit.AuditUserResetLinkCreated, u.Email,
			map[string]any{"link_id": out.Invitation.ID, "expires_at": out.Invitation.ExpiresAt})
	})
	return out, err
}
