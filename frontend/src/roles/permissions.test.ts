import { describe, expect, it } from "vitest";
import { assignableRoles, can, canManageMember, type Action, type Principal, type Role } from "./permissions";

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
    ["admin", "members.remove", true],
    ["admin", "members.manageOwners", false],
    ["admin", "routing.edit", true],
    ["admin", "tenants.manage", false],
    ["owner", "members.manageOwners", true],
    ["owner", "audit.view", true],
    ["owner", "system.view", false],
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
