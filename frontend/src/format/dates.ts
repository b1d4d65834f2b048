// Times come from the API as RFC 3339 UTC; they are shown in the viewer's time
// zone (timeZone undefined = the browser's). Tests pass an explicit zone.

/** Formats an RFC 3339 instant as "Mar 5, 2025, 14:07" in the given (or viewer's) time zone. */
export function formatDateTime(iso: string | null | undefined, timeZone?: string, locale = "en-US"): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(d);
}

/** Formats an instant as a time of day with seconds ("14:07:09"), for live feeds. */
export function formatTime(iso: string | null | undefined, timeZone?: string, locale = "en-US"): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).format(d);
}

/**
 * Formats a calendar day "YYYY-MM-DD" (a usage rollup key, not an instant) as "Mar 5".
 * It is a date, not a time, so it is never shifted into another zone.
 */
export function formatDay(day: string, locale = "en-US", withYear = false): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(day);
  if (!m) return day;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return new Intl.DateTimeFormat(locale, {
    timeZone: "UTC",
    month: "short",
    day: "numeric",
    year: withYear ? "numeric" : undefined,
  }).format(d);
}

/** The calendar date "YYYY-MM-DD" of an instant in a time zone (the viewer's by default). */
export function isoDateInZone(at: Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** First day of the month containing `at`, in the zone, as "YYYY-MM-01". */
export function monthStartInZone(at: Date, timeZone?: string): string {
  return isoDateInZone(at, timeZone).slice(0, 8) + "01";
}

/** Adds days to a "YYYY-MM-DD" date. */
export function addDays(day: string, days: number): string {
  const [y, m, d] = day.split("-").map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return t.toISOString().slice(0, 10);
}

/** Every "YYYY-MM-DD" from `from` to `to` inclusive (at most 400 days). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to && out.length < 400; d = addDays(d, 1)) out.push(d);
  return out;
}

/** Share of the calendar month elapsed at `at` (UTC month, as the ledger's periods are UTC). */
export function monthElapsed(at: Date): { elapsedMs: number; totalMs: number } {
  const start = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
  const end = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
  return { elapsedMs: Math.max(1, at.getTime() - start), totalMs: end - start };
}

/** "just now", "5 min ago", "3 h ago", "2 d ago", else the date; future instants read "in …". */
export function formatRelative(iso: string | null | undefined, now: Date = new Date(), timeZone?: string): string {
  if (!iso) return "never";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return "—";
  const diff = now.getTime() - t;
  const a = Math.abs(diff);
  const fmt = (v: number, u: string) => (diff >= 0 ? `${v} ${u} ago` : `in ${v} ${u}`);
  if (a < 45_000) return diff >= 0 ? "just now" : "in a moment";
  if (a < 3_600_000) return fmt(Math.round(a / 60_000), "min");
  if (a < 86_400_000) return fmt(Math.round(a / 3_600_000), "h");
  if (a < 30 * 86_400_000) return fmt(Math.round(a / 86_400_000), "d");
  return formatDateTime(iso, timeZone).replace(/, \d\d:\d\d$/, "");
}
