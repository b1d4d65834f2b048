// Puts each problem with a routing policy next to the part of the form it is
// about. The server (routing.Policy.Validate, CheckCatalog) and policyProblems
// here report problems as "path: message" ("rules[2].tier: unknown tier "x"",
// "tiers.economy: unknown model "y"", "standard_threshold: must be …"); the form
// shows the message at that rule, tier or field instead of the path at the top.

import { ApiError } from "../api/errors";
import { TIERS, type Tier } from "../api/types";

/** A problem of one rule or ladder step; field is the property it names ("tier"), if any. */
export interface PlacedProblem {
  message: string;
  field?: string;
}

/** Problems by where the form shows them. */
export interface PolicyErrors {
  /** By rule index (rules[i]). */
  rules: Record<number, PlacedProblem[]>;
  /** By ladder step index (ladder[i]). */
  ladder: Record<number, PlacedProblem[]>;
  /** By tier (tiers.economy). */
  tiers: Partial<Record<Tier, string[]>>;
  /** By policy field path ("standard_threshold", "cache.ttl_seconds", "premium_allowlist", "tiers"). */
  fields: Record<string, string[]>;
  /** Problems with no path the form knows: shown at the top. */
  general: string[];
}

const PREFIX = /^invalid routing policy:\s*/i;

/** The separate problems of an API error message ("invalid routing policy: a; b") or of a local list. */
export function splitProblems(message: string): string[] {
  return message
    .replace(PREFIX, "")
    .split(/;\s+|\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The problems an error from saving or simulating a policy reports, with the API's param as the path when it gave one. */
export function problemsOfError(e: unknown): string[] | null {
  if (!(e instanceof ApiError) || (e.status !== 400 && e.status !== 422)) return null;
  if (e.param && !e.message.startsWith(e.param)) return [`${e.param}: ${e.message}`];
  return splitProblems(e.message);
}

const INDEXED = /^(rules|ladder)\[(\d+)\](?:\.([a-z_]+))?:\s*(.+)$/s;
const TIER = /^tiers\.([a-z]+):\s*(.+)$/s;
const FIELD = /^([a-z_]+(?:\.[a-z_]+)?):\s*(.+)$/s;

/** Sorts problems to the rule, ladder step, tier or field they name. */
export function placeProblems(problems: string[]): PolicyErrors {
  const out: PolicyErrors = { rules: {}, ladder: {}, tiers: {}, fields: {}, general: [] };
  for (const p of problems) {
    let m = INDEXED.exec(p);
    if (m) {
      const list = m[1] === "rules" ? out.rules : out.ladder;
      const i = Number(m[2]);
      (list[i] ??= []).push(m[3] ? { field: m[3], message: m[4] } : { message: m[4] });
      continue;
    }
    m = TIER.exec(p);
    if (m && (TIERS as readonly string[]).includes(m[1])) {
      (out.tiers[m[1] as Tier] ??= []).push(m[2]);
      continue;
    }
    m = FIELD.exec(p);
    if (m) {
      (out.fields[m[1]] ??= []).push(m[2]);
      continue;
    }
    out.general.push(p);
  }
  return out;
}

/** How many problems were placed next to a part of the form (not at the top). */
export function placedCount(e: PolicyErrors): number {
  const n = (r: Record<string | number, unknown[] | undefined>) => Object.values(r).reduce((a, l) => a + (l?.length ?? 0), 0);
  return n(e.rules) + n(e.ladder) + n(e.tiers) + n(e.fields);
}

export const NO_ERRORS: PolicyErrors = { rules: {}, ladder: {}, tiers: {}, fields: {}, general: [] };
