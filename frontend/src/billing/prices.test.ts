import { describe, expect, it } from "vitest";
import { checkPrice, initialPriceForm, listPrices, validatePriceForm } from "./prices";
import type { ModelInfo } from "../api/types";

describe("checkPrice (mirrors the server's perToken)", () => {
  it.each([
    ["2.50", 2_500_000_000n],
    ["0.001", 1_000_000n],
    ["0", 0n],
    [" 12 ", 12_000_000_000n],
    [".5", 500_000_000n],
    ["5.", 5_000_000_000n],
    ["10000", 10_000_000_000_000n],
    ["0.075000000", 75_000_000n],
  ])("accepts %s", (typed, nano) => {
    const r = checkPrice("Input price", typed);
    expect(r).toEqual({ ok: true, nano, value: typed.trim() });
  });

  it.each([
    ["2.0001", /round “2.0001” to 3 decimals/],
    ["0.0005", /\$0.001 per million/],
    ["0.0000000001", /not a dollar amount/], // 10 decimals: ParseUSD refuses
    ["-1", /must not be negative/],
    ["10000.001", /at most \$10,000/],
    ["abc", /not a dollar amount/],
    ["1,5", /not a dollar amount/],
    ["+1", /not a dollar amount/],
    [".", /not a dollar amount/],
    ["1e3", /not a dollar amount/],
    ["", /is required/],
  ])("refuses %s", (typed, msg) => {
    const r = checkPrice("Input price", typed);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(msg);
  });

  it("lets an optional field be empty", () => {
    expect(checkPrice("Cached input price", "  ", true)).toEqual({ ok: true, nano: 0n, value: "" });
  });
});

describe("validatePriceForm", () => {
  it("builds the body, omitting an empty or zero cached price", () => {
    expect(validatePriceForm({ input: "0.5", cached: "", output: "2" }).body).toEqual({ input_per_million_usd: "0.5", output_per_million_usd: "2" });
    expect(validatePriceForm({ input: "0.5", cached: "0", output: "2" }).body).toEqual({ input_per_million_usd: "0.5", output_per_million_usd: "2" });
    expect(validatePriceForm({ input: "0.5", cached: "0.05", output: "2" }).body).toEqual({
      input_per_million_usd: "0.5",
      cached_input_per_million_usd: "0.05",
      output_per_million_usd: "2",
    });
  });

  it("reports every problem at once, per field", () => {
    const r = validatePriceForm({ input: "-1", cached: "0.0001", output: "x" });
    expect(r.body).toBeNull();
    expect(Object.keys(r.errors).sort()).toEqual(["cached", "input", "output"]);
  });

  it("prices embeddings models on input only", () => {
    expect(validatePriceForm({ input: "0.02", cached: "", output: "" }, true).body).toEqual({ input_per_million_usd: "0.02", output_per_million_usd: "0" });
    expect(validatePriceForm({ input: "0.02", cached: "", output: "1" }, true).errors.output).toMatch(/input only/);
  });
});

const model = (over: Partial<ModelInfo> = {}): ModelInfo => ({
  id: "m",
  provider: "sim",
  tier: "economy",
  enabled: true,
  input_per_million_nano: 800_000_000,
  input_per_million_usd: "0.800000000",
  cached_input_per_million_nano: 80_000_000,
  cached_input_per_million_usd: "0.080000000",
  cache_write_per_million_nano: 800_000_000,
  cache_write_per_million_usd: "0.800000000",
  output_per_million_nano: 4_000_000_000,
  output_per_million_usd: "4.000000000",
  context_window: 128_000,
  max_output_tokens: 4_096,
  capabilities: {},
  embedding: false,
  override: null,
  overridden: false,
  list: null,
  ...over,
});

describe("initialPriceForm and listPrices", () => {
  it("starts from the catalog price without an override", () => {
    expect(initialPriceForm(model())).toEqual({ input: "0.80", cached: "0.08", output: "4.00" });
    expect(listPrices(model())).toEqual({ input: 800_000_000, cached: 80_000_000, output: 4_000_000_000 });
  });

  it("starts from the override, leaving cached empty when it equals input (the server's 'not set')", () => {
    const m = model({
      input_per_million_nano: 500_000_000,
      cached_input_per_million_nano: 500_000_000,
      output_per_million_nano: 2_000_000_000,
      overridden: true,
      override: {
        input_per_million_nano: 500_000_000,
        input_per_million_usd: "0.500000000",
        cached_input_per_million_nano: 500_000_000,
        cached_input_per_million_usd: "0.500000000",
        cache_write_per_million_nano: 500_000_000,
        cache_write_per_million_usd: "0.500000000",
        output_per_million_nano: 2_000_000_000,
        output_per_million_usd: "2.000000000",
        updated_at: "2026-11-26T17:03:16Z",
      },
    });
    expect(initialPriceForm(m)).toEqual({ input: "0.50", cached: "", output: "2.00" });
    expect(listPrices(m)).toBeNull();
  });

  it("reads the list prices the server sends beside an override", () => {
    const m = model({
      input_per_million_nano: 500_000_000,
      overridden: true,
      list: {
        input_per_million_nano: 800_000_000,
        input_per_million_usd: "0.800000000",
        cached_input_per_million_nano: 80_000_000,
        cached_input_per_million_usd: "0.080000000",
        cache_write_per_million_nano: 800_000_000,
        cache_write_per_million_usd: "0.800000000",
        output_per_million_nano: 4_000_000_000,
        output_per_million_usd: "4.000000000",
      },
    });
    expect(listPrices(m)).toEqual({ input: 800_000_000, cached: 80_000_000, output: 4_000_000_000 });
  });
});

describe("cache-write prices", () => {
  it("sends a cache-write price only when set and different from nothing", () => {
    expect(validatePriceForm({ input: "3", cached: "0.30", write: "3.75", output: "15" }).body).toEqual({
      input_per_million_usd: "3",
      cached_input_per_million_usd: "0.30",
      cache_write_per_million_usd: "3.75",
      output_per_million_usd: "15",
    });
    expect(validatePriceForm({ input: "3", cached: "", write: "", output: "15" }).body).toEqual({ input_per_million_usd: "3", output_per_million_usd: "15" });
    expect(validatePriceForm({ input: "3", cached: "", write: "0.0001", output: "15" }).errors.write).toMatch(/3 decimals/);
  });

  it("starts from a cache-write price that differs from input, and leaves it out otherwise", () => {
    expect(initialPriceForm(model({ cache_write_per_million_nano: 1_000_000_000 }))).toEqual({ input: "0.80", cached: "0.08", write: "1.00", output: "4.00" });
    expect(initialPriceForm(model())).not.toHaveProperty("write");
  });
});
