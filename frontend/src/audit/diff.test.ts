import { describe, expect, it } from "vitest";
import { auditDiff } from "./diff";

describe("auditDiff", () => {
  it("lists only the fields that changed", () => {
    expect(auditDiff({ limit_usd: "50.000000000", hard: true, alert_at: [50, 80] }, { limit_usd: "80.000000000", hard: true, alert_at: [50, 90] })).toEqual([
      { path: "limit_usd", before: "50.000000000", after: "80.000000000" },
      { path: "alert_at", before: "50, 80", after: "50, 90" },
    ]);
  });

  it("shows a creation and a removal against nothing", () => {
    expect(auditDiff(null, { role: "admin" })).toEqual([{ path: "role", before: "—", after: "admin" }]);
    expect(auditDiff({ status: "active" }, null)).toEqual([{ path: "status", before: "active", after: "—" }]);
  });

  it("walks nested policies by path", () => {
    const before = { default_model: "auto", rules: [{ name: "code", model: "sim-large" }] };
    const after = { default_model: "auto", rules: [{ name: "code", model: "sim-small" }] };
    expect(auditDiff(before, after)).toEqual([{ path: "rules[0].model", before: "sim-large", after: "sim-small" }]);
  });
});
