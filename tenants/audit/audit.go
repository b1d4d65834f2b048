// Package audit records who changed what, per tenant and on the platform, in the
// same transaction as the change, and lists it back.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Actor is who makes a change, for the audit log: a user (from the session) or the
// CLI. Handlers build it from the authenticated session and the client IP.
type Actor struct {
	// UserID is empty for the CLI and the system.
	UserID string
	// Email is the user's email, or "cli"/"system".
	Email string
	// IP is the client address the request came from; empty for the CLI.
	IP string
}

// CLIActor is the actor of operator commands run on the server.
func CLIActor() Actor { return Actor{Email: "cli"} }

// Audit actions.
const (
	AuditTenantCreated     = "tenant.created"
	AuditTenantSuspended   = "tenant.suspended"
	AuditTenantResumed     = "tenant.resumed"
	AuditMemberInvited     = "member.invited"
	AuditMemberRoleChanged = "member.role_changed"
	AuditMemberRemoved     = "member.removed"
	// AuditMemberJoined: an invitee accepted an invitation.
	AuditMemberJoined = "member.joined"
	// AuditMemberJoinedSSO: a member created on first sign-in through the tenant's
	// identity provider, with the role its group mapping gave.
	AuditMemberJoinedSSO = "member.joined_sso"
	// AuditUserSignedInSSO: an existing member signed in through the identity provider.
	AuditUserSignedInSSO = "user.signed_in_sso"
	// AuditSSOSet and AuditSSODeleted: the tenant's single sign-on settings changed.
	AuditSSOSet            = "sso.set"
	AuditSSODeleted        = "sso.deleted"
	AuditInvitationRevoked = "invitation.revoked"
	// Account changes, recorded in the platform log and in the user's tenants.
	AuditUserPasswordChanged   = "user.password_changed"
	AuditUserPasswordSet       = "user.password_set"
	AuditUserPasswordReset     = "user.password_reset"
	AuditUserResetLinkCreated  = "user.reset_link_created"
	AuditUserSignedOut         = "user.signed_out_everywhere"
	AuditUserDisabled          = "user.disabled"
	AuditUserEnabled           = "user.enabled"
	AuditUserDeleted           = "user.deleted"
	AuditUserSuperadminGranted = "user.superadmin_granted"
	AuditUserSuperadminRevoked = "user.superadmin_revoked"
	AuditKeyCreated            = "key.created"
	AuditKeyRevoked            = "key.revoked"
	AuditKeyRotated            = "key.rotated"
)

// Reserved detail keys. A change records the state it replaced under DetailBefore
// and the state it left under DetailAfter (flat objects of the fields that matter,
// absent for a creation or a removal), and the target's human name under
// DetailTargetName when Target is an id; List lifts them out of Details so the
// console can show a diff and a name instead of a bare id.
const (
	DetailBefore     = "before"
	DetailAfter      = "after"
	DetailTargetName = "target_name"
)

// AuditEntry is one change: who (actor), what (action on target, with details),
// when, and from where (client IP).
type AuditEntry struct {
	ID         int64
	TenantID   tenants.ID
	ActorID    string
	ActorEmail string
	Action     string
	Target     string
	// TargetName names the target when Target is an id (a key's or a budget's name);
	// empty when the entry recorded none (older entries, email targets).
	TargetName string
	IP         string
	// Before and After are the target's state before and after the change, nil
	// when the entry recorded none (see DetailBefore).
	Before map[string]any
	After  map[string]any
	// Details are the other facts (old and new role, key name); never secrets.
	Details   map[string]any
	CreatedAt time.Time
}

// liftDetails moves the reserved keys of e.Details into their fields. An entry
// recorded before the keys existed keeps its details as they were, and a key's
// "name" detail still names it.
func (e *AuditEntry) liftDetails() {
	if m, ok := e.Details[DetailBefore].(map[string]any); ok {
		e.Before = m
		delete(e.Details, DetailBefore)
	}
	if m, ok := e.Details[DetailAfter].(map[string]any); ok {
		e.After = m
		delete(e.Details, DetailAfter)
	}
	if n, ok := e.Details[DetailTargetName].(string); ok {
		e.TargetName = n
		delete(e.Details, DetailTargetName)
	} else if n, ok := e.Details["name"].(string); ok && n != e.Target {
		e.TargetName = n
	}
}

type auditRow struct {
	ID         int64 `gorm:"primaryKey;autoIncrement"`
	TenantID   string
	ActorID    string
	ActorEmail string
	Action     string
	Target     string
	IP         string
	Details    string
	CreatedAt  time.Time
}

func (auditRow) TableName() string { return "audit_log" }

// RecordTx writes an entry inside the transaction of the change it records, so
// the log has exactly the changes that committed.
func RecordTx(tx *gorm.DB, tenant tenants.ID, actor Actor, action, target string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	return tx.Create(&auditRow{TenantID: string(tenant), ActorID: actor.UserID, ActorEmail: actor.Email, Action: action,
		Target: target, IP: actor.IP, Details: string(b), CreatedAt: tenants.NowUTC()}).Error
}

// AuditLog reads the audit log.
type AuditLog struct {
	db *database.DB
}

// NewAuditLog returns the audit log reader.
func NewAuditLog(db *database.DB) *AuditLog { return &AuditLog{db: db} }

// Record writes one entry on its own, for changes made outside this package's
// transactions (tenant provisioning and status through the Registry).
func (a *AuditLog) Record(ctx context.Context, tenant tenants.ID, actor Actor, action, target string, details map[string]any) error {
	return RecordTx(a.db.Gorm.WithContext(ctx), tenant, actor, action, target, details)
}

// ListAuditInput selects a page of a tenant's audit log, newest first.
type ListAuditInput struct {
	TenantID tenants.ID
	// Platform selects the platform log instead (account changes, user deletions,
	// superadmin grants): TenantID must then be empty.
	Platform bool
	// Limit is the page size: 1..200, 0 means 50.
	Limit int
	// Cursor is the opaque next_cursor of the previous page; empty for the first.
	Cursor string
	// Query filters by action, actor email or target (substring, case-insensitive).
	Query string
}

// Validate reports every problem with the input.
func (in ListAuditInput) Validate() error {
	cursorOK := func(c string) bool {
		_, err := strconv.ParseInt(c, 10, 64)
		return err == nil
	}
	if in.Platform {
		errs := tenants.ListProblems(in.Limit, in.Cursor, in.Query, cursorOK)
		if in.TenantID != "" {
			errs = append(errs, errors.New("the platform log belongs to no tenant"))
		}
		return errkind.JoinInvalid("invalid list request", errs)
	}
	return tenants.ValidateList(in.TenantID, in.Limit, in.Cursor, in.Query, cursorOK)
}

// AuditPage is one page of entries; NextCursor is empty on the last page.
type AuditPage struct {
	Entries    []AuditEntry
	NextCursor string
}

// List returns a page of the tenant's entries, newest first (keyset on id, served by
// the (tenant_id, id DESC) index).
func (a *AuditLog) List(ctx context.Context, in ListAuditInput) (AuditPage, error) {
	if err := in.Validate(); err != nil {
		return AuditPage{}, err
	}
	limit := tenants.ListLimit(in.Limit)
	q := a.db.Gorm.WithContext(ctx).Where("tenant_id = ?", string(in.TenantID))
	if in.Cursor != "" {
		id, _ := strconv.ParseInt(in.Cursor, 10, 64)
		q = q.Where("id < ?", id)
	}
	if s := strings.TrimSpace(in.Query); s != "" {
		like := "%" + tenants.EscapeLike(strings.ToLower(s)) + "%"
		q = q.Where("(lower(action) LIKE ? ESCAPE '\\' OR lower(actor_email) LIKE ? ESCAPE '\\' OR lower(target) LIKE ? ESCAPE '\\')", like, like, like)
	}
	var rows []auditRow
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return AuditPage{}, err
	}
	page := AuditPage{Entries: make([]AuditEntry, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			page.NextCursor = strconv.FormatInt(rows[limit-1].ID, 10)
			break
		}
		e := AuditEntry{ID: r.ID, TenantID: tenants.ID(r.TenantID), ActorID: r.ActorID, ActorEmail: r.ActorEmail, Action: r.Action,
			Target: r.Target, IP: r.IP, CreatedAt: r.CreatedAt.UTC()}
		_ = json.Unmarshal([]byte(r.Details), &e.Details)
		e.liftDetails()
		page.Entries = append(page.Entries, e)
	}
	return page, nil
}
