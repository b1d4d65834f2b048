/** Formats a token (or any large) count compactly: 950, 12.3K, 4.56M, 1.2B. */
export function formatTokens(n: number | null | undefined): string {
  const v = Number(n ?? 0);
  if (!Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  const sign = v < 0 ? "-" : "";
  if (a < 1000) return `${sign}${Math.round(a)}`;
  const units: [number, string][] = [
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [u, s] of units) {
    if (a >= u) {
      const x = a / u;
      const digits = x >= 100 ? 0 : x >= 10 ? 1 : 2;
      return `${sign}${trim(x.toFixed(digits))}${s}`;
    }
  }
  return String(v);
}

function trim(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** Formats an integer with thousands separators: 12,345. */
export function formatInt(n: number | null | undefined): string {
  return new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).format(Number(n ?? 0));
}

/** Formats a 0–1 ratio as a percentage: 0.4567 → "45.7%". */
export function formatPercent(ratio: number, digits = 1): string {
  if (!Number.isFinite(ratio)) return "—";
  return `${trim((ratio * 100).toFixed(digits))}%`;
}
