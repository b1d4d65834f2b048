import { useEffect, useId, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import { formatUsd, toNano } from "../format/money";
import { formatPercent } from "../format/numbers";
import { ErrorState, PageHeader, Skeleton } from "../ui/bits";
import { FormError } from "../ui/dialog";
import { PALETTE } from "../charts/palette";
import { useToast } from "../ui/toast";
import type { RoutingPolicy, RoutingRule, RoutingTier, SimulateResult } from "../api/types";

const csv = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

/** Normalizes tier_mix (a map or a list; shares or counts) to [tier, share] pairs summing to 1. */
export function tierShares(mix: SimulateResult["tier_mix"] | undefined): [string, number][] {
  if (!mix) return [];
  const pairs: [string, number][] = Array.isArray(mix) ? mix.map((m) => [m.tier, Number(m.share ?? m.requests ?? 0)]) : Object.entries(mix).map(([k, v]) => [k, Number(v)]);
  const total = pairs.reduce((s, [, v]) => s + v, 0);
  return total > 0 ? pairs.map(([k, v]) => [k, v / total]) : pairs;
}

export default function RoutingPage() {
  const { tenant, can } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const id = useId();
  const policy = useQuery({ queryKey: qk.routing(tenant), queryFn: () => api.routing(tenant) });
  const models = useQuery({ queryKey: qk.models(tenant), queryFn: () => api.models(tenant), staleTime: 10 * 60_000 });
  const [draft, setDraft] = useState<RoutingPolicy | null>(null);
  const [json, setJson] = useState<string | null>(null); // advanced editor text, when open
  const [busy, setBusy] = useState<"" | "save" | "sim">("");
  const [err, setErr] = useState<string | null>(null);
  const [sim, setSim] = useState<SimulateResult | null>(null);
  const edit = can("routing.edit");

  useEffect(() => {
    if (policy.data) setDraft(structuredClone(policy.data));
  }, [policy.data]);

  if (policy.isPending || !draft) {
    return (
      <>
        <PageHeader title="Routing" />
        {policy.isError ? <ErrorState error={policy.error} onRetry={() => policy.refetch()} /> : <Skeleton lines={8} />}
      </>
    );
  }

  const tiers = draft.tiers ?? [];
  const rules = draft.rules ?? [];
  const dirty = JSON.stringify(draft) !== JSON.stringify(policy.data);
  const set = (p: Partial<RoutingPolicy>) => setDraft({ ...draft, ...p });
  const setTier = (i: number, t: Partial<RoutingTier>) => set({ tiers: tiers.map((x, j) => (j === i ? { ...x, ...t } : x)) });
  const setRule = (i: number, r: Partial<RoutingRule>) => set({ rules: rules.map((x, j) => (j === i ? { ...x, ...r } : x)) });
  const tierNames = tiers.map((t) => t.name).filter(Boolean);

  const current = (): RoutingPolicy | null => {
    if (json === null) return draft;
    try {
      return JSON.parse(json) as RoutingPolicy;
    } catch {
      setErr("The JSON is not valid.");
      return null;
    }
  };
  const save = async () => {
    const p = current();
    if (!p) return;
    setBusy("save");
    setErr(null);
    try {
      await api.setRouting(tenant, p);
      toast.success("Routing policy saved");
      setJson(null);
      await qc.invalidateQueries({ queryKey: qk.routing(tenant) });
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy("");
    }
  };
  const simulate = async () => {
    const p = current();
    if (!p) return;
    setBusy("sim");
    setErr(null);
    try {
      setSim(await api.simulate(tenant, p));
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy("");
    }
  };

  const before = sim ? toNano(sim.before_nano) : 0n;
  const after = sim ? toNano(sim.after_nano) : 0n;
  const saving = before > 0n ? Number(((before - after) * 10000n) / before) / 10000 : 0;

  return (
    <>
      <PageHeader
        title="Routing"
        description="How Tollgate picks a model when a request says model: &quot;auto&quot;: tiers of models, rules that choose a tier, and who may use premium models."
        actions={
          <>
            {can("routing.simulate") && (
              <button type="button" className="btn" onClick={simulate} disabled={busy !== ""}>
                {busy === "sim" ? "Simulating…" : "Run what-if"}
              </button>
            )}
            {edit && (
              <button type="button" className="btn btn-primary" onClick={save} disabled={busy !== "" || (!dirty && json === null)}>
                {busy === "save" ? "Saving…" : "Save policy"}
              </button>
            )}
          </>
        }
      />
      {err && <FormError message={err} />}
      <div className="grid-2-1">
        <div>
          {json !== null ? (
            <section className="card">
              <h2>Policy JSON</h2>
              <label htmlFor={`${id}-json`} className="sr-only">
                Policy JSON
              </label>
              <textarea id={`${id}-json`} className="code" rows={22} value={json} onChange={(e) => setJson(e.target.value)} readOnly={!edit} spellCheck={false} />
              <button type="button" className="btn btn-sm" onClick={() => setJson(null)}>
                Back to form (discards JSON edits)
              </button>
            </section>
          ) : (
            <>
              <section className="card" aria-labelledby={`${id}-tiers`}>
                <div className="card-head">
                  <h2 id={`${id}-tiers`}>Tiers</h2>
                  {edit && (
                    <button type="button" className="btn btn-sm" onClick={() => set({ tiers: [...tiers, { name: "", models: [] }] })}>
                      Add tier
                    </button>
                  )}
                </div>
                <datalist id={`${id}-models`}>
                  {listOf(models.data).map((m) => (
                    <option key={m.id} value={m.id} />
                  ))}
                </datalist>
                {tiers.length === 0 && <p className="muted">No tiers: every request uses the model it names.</p>}
                {tiers.map((t, i) => (
                  <div className="row-edit" key={i}>
                    <label>
                      <span className="small muted">Tier name</span>
                      <input value={t.name} readOnly={!edit} onChange={(e) => setTier(i, { name: e.target.value })} />
                    </label>
                    <label className="grow">
                      <span className="small muted">Models, in fallback order (comma-separated)</span>
                      <input list={`${id}-models`} value={(t.models ?? []).join(", ")} readOnly={!edit} onChange={(e) => setTier(i, { models: csv(e.target.value) })} />
                    </label>
                    {edit && (
                      <button type="button" className="icon-btn" aria-label={`Remove tier ${t.name}`} onClick={() => set({ tiers: tiers.filter((_, j) => j !== i) })}>
                        ×
                      </button>
                    )}
                  </div>
                ))}
                <label className="field inline">
                  <span>Default tier</span>
                  <select value={draft.default_tier ?? ""} disabled={!edit} onChange={(e) => set({ default_tier: e.target.value })}>
                    <option value="">(none)</option>
                    {tierNames.map((n) => (
                      <option key={n}>{n}</option>
                    ))}
                  </select>
                </label>
              </section>
              <section className="card" aria-labelledby={`${id}-rules`}>
                <div className="card-head">
                  <h2 id={`${id}-rules`}>Rules</h2>
                  {edit && (
                    <button type="button" className="btn btn-sm" onClick={() => set({ rules: [...rules, { when: "", tier: tierNames[0] ?? "" }] })}>
                      Add rule
                    </button>
                  )}
                </div>
                <p className="muted small">First match wins. Conditions like <code>prompt_tokens &gt; 2000</code> or <code>budget_used_pct &gt;= 80</code>.</p>
                {rules.length === 0 && <p className="muted">No rules: requests use the default tier.</p>}
                {rules.map((r, i) => (
                  <div className="row-edit" key={i}>
                    <label className="grow">
                      <span className="small muted">When</span>
                      <input value={r.when ?? ""} readOnly={!edit} onChange={(e) => setRule(i, { when: e.target.value })} />
                    </label>
                    <label>
                      <span className="small muted">Use tier</span>
                      <select value={r.tier} disabled={!edit} onChange={(e) => setRule(i, { tier: e.target.value })}>
                        {[...new Set([r.tier, ...tierNames])].filter(Boolean).map((n) => (
                          <option key={n}>{n}</option>
                        ))}
                      </select>
                    </label>
                    {edit && (
                      <button type="button" className="icon-btn" aria-label={`Remove rule ${i + 1}`} onClick={() => set({ rules: rules.filter((_, j) => j !== i) })}>
                        ×
                      </button>
                    )}
                  </div>
                ))}
              </section>
              <section className="card">
                <h2>
                  <label htmlFor={`${id}-allow`}>Premium allowlist</label>
                </h2>
                <p className="muted small">Key or member ids allowed to reach the premium tier (comma-separated). Empty = nobody.</p>
                <input id={`${id}-allow`} className="wide" value={(draft.premium_allowlist ?? []).join(", ")} readOnly={!edit} onChange={(e) => set({ premium_allowlist: csv(e.target.value) })} />
              </section>
              <button type="button" className="btn btn-ghost btn-sm" onClick={() => setJson(JSON.stringify(draft, null, 2))}>
                Edit as JSON (advanced)
              </button>
            </>
          )}
        </div>
        <section className="card whatif" aria-labelledby={`${id}-wi`} aria-live="polite">
          <h2 id={`${id}-wi`}>What-if</h2>
          <p className="muted small">Replays recent traffic through the policy {dirty ? "as edited (not saved)" : "shown"} and compares its cost with what was actually spent.</p>
          {!sim ? (
            can("routing.simulate") ? (
              <button type="button" className="btn" onClick={simulate} disabled={busy !== ""}>
                {busy === "sim" ? "Simulating…" : "Run what-if"}
              </button>
            ) : (
              <p className="muted">Your role can't run simulations.</p>
            )
          ) : (
            <>
              <dl className="compare">
                <div>
                  <dt>Before</dt>
                  <dd className="num">{formatUsd(sim.before_nano)}</dd>
                </div>
                <div>
                  <dt>After</dt>
                  <dd className="num">{formatUsd(sim.after_nano)}</dd>
                </div>
                <div>
                  <dt>{saving >= 0 ? "Saving" : "Extra cost"}</dt>
                  <dd className={`num ${saving >= 0 ? "good" : "bad"}`}>
                    {formatUsd(before - after < 0n ? after - before : before - after)} ({formatPercent(Math.abs(saving))})
                  </dd>
                </div>
              </dl>
              <h3>Tier mix after</h3>
              <div className="mixbar" role="img" aria-label={tierShares(sim.tier_mix).map(([t, s]) => `${t} ${formatPercent(s)}`).join(", ")}>
                {tierShares(sim.tier_mix).map(([t, s], i) => (
                  <div key={t} style={{ width: `${s * 100}%`, background: PALETTE[i % PALETTE.length] }} title={`${t}: ${formatPercent(s)}`} />
                ))}
              </div>
              <ul className="legend">
                {tierShares(sim.tier_mix).map(([t, s], i) => (
                  <li key={t}>
                    <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} aria-hidden="true" /> {t} <span className="muted">{formatPercent(s)}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      </div>
    </>
  );
}
