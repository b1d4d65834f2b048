// Recharts lives only in this lazily loaded chunk (see charts/index.tsx).
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatDay } from "../format/dates";
import { formatTokens } from "../format/numbers";

import { PALETTE } from "./palette";

export interface StackedProps {
  /** One row per x value: { x: "2025-03-01", [series]: number } */
  rows: Record<string, number | string>[];
  series: string[];
  /** Formats a y value (dollars as a number for geometry; the tooltip shows exact labels if given). */
  unit: "usd" | "count";
  height?: number;
  /** X values are YYYY-MM-DD days. */
  days?: boolean;
  ariaLabel: string;
  /** A series' colour; models pass modelColor so a model keeps its colour everywhere. Default: the palette in order. */
  colorOf?: (series: string) => string;
}

const trimZeros = (s: string) => (s.includes(".") ? s.replace(/\.?0+$/, "") : s);
const fmtUsdAxis = (v: number) =>
  v >= 1000 ? `$${trimZeros((v / 1000).toFixed(1))}K` : v >= 1 ? `$${trimZeros(v.toFixed(2))}` : v === 0 ? "$0" : `$${trimZeros(v.toPrecision(2))}`;
const fmtUsdTip = (v: number) => (v >= 1 ? `$${v.toFixed(2)}` : v >= 0.01 ? `$${v.toFixed(4)}` : `$${v.toPrecision(2)}`);

export default function StackedBars({ rows, series, unit, height = 260, days = true, ariaLabel, colorOf }: StackedProps) {
  const yFmt = unit === "usd" ? fmtUsdAxis : (v: number) => formatTokens(v);
  const tipFmt = unit === "usd" ? fmtUsdTip : (v: number) => formatTokens(v);
  return (
    <div role="img" aria-label={ariaLabel} className="chart">
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--grid)" />
          <XAxis dataKey="x" tickFormatter={(d: string) => (days ? formatDay(d) : d)} tick={{ fontSize: 11, fill: "var(--muted)" }} minTickGap={16} />
          <YAxis tickFormatter={yFmt} tick={{ fontSize: 11, fill: "var(--muted)" }} width={64} />
          <Tooltip
            formatter={(v) => tipFmt(Number(v))}
            labelFormatter={(d) => (days ? formatDay(String(d), "en-US", true) : String(d))}
            contentStyle={{ background: "var(--surface)", border: "1px solid var(--border)", borderRadius: 8, fontSize: 12 }}
          />
          {series.length > 1 && <Legend wrapperStyle={{ fontSize: 12 }} />}
          {series.map((s, i) => (
            <Bar key={s} dataKey={s} stackId="a" fill={colorOf ? colorOf(s) : PALETTE[i % PALETTE.length]} isAnimationActive={false} maxBarSize={36} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
