// Which actions each role may see in the UI. The server (Casbin) is the
// authority and answers 403 regardless; this only hides what would fail.

/** Tenant roles, from docs/admin-api.md. */
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
  developer: "Keys, usage, routing what-ifs",
  viewer: "Read-only",
  billing: "Budgets, alerts, invoices, usage",
};

export type Action =
  // pages
  | "overview.view"
  | "usage.view"
  | "keys.view"
  | "members.view"
  | "budgets.view"
  | "routing.view"
  | "models.view"
  | "invoices.view"
  | "audit.view"
  // actions
  | "usage.export"
  | "keys.create"
  | "keys.revoke"
  | "keys.rotate"
  | "members.invite"
  | "members.changeRole"
  | "members.remove"
  | "members.manageOwners"
  | "budgets.edit"
  | "webhook.edit"
  | "webhook.test"
  | "routing.edit"
  | "routing.simulate"
  // platform (superadmin only)
  | "tenants.manage"
  | "system.view";

const VIEW_ALL: Action[] = ["overview.view", "usage.view", "keys.view", "members.view", "budgets.view", "routing.view", "models.view"];

const MATRIX: Record<Role, Action[]> = {
  owner: [
    ...VIEW_ALL,
    "invoices.view",
    "audit.view",
    "usage.export",
    "keys.create",
    "keys.revoke",
    "keys.rotate",
    "members.invite",
    "members.changeRole",
    "members.remove",
    "members.manageOwners",
    "budgets.edit",
    "webhook.edit",
    "webhook.test",
    "routing.edit",
    "routing.simulate",
  ],
  admin: [
    ...VIEW_ALL,
    "invoices.view",
    "audit.view",
    "usage.export",
    "keys.create",
    "keys.revoke",
    "keys.rotate",
    "members.invite",
    "members.changeRole",
    "members.remove",
    "budgets.edit",
    "webhook.edit",
    "webhook.test",
    "routing.edit",
    "routing.simulate",
  ],
  developer: [...VIEW_ALL, "usage.export", "keys.create", "keys.revoke", "keys.rotate", "routing.simulate"],
  viewer: [...VIEW_ALL],
  billing: [
    "overview.view",
    "usage.view",
    "members.view",
    "budgets.view",
    "models.view",
    "invoices.view",
    "usage.export",
    "budgets.edit",
    "webhook.edit",
    "webhook.test",
  ],
};

const PLATFORM: Action[] = ["tenants.manage", "system.view"];

/** Who is asking: their role in the current tenant (if any) and superadmin flag. */
export interface Principal {
  role: Role | null;
  superadmin: boolean;
}

/** Reports whether the principal's role allows the action (superadmins may do everything). */
export function can(p: Principal, action: Action): boolean {
  if (p.superadmin) return true;
  if (PLATFORM.includes(action)) return false;
  if (!p.role) return false;
  return MATRIX[p.role]?.includes(action) ?? false;
}

/** All actions the principal may see, for tests and debugging. */
export function allowedActions(p: Principal): Action[] {
  const all = new Set<Action>([...Object.values(MATRIX).flat(), ...PLATFORM]);
  return [...all].filter((a) => can(p, a));
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
