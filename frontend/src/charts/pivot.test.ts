import { describe, expect, it } from "vitest";
import { pivotDailyByModel } from "./index";

const row = (day: string, model: string, cost: number) => ({ day, model, requests: 1, input_tokens: 0, cached_tokens: 0, cache_write_tokens: 0, output_tokens: 0, cost_nano: cost, cost_usd: "", cache_saved_nano: 0, cache_saved_usd: "" });

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
});
