// Money arrives from the API as integer nano-USD (`*_nano`, 1 USD = 1e9 nano).
// Everything here is BigInt arithmetic: a float would turn $0.0000001 into
// 1.0000000000000001e-7 and big totals into rounding noise.

/** A nano-USD amount as the API may send it: a JSON number or a digit string. */
export type Nano = bigint | number | string;

const NANO_PER_USD = 1_000_000_000n;

/** Converts an API nano value to BigInt; non-integers are rejected rather than guessed. */
export function toNano(v: Nano | null | undefined): bigint {
  if (v === null || v === undefined || v === "") return 0n;
  if (typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return 0n;
    return BigInt(Math.round(v));
  }
  const s = v.trim();
  if (!/^-?\d+$/.test(s)) throw new Error(`not an integer nano amount: ${JSON.stringify(v)}`);
  return BigInt(s);
}

/** Parses a user-entered dollar amount ("12", "12.5", "0.000001") into nano-USD, or null if malformed. */
export function usdToNano(input: string): bigint | null {
  const m = /^\s*(-)?(\d*)(?:\.(\d{0,9}))?\s*$/.exec(input);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return null;
  const whole = BigInt(m[2] || "0");
  const frac = BigInt((m[3] ?? "").padEnd(9, "0") || "0");
  const n = whole * NANO_PER_USD + frac;
  return m[1] ? -n : n;
}

/** Exact decimal string of a nano amount in dollars, trailing zeros trimmed to at least 2 places. */
export function nanoToDecimal(v: Nano): string {
  const n = toNano(v);
  const neg = n < 0n;
  const a = neg ? -n : n;
  const whole = a / NANO_PER_USD;
  let frac = (a % NANO_PER_USD).toString().padStart(9, "0").replace(/0+$/, "");
  if (frac.length < 2) frac = frac.padEnd(2, "0");
  return `${neg ? "-" : ""}${whole}.${frac}`;
}

/** Rounds |n| (nano) to `decimals` dollar places, half away from zero, as [whole, fraction digits]. */
function roundTo(a: bigint, decimals: number): [bigint, string] {
  const scale = 10n ** BigInt(9 - decimals);
  const q = (a + scale / 2n) / scale; // half-up on the absolute value
  const unit = 10n ** BigInt(decimals);
  const whole = q / unit;
  const frac = decimals === 0 ? "" : (q % unit).toString().padStart(decimals, "0");
  return [whole, frac];
}

function group(whole: bigint): string {
  return whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export interface MoneyFormatOptions {
  /** Force this many decimals (0–9) instead of the adaptive precision. */
  decimals?: number;
  /** Compact form for chart axes: $1.2K, $3.4M. */
  compact?: boolean;
}

/**
 * Formats nano-USD as US dollars with adaptive precision:
 * ≥ $1 → cents ("$1,234.57"); $0.01–$1 → up to 4 decimals ("$0.0125", "$0.35");
 * below a cent → 2 significant digits, up to 9 decimals ("$0.0056", "$0.00000015").
 */
export function formatUsd(v: Nano | null | undefined, opts: MoneyFormatOptions = {}): string {
  const n = toNano(v);
  const neg = n < 0n;
  const a = neg ? -n : n;
  const sign = neg ? "-" : "";
  if (opts.compact && a >= 1000n * NANO_PER_USD) {
    const units: [bigint, string][] = [
      [1_000_000_000n * NANO_PER_USD, "B"],
      [1_000_000n * NANO_PER_USD, "M"],
      [1_000n * NANO_PER_USD, "K"],
    ];
    for (const [u, suffix] of units) {
      if (a >= u) {
        const tenths = (a * 10n + u / 2n) / u; // one decimal, rounded
        const w = tenths / 10n;
        const f = tenths % 10n;
        return `${sign}$${w}${f === 0n ? "" : "." + f}${suffix}`;
      }
    }
  }
  let decimals: number;
  if (opts.decimals !== undefined) {
    decimals = Math.max(0, Math.min(9, opts.decimals));
  } else if (a === 0n || a >= NANO_PER_USD) {
    decimals = 2;
  } else if (a >= 10_000_000n) {
    decimals = 4; // ≥ 1 cent
  } else {
    // Two significant digits: position of the first non-zero digit after the point.
    const digits = a.toString().length; // a < 1e7 here, so at most 7 digits
    decimals = Math.min(9, 9 - digits + 2);
  }
  let [whole, frac] = roundTo(a, decimals);
  if (opts.decimals === undefined && decimals > 2) {
    frac = frac.replace(/0+$/, "");
    if (frac.length < 2) frac = frac.padEnd(2, "0");
  }
  if (whole === 0n && frac.replace(/0/g, "") === "") return "$0.00";
  return `${sign}$${group(whole)}${frac ? "." + frac : ""}`;
}

/** Average of a nano total over a count, as nano (BigInt division, rounded half-up). */
export function nanoPer(total: Nano, count: number | bigint): bigint {
  const c = BigInt(count);
  if (c <= 0n) return 0n;
  const t = toNano(total);
  return (t * 2n + c) / (2n * c);
}

/** A nano amount as a JS number of dollars, for chart geometry only (never for display or sums). */
export function nanoToChartNumber(v: Nano): number {
  const n = toNano(v);
  return Number(n / 1000n) / 1_000_000; // micro-dollar resolution is plenty for pixels
}
