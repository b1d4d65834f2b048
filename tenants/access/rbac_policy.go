package access

// Role is a member's role in one tenant, or the platform-wide superadmin role.
type Role string

// Roles. The five tenant roles are assigned per tenant through a membership;
// RoleSuperadmin is platform-wide.
const (
	// RoleOwner may do everything in the tenant, including managing owners.
	RoleOwner Role = "owner"
	// RoleAdmin may do everything in the tenant except grant, change or remove owners.
	RoleAdmin Role = "admin"
	// RoleDeveloper manages API keys and reads usage, budgets and routing.
	RoleDeveloper Role = "developer"
	// RoleViewer reads.
	RoleViewer Role = "viewer"
	// RoleBilling manages budgets, alerts and webhooks and reads usage and invoices.
	RoleBilling Role = "billing"
	// RoleSuperadmin is the platform operator: every action in every tenant.
	RoleSuperadmin Role = "superadmin"
)

// TenantRoles lists the roles a membership can carry, most powerful first.
func TenantRoles() []Role {
	return []Role{RoleOwner, RoleAdmin, RoleDeveloper, RoleViewer, RoleBilling}
}

// Valid reports whether r is a tenant role (superadmin is not assignable per tenant).
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleAdmin, RoleDeveloper, RoleViewer, RoleBilling:
		return true
	}
	return false
}

// Resource is what an action applies to (the Casbin object).
type Resource string

// Resources.
const (
	ResourceTenant   Resource = "tenant"
	ResourceMembers  Resource = "members"
	ResourceKeys     Resource = "keys"
	ResourceAudit    Resource = "audit"
	ResourceUsage    Resource = "usage"
	ResourceBudgets  Resource = "budgets"
	ResourceAlerts   Resource = "alerts"
	ResourceWebhook  Resource = "webhook"
	ResourceRouting  Resource = "routing"
	ResourceModels   Resource = "models"
	ResourceInvoices Resource = "invoices"
	ResourceLive     Resource = "live"
	// ResourceSSO is the tenant's single sign-on settings.
	ResourceSSO Resource = "sso"
	// ResourcePlatform covers platform operations (create/suspend tenants, system);
	// only superadmins hold it.
	ResourcePlatform Resource = "platform"
)

// Action is what is done to a resource (the Casbin action).
type Action string

// Actions.
const (
	ActionRead   Action = "read"
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
	ActionRevoke Action = "revoke"
	ActionRotate Action = "rotate"
	ActionExport Action = "export"
	ActionWrite  Action = "write"
	ActionTest   Action = "test"
	// ActionSimulate runs a routing what-if without changing anything.
	ActionSimulate Action = "simulate"
	// ActionImport brings usage history from another gateway's export.
	ActionImport Action = "import"
	// ActionManageOwners grants, changes or removes the owner role.
	ActionManageOwners Action = "manage_owners"
	// ActionManageTenants creates, suspends and resumes tenants (platform).
	ActionManageTenants Action = "manage_tenants"
	// ActionManageProviders reads and changes platform provider credentials.
	ActionManageProviders Action = "manage_providers"
	// ActionManageUsers lists, disables, deletes and signs out accounts and grants or
	// revokes superadmin (platform).
	ActionManageUsers Action = "manage_users"
)

// Permission is one (resource, action) pair of the policy.
type Permission struct {
	Resource Resource
	Action   Action
}

// PolicyDomainAny is the Casbin domain of the role policies (they hold in every
// tenant) and of the superadmin assignment (it holds everywhere).
const PolicyDomainAny = "*"

// PlatformDomain is the Casbin domain of platform operations. No tenant role is
// assigned in it, so only a superadmin (assigned in "*") passes there.
const PlatformDomain = "platform"

type policyRow struct {
	Permission
	Roles []Role
}

// policyTable is THE place that says which tenant role may do what. It is seeded
// into casbin_rule at start (idempotently), docs/rbac.md renders it, and the
// scenario test walks every cell. Superadmins hold every permission in every tenant
// plus the platform ones. Keep the console's roles/permissions.ts in step.
func policyTable() []policyRow {
	all := TenantRoles()
	notBilling := []Role{RoleOwner, RoleAdmin, RoleDeveloper, RoleViewer}
	managers := []Role{RoleOwner, RoleAdmin}
	keyManagers := []Role{RoleOwner, RoleAdmin, RoleDeveloper}
	moneyManagers := []Role{RoleOwner, RoleAdmin, RoleBilling}
	exporters := []Role{RoleOwner, RoleAdmin, RoleDeveloper, RoleBilling}
	return []policyRow{
		{Permission{ResourceTenant, ActionRead}, all},
		{Permission{ResourceMembers, ActionRead}, all},
		{Permission{ResourceMembers, ActionCreate}, managers},
		{Permission{ResourceMembers, ActionUpdate}, managers},
		{Permission{ResourceMembers, ActionDelete}, managers},
		{Permission{ResourceMembers, ActionManageOwners}, []Role{RoleOwner}},
		{Permission{ResourceKeys, ActionRead}, notBilling},
		{Permission{ResourceKeys, ActionCreate}, keyManagers},
		{Permission{ResourceKeys, ActionRevoke}, keyManagers},
		{Permission{ResourceKeys, ActionRotate}, keyManagers},
		{Permission{ResourceAudit, ActionRead}, managers},
		{Permission{ResourceUsage, ActionRead}, all},
		{Permission{ResourceUsage, ActionExport}, exporters},
		{Permission{ResourceUsage, ActionImport}, managers},
		{Permission{ResourceBudgets, ActionRead}, all},
		{Permission{ResourceBudgets, ActionWrite}, moneyManagers},
		{Permission{ResourceAlerts, ActionRead}, all},
		{Permission{ResourceWebhook, ActionRead}, moneyManagers},
		{Permission{ResourceWebhook, ActionWrite}, moneyManagers},
		{Permission{ResourceWebhook, ActionTest}, moneyManagers},
		{Permission{ResourceRouting, ActionRead}, notBilling},
		{Permission{ResourceRouting, ActionWrite}, managers},
		{Permission{ResourceRouting, ActionSimulate}, keyManagers},
		{Permission{ResourceModels, ActionRead}, all},
		{Permission{ResourceModels, ActionWrite}, moneyManagers},
		{Permission{ResourceInvoices, ActionRead}, moneyManagers},
		{Permission{ResourceInvoices, ActionCreate}, []Role{RoleOwner}},
		{Permission{ResourceLive, ActionRead}, all},
		{Permission{ResourceSSO, ActionRead}, managers},
		{Permission{ResourceSSO, ActionWrite}, managers},
		{Permission{ResourcePlatform, ActionManageTenants}, nil},
		{Permission{ResourcePlatform, ActionRead}, nil},
		{Permission{ResourcePlatform, ActionManageProviders}, nil},
		{Permission{ResourcePlatform, ActionManageUsers}, nil},
	}
}

// PolicyCell is one cell of the role × permission matrix.
type PolicyCell struct {
	Permission
	Role    Role
	Allowed bool
}

// PolicyMatrix returns every (permission, tenant role) cell with its verdict, in a
// stable order, for documentation and tests.
func PolicyMatrix() []PolicyCell {
	var out []PolicyCell
	for _, row := range policyTable() {
		for _, r := range TenantRoles() {
			ok := false
			for _, rr := range row.Roles {
				ok = ok || rr == r
			}
			out = append(out, PolicyCell{Permission: row.Permission, Role: r, Allowed: ok})
		}
	}
	return out
}

// Permissions lists every permission of the policy, in matrix order.
func Permissions() []Permission {
	table := policyTable()
	out := make([]Permission, len(table))
	for i, row := range table {
		out[i] = row.Permission
	}
	return out
}

// policyRules renders the matrix as Casbin "p" rules: sub, dom, obj, act.
func policyRules() [][]string {
	rules := [][]string{{string(RoleSuperadmin), PolicyDomainAny, "*", "*"}}
	for _, row := range policyTable() {
		for _, r := range row.Roles {
			rules = append(rules, []string{string(r), PolicyDomainAny, string(row.Resource), string(row.Action)})
		}
	}
	return rules
}
