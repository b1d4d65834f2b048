import { describe, expect, it } from "vitest";
import { MODEL_PALETTE, OTHER_COLOR, modelColor } from "./palette";

describe("modelColor", () => {
  it("gives a model the same colour whatever the other models and their spend", () => {
    const models = ["gpt-4o-mini", "claude-3-5-haiku", "sim-small", "sim-large", "gpt-4o"];
    const before = models.map(modelColor);
    // Spend rank reversed, a model added: each model keeps its colour.
    const after = [...models].reverse().concat("llama-3.1-8b").map(modelColor);
    expect(after.slice(0, 5).reverse()).toEqual(before);
  });

  it("picks from the model palette and keeps grey for other", () => {
    for (const m of ["a", "sim-small", "gpt-4o", "x".repeat(200)]) expect(MODEL_PALETTE).toContain(modelColor(m));
    expect(modelColor("other")).toBe(OTHER_COLOR);
    expect(modelColor("")).toBe(OTHER_COLOR);
    expect(MODEL_PALETTE).not.toContain(OTHER_COLOR);
  });

  it("spreads distinct models over several colours", () => {
    const ids = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "claude-3-5-haiku", "sim-small", "sim-medium", "sim-large", "llama-3.1-70b"];
    expect(new Set(ids.map(modelColor)).size).toBeGreaterThanOrEqual(5);
  });

  it("is the FNV-1a hash of the id modulo the palette", () => {
    // FNV-1a("a") = 0xe40c292c, which is 4 modulo 12.
    expect(modelColor("a")).toBe(MODEL_PALETTE[0xe40c292c % 12]);
  });
});
