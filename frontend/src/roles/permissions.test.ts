import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { ACTIONS, PERMISSIONS, ROLES, assignableRoles, can, canManageMember, type Action, type Permission, type Principal, type Role } from "./permissions";

const as = (role: Role | null, superadmin = false): Principal => ({ role, superadmin });

describe("role → visible actions", () => {
  const table: [Role, Action, boolean][] = [
    ["viewer", "keys.view", true],
    ["viewer", "keys.create", false],
    ["viewer", "keys.revoke", false],
    ["viewer", "members.invite", false],
    ["viewer", "budgets.edit", false],
    ["viewer", "invoices.view", false],
    ["viewer", "usage.export", false],
    ["developer", "keys.create", true],
    ["developer", "keys.rotate", true],
    ["developer", "routing.simulate", true],
    ["developer", "routing.edit", false],
    ["developer", "members.invite", false],
    ["developer", "budgets.edit", false],
    ["billing", "invoices.view", true],
    ["billing", "budgets.edit", true],
    ["billing", "webhook.test", true],
    ["billing", "keys.create", false],
    ["billing", "keys.view", false],
    ["billing", "routing.view", false],
    ["viewer", "webhook.view", false],
    ["viewer", "audit.view", false],
    ["developer", "webhook.view", false],
    ["developer", "usage.export", true],
    ["developer", "invoices.view", false],
    ["billing", "webhook.view", true],
    ["billing", "usage.export", true],
    ["owner", "invoices.run", true],
    ["admin", "invoices.run", false],
    ["billing", "invoices.run", false],
    ["admin", "jobs.view", false],
    ["admin", "members.remove", true],
    ["admin", "members.manageOwners", false],
    ["admin", "routing.edit", true],
    ["admin", "tenants.manage", false],
    ["owner", "members.manageOwners", true],
    ["owner", "audit.view", true],
    ["owner", "system.view", false],
    ["owner", "models.editPrice", true],
    ["admin", "models.editPrice", true],
    ["billing", "models.editPrice", true],
    ["developer", "models.editPrice", false],
    ["viewer", "models.editPrice", false],
    ["owner", "providers.manage", false],
    ["admin", "providers.manage", false],
  ];
  it.each(table)("%s may %s: %s", (role, action, want) => {
    expect(can(as(role), action)).toBe(want);
  });

  it("lets superadmins do everything, even without a membership", () => {
    expect(can(as(null, true), "tenants.manage")).toBe(true);
    expect(can(as(null, true), "keys.create")).toBe(true);
    expect(can(as("viewer", true), "system.view")).toBe(true);
  });

  it("denies everything without a role", () => {
    expect(can(as(null), "overview.view")).toBe(false);
  });

  it("limits who can grant or touch owners", () => {
    expect(assignableRoles(as("owner"))).toContain("owner");
    expect(assignableRoles(as("admin"))).toEqual(["admin", "developer", "viewer", "billing"]);
    expect(assignableRoles(as("viewer"))).toEqual([]);
    expect(canManageMember(as("admin"), "owner")).toBe(false);
    expect(canManageMember(as("admin"), "developer")).toBe(true);
    expect(canManageMember(as("owner"), "owner")).toBe(true);
  });
});

/** Parses docs/rbac.md's "resource:action | owner | admin | …" table into permission → roles. */
function docMatrix(md: string): { roles: string[]; rows: Map<string, string[]> } {
  const lines = md.split("\n");
  const head = lines.findIndex((l) => /^\|\s*resource:action\s*\|/.test(l));
  if (head < 0) throw new Error("docs/rbac.md: no resource:action table");
  const cells = (l: string) => l.split("|").slice(1, -1).map((c) => c.trim());
  const roles = cells(lines[head]).slice(1);
  const rows = new Map<string, string[]>();
  for (const l of lines.slice(head + 2)) {
    if (!l.startsWith("|")) break;
    const [perm, ...marks] = cells(l);
    rows.set(perm.replace(/`/g, ""), roles.filter((_, i) => marks[i] === "✅"));
  }
  return { roles, rows };
}

describe("the role matrix equals docs/rbac.md", () => {
  const { roles, rows } = docMatrix(readFileSync(new URL("../../../docs/rbac.md", import.meta.url), "utf8"));

  it("has the same roles and permissions", () => {
    expect(roles).toEqual([...ROLES, "superadmin"]);
    expect([...rows.keys()].sort(), "docs/rbac.md and PERMISSIONS in src/roles/permissions.ts list different permissions: copy the doc's rows into PERMISSIONS").toEqual(
      Object.keys(PERMISSIONS).sort(),
    );
  });

  it.each([...rows.entries()])("%s", (perm, granted) => {
    const want = granted.filter((r) => r !== "superadmin").sort();
    expect([...(PERMISSIONS[perm as Permission] ?? [])].sort(), `${perm}: src/roles/permissions.ts disagrees with docs/rbac.md`).toEqual(want);
    expect(granted).toContain("superadmin");
  });

  it("backs every UI action by a documented permission", () => {
    for (const perm of Object.values(ACTIONS)) expect(rows.has(perm)).toBe(true);
  });
});
