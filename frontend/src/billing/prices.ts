// Tenant price overrides (PUT models/{model}/price), checked as the server does
// (routing/gateway/price_store.go perToken): a decimal dollar amount per million
// tokens, not negative, at most 10000, and a whole number of nano-USD per token,
// i.e. a multiple of $0.001 per million. Nothing is rounded: a finer price is an
// error here as it is a 422 there, so the tenant is billed exactly what was agreed.

import { nanoToDecimal, toNano, usdToNano, type Nano } from "../format/money";
import type { ModelInfo, SetPriceInput } from "../api/types";

const NANO_PER_USD = 1_000_000_000n;
/** $10,000 per million tokens (the server's bound). */
export const MAX_PRICE_PER_MILLION_NANO = 10_000n * NANO_PER_USD;
/** $0.001 per million = 1 nano-USD per token: the precision prices are kept in. */
export const PRICE_STEP_NANO = 1_000_000n;

export type PriceCheck = { ok: true; nano: bigint; value: string } | { ok: false; error: string };

/**
 * Checks one per-million price as typed. `value` is what to send (trimmed).
 * Empty is an error unless `optional` (then nano is 0 and value "").
 */
export function checkPrice(label: string, typed: string, optional = false): PriceCheck {
  const value = typed.trim();
  if (!value) return optional ? { ok: true, nano: 0n, value: "" } : { ok: false, error: `${label} is required.` };
  const nano = /^-?\d*(\.\d*)?$/.test(value) ? usdToNano(value) : null;
  if (nano === null) return { ok: false, error: `${label}: “${value}” is not a dollar amount like 2.50.` };
  if (nano < 0n) return { ok: false, error: `${label} must not be negative.` };
  if (nano > MAX_PRICE_PER_MILLION_NANO) return { ok: false, error: `${label} must be at most $10,000 per million tokens.` };
  if (nano % PRICE_STEP_NANO !== 0n) return { ok: false, error: `${label}: prices are kept to $0.001 per million tokens; round “${value}” to 3 decimals.` };
  return { ok: true, nano, value };
}

export interface PriceForm {
  input: string;
  cached: string;
  /** Cache-write price (Anthropic); empty or absent bills cache writes at the input price. */
  write?: string;
  output: string;
}

export interface PriceFormResult {
  /** Per-field messages (empty when valid). */
  errors: Partial<Record<keyof PriceForm, string>>;
  /** The request body when every field is valid. */
  body: SetPriceInput | null;
}

/** Validates the edit form; embeddings models are priced on input only (output must be 0). */
export function validatePriceForm(f: PriceForm, embedding = false): PriceFormResult {
  const input = checkPrice("Input price", f.input);
  const cached = checkPrice("Cached input price", f.cached, true);
  const write = checkPrice("Cache write price", f.write ?? "", true);
  const output = checkPrice("Output price", embedding && !f.output.trim() ? "0" : f.output);
  const errors: PriceFormResult["errors"] = {};
  if (!input.ok) errors.input = input.error;
  if (!cached.ok) errors.cached = cached.error;
  if (!write.ok) errors.write = write.error;
  if (!output.ok) errors.output = output.error;
  else if (embedding && output.nano !== 0n) errors.output = "Embeddings models are priced on input only: the output price must be 0.";
  if (!input.ok || !cached.ok || !write.ok || !output.ok || errors.output) return { errors, body: null };
  const body: SetPriceInput = { input_per_million_usd: input.value, output_per_million_usd: output.value };
  if (cached.value && cached.nano !== 0n) body.cached_input_per_million_usd = cached.value;
  if (write.value && write.nano !== 0n) body.cache_write_per_million_usd = write.value;
  return { errors, body };
}

/** A price for an input box: "2.50", "0.075", never more decimals than it has. */
export function priceText(n: Nano): string {
  return nanoToDecimal(n);
}

/** The form's starting values: the tenant's override if any, else the catalog price. */
export function initialPriceForm(m: ModelInfo): PriceForm {
  const src = m.override ?? m;
  const input = toNano(src.input_per_million_nano);
  const cached = src.cached_input_per_million_nano === undefined ? input : toNano(src.cached_input_per_million_nano);
  const write = src.cache_write_per_million_nano === undefined ? input : toNano(src.cache_write_per_million_nano);
  return {
    input: priceText(input),
    // Cached = input is the server's "not set" (cached tokens billed at the input price).
    cached: cached === input ? "" : priceText(cached),
    // The same for cache writes; the key is left out when not set.
    ...(write === input ? {} : { write: priceText(write) }),
    output: priceText(src.output_per_million_nano),
  };
}

/** The catalog (list) price of a model, when the answer carries it: only while no override is set. */
export function listPrices(m: ModelInfo): { input: Nano; cached: Nano; output: Nano } | null {
  if (m.list) {
    return { input: m.list.input_per_million_nano, cached: m.list.cached_input_per_million_nano, output: m.list.output_per_million_nano };
  }
  if (m.override || m.overridden) return null;
  return { input: m.input_per_million_nano, cached: m.cached_input_per_million_nano ?? m.input_per_million_nano, output: m.output_per_million_nano };
}
