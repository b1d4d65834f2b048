// Package access decides who may do what: the role and permission table, the
// Casbin authorizer over it, and the adapter that keeps Casbin's rules in the
// casbin_rule table, so a role assignment commits with the membership it belongs to.
package access

import (
	"context"
	"fmt"
	"log/slog"

	casbin "github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/util"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/tenants"
)

// rbacModel is a domain (tenant) RBAC model. Role policies live in domain "*" (they
// hold in every tenant); a membership is a grouping rule g(user, role, tenant); the
// superadmin is g(user, superadmin, "*"), which matches every domain through the
// keyMatch domain-matching function.
const rbacModel = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && (p.dom == "*" || r.dom == p.dom) && (p.obj == "*" || r.obj == p.obj) && (p.act == "*" || r.act == p.act)
`

// Authorizer answers "may this user do this action on this resource in this
// tenant?" with Casbin over the policy stored in casbin_rule (through ruleAdapter;
// the table comes from our SQL migrations).
//
// Casbin keeps the policy in memory. Membership changes write their g rule in the
// same transaction as the membership row, then every instance reloads: this one at
// once, others on the change feed (Postgres NOTIFY, SQLite poll) and on the
// periodic resync.
type Authorizer struct {
	e      *casbin.SyncedEnforcer
	logger *slog.Logger
}

// NewAuthorizer loads the policy from the database and reloads it whenever feed
// reports an RBAC change or a resync. Call Seed once at start.
func NewAuthorizer(db *database.DB, feed *tenants.ChangeFeed, logger *slog.Logger) (*Authorizer, error) {
	m, err := model.NewModelFromString(rbacModel)
	if err != nil {
		return nil, fmt.Errorf("rbac model: %w", err)
	}
	adapter := &ruleAdapter{db: db.Gorm.Session(&gorm.Session{NewDB: true})}
	e, err := casbin.NewSyncedEnforcer(m, adapter)
	if err != nil {
		return nil, fmt.Errorf("rbac enforcer: %w", err)
	}
	e.AddNamedDomainMatchingFunc("g", "keyMatch", util.KeyMatch)
	if err := e.LoadPolicy(); err != nil {
		return nil, fmt.Errorf("rbac load policy: %w", err)
	}
	a := &Authorizer{e: e, logger: logger.With("component", "tenants.rbac")}
	feed.Subscribe(func(ctx context.Context, c tenants.Change) {
		if c.Kind == tenants.ChangeRBAC || c.Kind == tenants.ChangeResync {
			_ = a.Reload(ctx)
		}
	})
	return a, nil
}

// Seed makes the stored role policies exactly the policy table: it adds missing
// rules and removes rules no longer in the table. It is idempotent and safe when
// several replicas start at once (inserts ignore duplicates).
func (a *Authorizer) Seed(ctx context.Context) error {
	if err := a.e.LoadPolicy(); err != nil {
		return err
	}
	want := map[string]bool{}
	var missing [][]string
	for _, rule := range policyRules() {
		want[fmt.Sprint(rule)] = true
		if ok, err := a.e.HasPolicy(rule); err != nil {
			return err
		} else if !ok {
			missing = append(missing, rule)
		}
	}
	stored, err := a.e.GetPolicy()
	if err != nil {
		return err
	}
	var stale [][]string
	for _, rule := range stored {
		if !want[fmt.Sprint(rule)] {
			stale = append(stale, rule)
		}
	}
	if len(missing) > 0 {
		if _, err := a.e.AddPolicies(missing); err != nil {
			return fmt.Errorf("seed rbac policy: %w", err)
		}
	}
	if len(stale) > 0 {
		if _, err := a.e.RemovePolicies(stale); err != nil {
			return fmt.Errorf("remove stale rbac policy: %w", err)
		}
	}
	if len(missing)+len(stale) > 0 {
		a.logger.InfoContext(ctx, "rbac policy seeded", "added", len(missing), "removed", len(stale))
	}
	return nil
}

// Reload re-reads every rule (after a membership change here or elsewhere).
func (a *Authorizer) Reload(ctx context.Context) error {
	if err := a.e.LoadPolicy(); err != nil {
		a.logger.ErrorContext(ctx, "rbac reload failed", "error", err)
		return err
	}
	return nil
}

// Can reports whether user may do act on res in tenant.
func (a *Authorizer) Can(userID string, tenant tenants.ID, res Resource, act Action) (bool, error) {
	return a.e.Enforce(userID, string(tenant), string(res), string(act))
}

// CanPlatform reports whether user may do a platform action (superadmins only).
func (a *Authorizer) CanPlatform(userID string, act Action) (bool, error) {
	return a.e.Enforce(userID, PlatformDomain, string(ResourcePlatform), string(act))
}

// AssignRoleTx replaces user's role in domain with role, inside tx.
func AssignRoleTx(tx *gorm.DB, userID string, role Role, domain string) error {
	if err := UnassignRolesTx(tx, userID, domain); err != nil {
		return err
	}
	return tx.Table("casbin_rule").Create(&casbinRule{Ptype: "g", V0: userID, V1: string(role), V2: domain}).Error
}

// UnassignRolesTx removes every role of user in domain, inside tx.
func UnassignRolesTx(tx *gorm.DB, userID, domain string) error {
	return tx.Table("casbin_rule").Where("ptype = ? AND v0 = ? AND v2 = ?", "g", userID, domain).Delete(&casbinRule{}).Error
}
