import { describe, expect, it } from "vitest";
import { previousPeriod, replacesBudget } from "./periods";

describe("billing helpers", () => {
  it("knows when saving a budget replaces one (same scope, scope id and period)", () => {
    const existing = [
      { scope: "tenant" as const, scope_id: null, period: "month" as const },
      { scope: "key" as const, scope_id: "k1", period: "day" as const },
    ];
    expect(replacesBudget(existing, { scope: "tenant", scope_id: null, period: "month" })).toBe(true);
    expect(replacesBudget(existing, { scope: "tenant", scope_id: null, period: "day" })).toBe(false);
    expect(replacesBudget(existing, { scope: "key", scope_id: "k1", period: "day" })).toBe(true);
    expect(replacesBudget(existing, { scope: "key", scope_id: "k2", period: "day" })).toBe(false);
  });

  it("defaults invoice runs to the previous UTC month, across years", () => {
    expect(previousPeriod(new Date("2026-11-26T12:00:00Z"))).toBe("2026-10");
    expect(previousPeriod(new Date("2027-01-01T00:30:00Z"))).toBe("2026-12");
  });
});
