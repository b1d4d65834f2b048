import { describe, expect, it } from "vitest";
import { pivotDailyByModel } from "./index";
import { tierShares } from "../pages/RoutingPage";

const row = (day: string, model: string, cost: number) => ({ day, model, requests: 1, input_tokens: 0, output_tokens: 0, cost_nano: cost, cost_usd: "" });

describe("chart pivots", () => {
  it("zero-fills days and folds small models into other", () => {
    const series = [row("2025-03-01", "a", 3e9), row("2025-03-03", "b", 2e9), row("2025-03-03", "c", 1e9)];
    const { rows, models } = pivotDailyByModel(series, "2025-03-01", "2025-03-03", 2);
    expect(models).toEqual(["a", "other"]);
    expect(rows).toEqual([
      { x: "2025-03-01", a: 3, other: 0 },
      { x: "2025-03-02", a: 0, other: 0 },
      { x: "2025-03-03", a: 0, other: 3 },
    ]);
  });

  it("normalizes the simulator's tier mix", () => {
    expect(tierShares({ casual: 60, standard: 40 })).toEqual([
      ["casual", 0.6],
      ["standard", 0.4],
    ]);
    expect(tierShares([{ tier: "premium", share: 0.05 }, { tier: "casual", share: 0.95 }])).toEqual([
      ["premium", 0.05],
      ["casual", 0.95],
    ]);
    expect(tierShares(undefined)).toEqual([]);
  });
});
