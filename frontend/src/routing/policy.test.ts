import { describe, expect, it } from "vitest";
import { addLadderStep, addableModels, compareCost, keywordReplayNote, mixRows, move, policyProblems, toDraft, toWire, unknownFields } from "./policy";
import type { ModelInfo, RoutingPolicy, Tier } from "../api/types";

const model = (id: string, tier: Tier, enabled = true): ModelInfo => ({
  id,
  tier,
  enabled,
  provider: "sim",
  input_per_million_nano: 0,
  input_per_million_usd: "0",
  cached_input_per_million_nano: 0,
  cached_input_per_million_usd: "0",
  cache_write_per_million_nano: 0,
  cache_write_per_million_usd: "0",
  output_per_million_nano: 0,
  output_per_million_usd: "0",
  context_window: 8_192,
  max_output_tokens: 1_024,
  capabilities: {},
  embedding: false,
  override: null,
  overridden: false,
  list: null,
});
const catalog = [model("sim-small", "economy"), model("gpt-4o-mini", "economy", false), model("sim-large", "standard"), model("o3", "premium", false)];

describe("routing policy editor", () => {
  const server: RoutingPolicy = {
    tiers: { economy: ["gpt-4o-mini", "sim-small"], standard: ["sim-large"] },
    ladder: [{ at_percent: 80, max_tier: "standard" }],
    session_affinity: true,
  };

  it("round-trips the server's default policy without adding fields", () => {
    expect(toWire(toDraft(server))).toEqual(server);
  });

  it("drops empty tiers, zero values and blank keywords, keeps rule name and tier", () => {
    const d = toDraft(server);
    d.tiers.premium = [];
    d.rules = [{ name: "code", keywords: ["", " refactor "], min_prompt_tokens: 0, tools: false, tier: "standard" }];
    d.refuse_denied = false;
    d.max_fallbacks = 0;
    d.max_tier = "";
    expect(toWire(d)).toEqual({ ...server, rules: [{ name: "code", keywords: ["refactor"], tier: "standard" }] });
  });

  it("sends trace_content and the response cache settings", () => {
    const cache = { enabled: true, ttl_seconds: 600, hit_price_percent: 25 };
    expect(toWire({ ...server, trace_content: true, cache })).toEqual({ ...server, trace_content: true, cache });
  });

  it("sends retain_prompts_days when set, leaves it out at 0 (off), and bounds it as the server does", () => {
    expect(toWire({ ...server, retain_prompts_days: 7 })).toEqual({ ...server, retain_prompts_days: 7 });
    expect(toWire({ ...server, retain_prompts_days: 0 })).toEqual(server);
    expect(unknownFields({ ...server, retain_prompts_days: 7 })).toEqual([]);
    expect(policyProblems({ ...server, retain_prompts_days: 30 })).toEqual([]);
    expect(policyProblems({ ...server, retain_prompts_days: 31 })).toEqual(["retain_prompts_days: must be from 0 (keep no prompts) to 30"]);
    expect(policyProblems({ ...server, retain_prompts_days: -1 })).toHaveLength(1);
  });

  it("keeps negative numbers (they mean 'none' or 'disabled')", () => {
    expect(toWire({ ...server, max_fallbacks: -1, pace_tolerance_percent: -1 })).toMatchObject({ max_fallbacks: -1, pace_tolerance_percent: -1 });
  });

  it("names fields the server would refuse", () => {
    expect(unknownFields({ tiers: {}, default_tier: "x", rules: [{ when: "a", tier: "economy" }] })).toEqual(["default_tier", "rules[0].when"]);
    expect(unknownFields(server)).toEqual([]);
  });

  it("reports the server's validation problems before saving", () => {
    const bad: RoutingPolicy = {
      tiers: { economy: ["sim-large", "nope"] },
      rules: [{ name: "empty", tier: "economy" }],
      ladder: [
        { at_percent: 90, max_tier: "economy" },
        { at_percent: 80, max_tier: "standard" },
      ],
      premium_allowlist: ["ghost"],
    };
    expect(policyProblems(bad, catalog)).toEqual([
      "rules[0]: set at least one condition",
      "ladder[1]: steps must be sorted by at_percent",
      'tiers.economy: model "sim-large" is standard',
      'tiers.economy: unknown model "nope"',
      'premium_allowlist: unknown model "ghost"',
    ]);
    expect(policyProblems({ tiers: {} })).toEqual(["tiers: at least one tier must list models"]);
    expect(policyProblems(server, catalog)).toEqual([]);
  });

  it("orders tier lists and offers only the tier's missing models, enabled first", () => {
    expect(move(["a", "b", "c"], 2, -1)).toEqual(["a", "c", "b"]);
    expect(move(["a", "b"], 0, -1)).toEqual(["a", "b"]);
    expect(addableModels(catalog, "economy", []).map((m) => m.id)).toEqual(["sim-small", "gpt-4o-mini"]);
    expect(addableModels(catalog, "economy", ["sim-small"]).map((m) => m.id)).toEqual(["gpt-4o-mini"]);
    expect(addLadderStep([{ at_percent: 95, max_tier: "economy" }], { at_percent: 80, max_tier: "standard" }).map((s) => s.at_percent)).toEqual([80, 95]);
  });
});

describe("what-if results", () => {
  it("compares cost exactly and says which way it goes", () => {
    expect(compareCost({ before_nano: 10_000_000_000, after_nano: 2_500_000_000 })).toEqual({ before: 10_000_000_000n, after: 2_500_000_000n, diff: -7_500_000_000n, ratio: 0.75, verdict: "saves" });
    expect(compareCost({ before_nano: 100, after_nano: 150 }).verdict).toBe("costs more");
    expect(compareCost({ before_nano: 0, after_nano: 0 })).toMatchObject({ verdict: "same", ratio: 0 });
  });

  it("joins tier counts before and after into shares, tiers in order", () => {
    expect(mixRows({ standard: 3, economy: 1 }, { economy: 4 }, ["economy", "standard", "premium"])).toEqual([
      { key: "economy", before: 1, after: 4, beforeShare: 0.25, afterShare: 1 },
      { key: "standard", before: 3, after: 0, beforeShare: 0.75, afterShare: 0 },
    ]);
    expect(mixRows(undefined, undefined)).toEqual([]);
  });

  it("says how many requests replayed keyword rules on a kept prompt, and why the others could not", () => {
    expect(keywordReplayNote({ keyword_rules_replayed: 0, keyword_rules_not_replayed: 0 })).toBe("");
    expect(keywordReplayNote({ keyword_rules_replayed: 3, keyword_rules_not_replayed: 0 })).toBe("3 requests matched the keyword rules on the kept prompt, as live would");
    expect(keywordReplayNote({ keyword_rules_replayed: 2, keyword_rules_not_replayed: 1 })).toBe(
      "2 requests matched the keyword rules on the kept prompt, as live would; 1 request could not be (prompt not kept: enable retain_prompts_days) and keeps the rule matches recorded live",
    );
  });
});
