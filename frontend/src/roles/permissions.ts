// Which actions each role may see in the UI. The server (Casbin, seeded from
// tenants/rbac_policy.go) is the authority and answers 403 regardless; this only
// hides what would fail. PERMISSIONS below is docs/rbac.md's table, cell for cell
// (permissions.test.ts reads the doc and fails when they differ).

/** Tenant roles, from docs/rbac.md. */
export type Role = "owner" | "admin" | "developer" | "viewer" | "billing";

export const ROLES: Role[] = ["owner", "admin", "developer", "viewer", "billing"];

export const ROLE_LABEL: Record<Role, string> = {
  owner: "Owner",
  admin: "Admin",
  developer: "Developer",
  viewer: "Viewer",
  billing: "Billing",
};

export const ROLE_HINT: Record<Role, string> = {
  owner: "Everything, including managing owners",
  admin: "Everything except managing owners",
  developer: "API keys, usage, routing what-ifs; reads budgets and routing",
  viewer: "Read-only (no invoices, audit log or webhook)",
  billing: "Budgets, alerts, webhook, invoices, usage; no keys or routing",
};

/** A server permission, `resource:action`, as in docs/rbac.md. */
export type Permission =
  | "tenant:read"
  | "members:read"
  | "members:create"
  | "members:update"
  | "members:delete"
  | "members:manage_owners"
  | "keys:read"
  | "keys:create"
  | "keys:revoke"
  | "keys:rotate"
  | "audit:read"
  | "usage:read"
  | "usage:export"
  | "usage:import"
  | "budgets:read"
  | "budgets:write"
  | "alerts:read"
  | "webhook:read"
  | "webhook:write"
  | "webhook:test"
  | "routing:read"
  | "routing:write"
  | "routing:simulate"
  | "models:read"
  | "models:write"
  | "invoices:read"
  | "invoices:create"
  | "live:read"
  | "sso:read"
  | "sso:write"
  | "platform:manage_tenants"
  | "platform:read"
  | "platform:manage_providers"
  | "platform:manage_users";

const ALL: Role[] = ["owner", "admin", "developer", "viewer", "billing"];
const MANAGERS: Role[] = ["owner", "admin"];
const NOT_BILLING: Role[] = ["owner", "admin", "developer", "viewer"];
const KEY_MANAGERS: Role[] = ["owner", "admin", "developer"];
const EXPORTERS: Role[] = ["owner", "admin", "developer", "billing"];
const MONEY_MANAGERS: Role[] = ["owner", "admin", "billing"];

/** Roles granted each permission (superadmins have every one). Mirrors docs/rbac.md. */
export const PERMISSIONS: Record<Permission, Role[]> = {
  "tenant:read": ALL,
  "members:read": ALL,
  "members:create": MANAGERS,
  "members:update": MANAGERS,
  "members:delete": MANAGERS,
  "members:manage_owners": ["owner"],
  "keys:read": NOT_BILLING,
  "keys:create": KEY_MANAGERS,
  "keys:revoke": KEY_MANAGERS,
  "keys:rotate": KEY_MANAGERS,
  "audit:read": MANAGERS,
  "usage:read": ALL,
  "usage:export": EXPORTERS,
  "usage:import": MANAGERS,
  "budgets:read": ALL,
  "budgets:write": MONEY_MANAGERS,
  "alerts:read": ALL,
  "webhook:read": MONEY_MANAGERS,
  "webhook:write": MONEY_MANAGERS,
  "webhook:test": MONEY_MANAGERS,
  "routing:read": NOT_BILLING,
  "routing:write": MANAGERS,
  "routing:simulate": KEY_MANAGERS,
  "models:read": ALL,
  "models:write": MONEY_MANAGERS,
  "invoices:read": MONEY_MANAGERS,
  "invoices:create": ["owner"],
  "live:read": ALL,
  "sso:read": MANAGERS,
  "sso:write": MANAGERS,
  "platform:manage_tenants": [],
  "platform:read": [],
  "platform:manage_providers": [],
  "platform:manage_users": [],
};

/** What the UI shows or hides, each backed by exactly one server permission. */
export const ACTIONS = {
  // pages
  "overview.view": "usage:read",
  "usage.view": "usage:read",
  "keys.view": "keys:read",
  "members.view": "members:read",
  "budgets.view": "budgets:read",
  "alerts.view": "alerts:read",
  "routing.view": "routing:read",
  "models.view": "models:read",
  "invoices.view": "invoices:read",
  "audit.view": "audit:read",
  "live.view": "live:read",
  "webhook.view": "webhook:read",
  "sso.view": "sso:read",
  // actions
  "usage.export": "usage:export",
  "usage.import": "usage:import",
  "keys.create": "keys:create",
  "keys.revoke": "keys:revoke",
  "keys.rotate": "keys:rotate",
  "members.invite": "members:create",
  "members.changeRole": "members:update",
  "members.remove": "members:delete",
  "members.manageOwners": "members:manage_owners",
  "budgets.edit": "budgets:write",
  "webhook.edit": "webhook:write",
  "webhook.test": "webhook:test",
  "sso.edit": "sso:write",
  "routing.edit": "routing:write",
  "routing.simulate": "routing:simulate",
  "invoices.run": "invoices:create",
  "models.editPrice": "models:write",
  // platform (superadmin only)
  "tenants.manage": "platform:manage_tenants",
  "system.view": "platform:read",
  "jobs.view": "platform:read",
  "providers.manage": "platform:manage_providers",
  "users.manage": "platform:manage_users",
} as const satisfies Record<string, Permission>;

export type Action = keyof typeof ACTIONS;

/** Who is asking: their role in the current tenant (if any) and superadmin flag. */
export interface Principal {
  role: Role | null;
  superadmin: boolean;
}

/** Reports whether the principal holds a server permission (superadmins hold all). */
export function hasPermission(p: Principal, perm: Permission): boolean {
  if (p.superadmin) return true;
  if (!p.role) return false;
  return PERMISSIONS[perm]?.includes(p.role) ?? false;
}

/** Reports whether the principal's role allows the action (superadmins may do everything). */
export function can(p: Principal, action: Action): boolean {
  return hasPermission(p, ACTIONS[action]);
}

/** All actions the principal may see, for tests and debugging. */
export function allowedActions(p: Principal): Action[] {
  return (Object.keys(ACTIONS) as Action[]).filter((a) => can(p, a));
}

/** Roles this principal may hand out (only owners and superadmins may grant or revoke "owner"). */
export function assignableRoles(p: Principal): Role[] {
  if (!can(p, "members.changeRole") && !can(p, "members.invite")) return [];
  return can(p, "members.manageOwners") ? ROLES : ROLES.filter((r) => r !== "owner");
}

/** Whether the principal may change or remove a member who currently has `targetRole`. */
export function canManageMember(p: Principal, targetRole: Role): boolean {
  if (targetRole === "owner") return can(p, "members.manageOwners");
  return can(p, "members.changeRole");
}

export function isRole(x: unknown): x is Role {
  return typeof x === "string" && (ROLES as string[]).includes(x);
}
