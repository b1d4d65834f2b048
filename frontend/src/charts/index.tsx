import { lazy, Suspense } from "react";
import type { StackedProps } from "./Charts";
import type { UsageRow } from "../api/types";
import { nanoToChartNumber } from "../format/money";
import { daysBetween } from "../format/dates";

const Stacked = lazy(() => import("./Charts"));

/** A stacked bar chart, loaded on demand so the chart library stays out of the main bundle. */
export function StackedChart(props: StackedProps) {
  return (
    <Suspense fallback={<div className="skeleton" style={{ height: props.height ?? 260 }} aria-label="Loading chart" />}>
      <Stacked {...props} />
    </Suspense>
  );
}

/**
 * Pivots usage rows into chart rows: one per day in [from, to] (zero-filled),
 * one series per model (the top `maxSeries - 1` by cost, the rest as "other").
 */
export function pivotDailyByModel(series: UsageRow[], from: string, to: string, maxSeries = 6): { rows: Record<string, number | string>[]; models: string[] } {
  const costByModel = new Map<string, number>();
  for (const r of series) {
    const m = r.model || "all models";
    costByModel.set(m, (costByModel.get(m) ?? 0) + nanoToChartNumber(r.cost_nano));
  }
  const ranked = [...costByModel.entries()].sort((a, b) => b[1] - a[1]).map(([m]) => m);
  const keep = ranked.length > maxSeries ? ranked.slice(0, maxSeries - 1) : ranked;
  const models = ranked.length > maxSeries ? [...keep, "other"] : keep;
  const byDay = new Map<string, Record<string, number | string>>();
  for (const d of daysBetween(from, to)) byDay.set(d, { x: d, ...Object.fromEntries(models.map((m) => [m, 0])) });
  for (const r of series) {
    if (!r.day) continue;
    const day = r.day.slice(0, 10);
    const row = byDay.get(day) ?? { x: day, ...Object.fromEntries(models.map((m) => [m, 0])) };
    const m = keep.includes(r.model || "all models") ? r.model || "all models" : "other";
    row[m] = Number(row[m] ?? 0) + nanoToChartNumber(r.cost_nano);
    byDay.set(day, row);
  }
  const rows = [...byDay.values()].sort((a, b) => String(a.x).localeCompare(String(b.x)));
  return { rows, models };
}
