import { useId } from "react";
import { formatUsd } from "../format/money";
import { formatInt, formatPercent } from "../format/numbers";
import { formatDateTime } from "../format/dates";
import { modelColor } from "../charts/palette";
import { TIERS, type SimulateResult, type Tier } from "../api/types";
import { TIER_LABEL, compareCost, keywordReplayNote, mixRows } from "./policy";
import { TIER_COLOR } from "./fields";

/** A tier's colour, or a model's own (modelColor) so it matches the usage charts. */
function seriesColor(key: string, tiers?: boolean): string {
  return (tiers && TIER_COLOR[key]) || modelColor(key);
}

export function MixTable({ title, rows, tiers }: { title: string; rows: ReturnType<typeof mixRows>; tiers?: boolean }) {
  if (rows.length === 0) return null;
  return (
    <>
      <h3>{title}</h3>
      <table className="table compact">
        <thead>
          <tr>
            <th scope="col">{tiers ? "Tier" : "Model"}</th>
            <th scope="col" className="r">
              Before
            </th>
            <th scope="col" className="r">
              After
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <td>
                <span className="swatch" style={{ background: seriesColor(r.key, tiers) }} aria-hidden="true" /> {tiers ? (TIER_LABEL[r.key as Tier] ?? r.key) : <code>{r.key}</code>}
              </td>
              <td className="r num">
                {formatInt(r.before)} <span className="muted small">{formatPercent(r.beforeShare, 0)}</span>
              </td>
              <td className="r num">
                {formatInt(r.after)} <span className="muted small">{formatPercent(r.afterShare, 0)}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function MixBar({ rows, which, label }: { rows: ReturnType<typeof mixRows>; which: "beforeShare" | "afterShare"; label: string }) {
  return (
    <div className="mixbar-row">
      <span className="small muted">{label}</span>
      <div className="mixbar" role="img" aria-label={`${label}: ${rows.map((r) => `${r.key} ${formatPercent(r[which])}`).join(", ")}`}>
        {rows.map((r) => (r[which] > 0 ? <div key={r.key} style={{ width: `${r[which] * 100}%`, background: seriesColor(r.key, true) }} title={`${r.key}: ${formatPercent(r[which])}`} /> : null))}
      </div>
    </div>
  );
}

export function WhatIf({
  sim,
  dirty,
  busy,
  canSimulate,
  days,
  setDays,
  forceAuto,
  setForceAuto,
  run,
}: {
  sim: SimulateResult | null;
  dirty: boolean;
  busy: string;
  canSimulate: boolean;
  days: number;
  setDays: (n: number) => void;
  forceAuto: boolean;
  setForceAuto: (v: boolean) => void;
  run: () => void;
}) {
  const id = useId();
  const cost = sim ? compareCost(sim) : null;
  const tiers = sim ? mixRows(sim.tier_mix_before, sim.tier_mix_after ?? sim.tier_mix, TIERS) : [];
  const modelRows = sim ? mixRows(sim.models_before, sim.models_after) : [];
  return (
    <section className="card whatif" aria-labelledby={`${id}-wi`} aria-live="polite" data-testid="whatif">
      <h2 id={`${id}-wi`}>What-if</h2>
      <p className="muted small">Replays this tenant's recent requests through the policy {dirty ? "as edited (not saved)" : "shown"} and compares the cost with what they actually cost. Nothing changes.</p>
      {canSimulate ? (
        <div className="whatif-controls">
          <label>
            <span className="small muted">Replay the last</span>{" "}
            <select value={days} onChange={(e) => setDays(Number(e.target.value))} aria-label="Days to replay">
              {[7, 30, 90].map((d) => (
                <option key={d} value={d}>
                  {d} days
                </option>
              ))}
            </select>
          </label>
          <label className="check">
            <input type="checkbox" checked={forceAuto} onChange={(e) => setForceAuto(e.target.checked)} />
            <span>Route every request as if it asked for "auto"</span>
          </label>
          <button type="button" className="btn" onClick={run} disabled={busy !== ""}>
            {busy === "sim" ? "Simulating…" : sim ? "Run again" : "Run what-if"}
          </button>
        </div>
      ) : (
        <p className="muted">Your role can't run simulations.</p>
      )}
      {sim && cost && (
        <div data-testid="whatif-result">
          {sim.requests === 0 ? (
            <p className="muted">No requests in the last {sim.days} days to replay.</p>
          ) : (
            <>
              <dl className="compare">
                <div>
                  <dt>Cost before</dt>
                  <dd className="num" data-testid="cost-before">
                    {formatUsd(cost.before)}
                  </dd>
                </div>
                <div>
                  <dt>Cost after</dt>
                  <dd className="num" data-testid="cost-after">
                    {formatUsd(cost.after)}
                  </dd>
                </div>
                <div>
                  <dt>{cost.verdict === "saves" ? "Saving" : cost.verdict === "costs more" ? "Extra cost" : "Difference"}</dt>
                  <dd className={`num ${cost.verdict === "saves" ? "good" : cost.verdict === "costs more" ? "bad" : ""}`} data-testid="cost-diff">
                    {cost.verdict === "saves" ? "−" : cost.verdict === "costs more" ? "+" : ""}
                    {formatUsd(cost.diff < 0n ? -cost.diff : cost.diff)}
                    {cost.before > 0n && <span className="small"> ({formatPercent(cost.ratio)})</span>}
                  </dd>
                </div>
              </dl>
              <p className="muted small">
                {formatInt(sim.requests)} requests from {formatDateTime(sim.from)} to {formatDateTime(sim.to)}
                {sim.skipped > 0 && `; ${formatInt(sim.skipped)} skipped (model no longer in the catalog, or refused)`}.
                {sim.needs_text ? ` Needs the prompt text: ${sim.needs_text}.` : " Decided from the recorded classifier inputs, exactly as live."}
              </p>
              {keywordReplayNote(sim) && (
                <p className="muted small" data-testid="keyword-replay">
                  Keyword rules: {keywordReplayNote(sim)}.
                </p>
              )}
              {sim.truncated && <p className="form-error">Only the newest 50,000 requests were replayed: the figures cover part of the period.</p>}
              <MixBar rows={tiers} which="beforeShare" label="Before" />
              <MixBar rows={tiers} which="afterShare" label="After" />
              <MixTable title="Requests per tier" rows={tiers} tiers />
              <MixTable title="Requests per model" rows={modelRows.slice(0, 12)} />
            </>
          )}
        </div>
      )}
    </section>
  );
}
