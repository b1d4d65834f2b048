// Pure helpers for the routing editor (routing.Policy, routing/policy.go) and
// the what-if answer (POST routing/simulate). The server validates again and is
// the authority; these keep the form's output acceptable to it (no unknown
// fields, no empty tier lists) and explain its problems before a round trip.

import { toNano, type Nano } from "../format/money";
import { TIERS, type LadderStep, type ModelInfo, type RoutingPolicy, type RoutingRule, type SimulateResult, type Tier } from "../api/types";

/** The fields routing.Policy accepts; anything else is 422 unknown_field. */
export const POLICY_FIELDS = [
  "tiers",
  "simple_tier",
  "complex_tier",
  "classifier",
  "standard_threshold",
  "auto_premium",
  "premium_threshold",
  "step_down_threshold",
  "rules",
  "max_tier",
  "premium_allowlist",
  "refuse_denied",
  "ladder",
  "ladder_explicit",
  "pace_tolerance_percent",
  "session_affinity",
  "anthropic_cache_control",
  "max_fallbacks",
  "fallback_explicit",
  "trace_content",
  "cache",
  "retain_prompts_days",
  "keys",
] as const;

/** routing.MaxRetainPromptsDays: the longest a tenant may keep prompts. */
export const MAX_RETAIN_PROMPTS_DAYS = 30;

const RULE_FIELDS = ["name", "keywords", "min_prompt_tokens", "tools", "images", "min_code_blocks", "tier"] as const;

export const TIER_LABEL: Record<Tier, string> = { economy: "Economy", standard: "Standard", premium: "Premium" };

export function isTier(x: unknown): x is Tier {
  return typeof x === "string" && (TIERS as string[]).includes(x);
}

/** A policy as the editor holds it: every tier present (maybe empty), lists never undefined. */
export function toDraft(p: RoutingPolicy | undefined | null): RoutingPolicy {
  const src = p ?? { tiers: {} };
  const tiers: Partial<Record<Tier, string[]>> = {};
  for (const t of TIERS) tiers[t] = [...(src.tiers?.[t] ?? [])];
  return {
    ...src,
    tiers,
    rules: (src.rules ?? []).map((r) => ({ ...r, keywords: [...(r.keywords ?? [])] })),
    ladder: (src.ladder ?? []).map((s) => ({ ...s })),
    premium_allowlist: [...(src.premium_allowlist ?? [])],
  };
}

/**
 * The body to PUT or simulate: only routing.Policy's fields, empty tiers dropped
 * (the server refuses a tier that lists no model), zero/empty optionals left out
 * (they mean the documented default), rules without blank keywords.
 */
export function toWire(d: RoutingPolicy): RoutingPolicy {
  const out: Record<string, unknown> = {};
  const tiers: Partial<Record<Tier, string[]>> = {};
  for (const t of TIERS) {
    const list = (d.tiers?.[t] ?? []).map((m) => m.trim()).filter(Boolean);
    if (list.length) tiers[t] = list;
  }
  out.tiers = tiers;
  for (const k of POLICY_FIELDS) {
    if (k === "tiers") continue;
    const v = (d as unknown as Record<string, unknown>)[k];
    if (v === undefined || v === null || v === "" || v === false || v === 0) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (k === "rules") {
      out.rules = (v as RoutingRule[]).map((r) => {
        const rule: Record<string, unknown> = {};
        for (const f of RULE_FIELDS) {
          let x: unknown = r[f];
          if (f === "keywords") x = (r.keywords ?? []).map((w) => w.trim()).filter(Boolean);
          if (f !== "name" && f !== "tier" && (x === undefined || x === false || x === 0 || (Array.isArray(x) && x.length === 0))) continue;
          rule[f] = x ?? "";
        }
        return rule as unknown as RoutingRule;
      });
      continue;
    }
    out[k] = v;
  }
  return out as unknown as RoutingPolicy;
}

/** Fields of a pasted JSON policy that the server would refuse as unknown. */
export function unknownFields(p: unknown): string[] {
  if (!p || typeof p !== "object" || Array.isArray(p)) return [];
  const bad = Object.keys(p).filter((k) => !(POLICY_FIELDS as readonly string[]).includes(k));
  const rules = (p as { rules?: unknown }).rules;
  if (Array.isArray(rules)) {
    rules.forEach((r, i) => {
      if (r && typeof r === "object") for (const k of Object.keys(r)) if (!(RULE_FIELDS as readonly string[]).includes(k)) bad.push(`rules[${i}].${k}`);
    });
  }
  return bad;
}

/** The problems routing.Policy.Validate (and CheckCatalog, given the catalog) would report, in the same words. */
export function policyProblems(p: RoutingPolicy, catalog?: ModelInfo[]): string[] {
  const problems: string[] = [];
  const w = toWire(p);
  if (Object.keys(w.tiers).length === 0) problems.push("tiers: at least one tier must list models");
  for (const [name, t] of [
    ["simple_tier", p.simple_tier],
    ["complex_tier", p.complex_tier],
    ["max_tier", p.max_tier],
  ] as const) {
    if (t && !isTier(t)) problems.push(`${name}: unknown tier "${t}"`);
  }
  for (const [name, v] of [
    ["standard_threshold", p.standard_threshold],
    ["premium_threshold", p.premium_threshold],
  ] as const) {
    if ((v ?? 0) < 0 || (v ?? 0) >= 1) problems.push(`${name}: must be a probability from 0 (the model's default) to below 1`);
  }
  if ((p.step_down_threshold ?? 0) >= 1) problems.push("step_down_threshold: must be below 1");
  const keep = p.retain_prompts_days ?? 0;
  if (keep < 0 || keep > MAX_RETAIN_PROMPTS_DAYS || !Number.isInteger(keep))
    problems.push(`retain_prompts_days: must be from 0 (keep no prompts) to ${MAX_RETAIN_PROMPTS_DAYS}`);
  const names = new Set<string>();
  (p.rules ?? []).forEach((r, i) => {
    if ((r.keywords ?? []).some((x) => x.trim())) {
      if (!r.name || names.has(r.name)) problems.push(`rules[${i}].name: a keyword rule needs a unique name`);
      names.add(r.name);
    }
    if (!isTier(r.tier)) problems.push(`rules[${i}].tier: unknown tier "${r.tier ?? ""}"`);
    const kw = (r.keywords ?? []).filter((x) => x.trim());
    if (kw.length === 0 && !r.min_prompt_tokens && !r.tools && !r.images && !r.min_code_blocks) problems.push(`rules[${i}]: set at least one condition`);
    if ((r.min_prompt_tokens ?? 0) < 0 || (r.min_code_blocks ?? 0) < 0) problems.push(`rules[${i}]: thresholds must not be negative`);
  });
  (p.ladder ?? []).forEach((s, i, all) => {
    if (!(s.at_percent > 0)) problems.push(`ladder[${i}].at_percent: must be positive`);
    if (!isTier(s.max_tier)) problems.push(`ladder[${i}].max_tier: unknown tier "${s.max_tier ?? ""}"`);
    if (i > 0 && s.at_percent <= all[i - 1].at_percent) problems.push(`ladder[${i}]: steps must be sorted by at_percent`);
  });
  if (catalog && catalog.length) {
    const byId = new Map(catalog.map((m) => [m.id, m]));
    for (const t of TIERS) {
      for (const id of w.tiers[t] ?? []) {
        const m = byId.get(id);
        if (!m) problems.push(`tiers.${t}: unknown model "${id}"`);
        else if (m.tier !== t) problems.push(`tiers.${t}: model "${id}" is ${m.tier}`);
      }
    }
    for (const id of p.premium_allowlist ?? []) if (!byId.has(id)) problems.push(`premium_allowlist: unknown model "${id}"`);
  }
  return problems;
}

/**
 * The what-if's keyword-rule coverage in words: how many requests were matched
 * on their kept prompt, and how many could not be and why; "" when the policy
 * has no keyword rules.
 */
export function keywordReplayNote(sim: Pick<SimulateResult, "keyword_rules_replayed" | "keyword_rules_not_replayed">): string {
  const done = sim.keyword_rules_replayed ?? 0;
  const missing = sim.keyword_rules_not_replayed ?? 0;
  if (done === 0 && missing === 0) return "";
  const parts: string[] = [];
  if (done > 0) parts.push(`${done} ${done === 1 ? "request" : "requests"} matched the keyword rules on the kept prompt, as live would`);
  if (missing > 0)
    parts.push(`${missing} ${missing === 1 ? "request" : "requests"} could not be (prompt not kept: enable retain_prompts_days) and ${missing === 1 ? "keeps" : "keep"} the rule matches recorded live`);
  return parts.join("; ");
}

/** Moves item i of list by delta (−1 up, +1 down), returning a new list. */
export function move<T>(list: T[], i: number, delta: number): T[] {
  const j = i + delta;
  if (i < 0 || i >= list.length || j < 0 || j >= list.length) return list;
  const out = [...list];
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

/** Catalog models of a tier that the list does not hold yet, enabled ones first. */
export function addableModels(catalog: ModelInfo[], tier: Tier, current: string[]): ModelInfo[] {
  return catalog
    .filter((m) => m.tier === tier && !m.embedding && !current.includes(m.id))
    .sort((a, b) => Number(b.enabled) - Number(a.enabled) || a.id.localeCompare(b.id));
}

/** Inserts a ladder step keeping the ladder sorted by at_percent. */
export function addLadderStep(ladder: LadderStep[], step: LadderStep): LadderStep[] {
  return [...ladder, step].sort((a, b) => a.at_percent - b.at_percent);
}

export interface MixRow {
  key: string;
  before: number;
  after: number;
  beforeShare: number;
  afterShare: number;
}

/** Joins two count maps (tier or model → requests) into rows with shares, in `order` first, then by volume. */
export function mixRows(before: Record<string, number> | undefined, after: Record<string, number> | undefined, order: string[] = []): MixRow[] {
  const b = before ?? {};
  const a = after ?? {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  const tb = Object.values(b).reduce((s, v) => s + v, 0);
  const ta = Object.values(a).reduce((s, v) => s + v, 0);
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  keys.sort((x, y) => rank(x) - rank(y) || (a[y] ?? 0) + (b[y] ?? 0) - ((a[x] ?? 0) + (b[x] ?? 0)) || x.localeCompare(y));
  return keys.map((k) => ({
    key: k,
    before: b[k] ?? 0,
    after: a[k] ?? 0,
    beforeShare: tb > 0 ? (b[k] ?? 0) / tb : 0,
    afterShare: ta > 0 ? (a[k] ?? 0) / ta : 0,
  }));
}

export interface CostComparison {
  before: bigint;
  after: bigint;
  /** after − before: negative means the policy saves money. */
  diff: bigint;
  /** |diff| / before, 0 when before is 0. */
  ratio: number;
  verdict: "saves" | "costs more" | "same";
}

/** Before/after cost of a what-if, from the exact nano amounts. */
export function compareCost(r: Pick<SimulateResult, "before_nano" | "after_nano">): CostComparison {
  const before = toNano(r.before_nano as Nano);
  const after = toNano(r.after_nano as Nano);
  const diff = after - before;
  const abs = diff < 0n ? -diff : diff;
  const ratio = before > 0n ? Number((abs * 1_000_000n) / before) / 1_000_000 : 0;
  return { before, after, diff, ratio, verdict: diff < 0n ? "saves" : diff > 0n ? "costs more" : "same" };
}

/** Comma/newline separated words → trimmed non-empty list. */
export function splitList(s: string): string[] {
  return s
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter(Boolean);
}
