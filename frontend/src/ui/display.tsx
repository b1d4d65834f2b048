// Read-only displays of one value: a badge, an amount, a timestamp, a meter.

import type { ReactNode } from "react";
import { formatUsd, type Nano } from "../format/money";
import { formatDateTime, formatRelative } from "../format/dates";

export function Badge({ tone = "neutral", children }: { tone?: "neutral" | "green" | "red" | "amber" | "blue" | "purple"; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function Money({ nano, title }: { nano: Nano | null | undefined; title?: string }) {
  return (
    <span className="num" title={title}>
      {formatUsd(nano)}
    </span>
  );
}

/** A timestamp in the viewer's zone, relative when recent; the full time on hover. */
export function When({ iso, relative = false }: { iso: string | null | undefined; relative?: boolean }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relative ? formatRelative(iso) : formatDateTime(iso)}
    </time>
  );
}

/** A progress bar for spend vs limit; amber past 80 %, red past 100 %. */
export function Meter({ ratio, label }: { ratio: number; label: string }) {
  const pct = Math.max(0, Math.min(1, ratio)) * 100;
  const tone = ratio >= 1 ? "red" : ratio >= 0.8 ? "amber" : "green";
  return (
    <div className={`meter meter-${tone}`} role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(ratio * 100)} aria-label={label}>
      <div style={{ width: `${pct}%` }} />
    </div>
  );
}
