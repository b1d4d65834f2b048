import { useEffect, useId, useMemo, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import { formatUsd } from "../format/money";
import { formatInt, formatPercent } from "../format/numbers";
import { formatDateTime } from "../format/dates";
import { Badge, ErrorState, PageHeader, Skeleton } from "../ui/bits";
import { FormError } from "../ui/dialog";
import { PALETTE } from "../charts/palette";
import { useToast } from "../ui/toast";
import { TIERS, type ModelInfo, type RoutingPolicy, type RoutingRule, type SimulateResult, type Tier } from "../api/types";
import { TIER_LABEL, addLadderStep, addableModels, compareCost, mixRows, move, policyProblems, splitList, toDraft, toWire, unknownFields } from "../routing/policy";

const TIER_COLOR: Record<string, string> = { economy: PALETTE[0], standard: PALETTE[1], premium: PALETTE[2] };

/** A number input where empty means 0 (the policy's "use the default"). */
function NumberInput({ value, onChange, readOnly, min, label, id }: { value: number | undefined; onChange: (n: number) => void; readOnly: boolean; min?: number; label: string; id: string }) {
  return (
    <input
      id={id}
      aria-label={label}
      type="number"
      inputMode="numeric"
      min={min}
      step={1}
      value={value ? String(value) : ""}
      placeholder="default"
      readOnly={readOnly}
      onChange={(e) => onChange(e.target.value === "" ? 0 : Math.trunc(Number(e.target.value)) || 0)}
    />
  );
}

function TierSelect({ value, onChange, disabled, label, id, emptyLabel }: { value: string | undefined; onChange: (t: Tier | "") => void; disabled: boolean; label: string; id: string; emptyLabel?: string }) {
  return (
    <select id={id} aria-label={label} value={value ?? ""} disabled={disabled} onChange={(e) => onChange(e.target.value as Tier | "")}>
      {emptyLabel !== undefined && <option value="">{emptyLabel}</option>}
      {TIERS.map((t) => (
        <option key={t} value={t}>
          {TIER_LABEL[t]}
        </option>
      ))}
    </select>
  );
}

function Card({ title, hint, actions, children }: { title: string; hint?: ReactNode; actions?: ReactNode; children: ReactNode }) {
  const id = useId();
  return (
    <section className="card" aria-labelledby={id}>
      <div className="card-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {hint && <p className="muted small">{hint}</p>}
      {children}
    </section>
  );
}

export default function RoutingPage() {
  const { tenant, can } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const id = useId();
  const policy = useQuery({ queryKey: qk.routing(tenant), queryFn: () => api.routing(tenant) });
  const models = useQuery({ queryKey: qk.models(tenant), queryFn: () => api.models(tenant), staleTime: 10 * 60_000 });
  const catalog = useMemo(() => listOf(models.data), [models.data]);
  const [draft, setDraft] = useState<RoutingPolicy | null>(null);
  const [json, setJson] = useState<string | null>(null); // advanced editor text, when open
  const [busy, setBusy] = useState<"" | "save" | "sim">("");
  const [err, setErr] = useState<string | null>(null);
  const [sim, setSim] = useState<SimulateResult | null>(null);
  const [simDays, setSimDays] = useState(30);
  const [forceAuto, setForceAuto] = useState(false);
  const edit = can("routing.edit");

  useEffect(() => {
    if (policy.data) setDraft(toDraft(policy.data));
  }, [policy.data]);

  const saved = useMemo(() => (policy.data ? JSON.stringify(toWire(toDraft(policy.data))) : ""), [policy.data]);

  if (policy.isPending || !draft) {
    return (
      <>
        <PageHeader title="Routing" />
        {policy.isError ? <ErrorState error={policy.error} onRetry={() => policy.refetch()} /> : <Skeleton lines={8} />}
      </>
    );
  }

  const dirty = json !== null || JSON.stringify(toWire(draft)) !== saved;
  const set = (p: Partial<RoutingPolicy>) => setDraft({ ...draft, ...p });
  const rules = draft.rules ?? [];
  const ladder = draft.ladder ?? [];
  const setTierList = (t: Tier, list: string[]) => set({ tiers: { ...draft.tiers, [t]: list } });
  const setRule = (i: number, r: Partial<RoutingRule>) => set({ rules: rules.map((x, j) => (j === i ? { ...x, ...r } : x)) });
  const byId = new Map(catalog.map((m) => [m.id, m]));

  /** The policy to send: the form's, or the JSON editor's after checking it. */
  const current = (): RoutingPolicy | null => {
    if (json === null) {
      const problems = policyProblems(draft, catalog);
      if (problems.length) {
        setErr(problems.join("\n"));
        return null;
      }
      return toWire(draft);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (x) {
      setErr(`The JSON is not valid: ${(x as Error).message}`);
      return null;
    }
    const unknown = unknownFields(parsed);
    if (unknown.length) {
      setErr(`Unknown fields (the server refuses them): ${unknown.join(", ")}`);
      return null;
    }
    return parsed as RoutingPolicy;
  };
  const save = async () => {
    const p = current();
    if (!p) return;
    setBusy("save");
    setErr(null);
    try {
      const out = await api.setRouting(tenant, p);
      qc.setQueryData(qk.routing(tenant), out);
      toast.success("Routing policy saved", "Enforced from the next request.");
      setJson(null);
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
      setSim(await api.simulate(tenant, p, { days: simDays, force_auto: forceAuto }));
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy("");
    }
  };

  return (
    <>
      <PageHeader
        title="Routing"
        description={
          <>
            How Tollgate picks a model: requests for <code>model: "auto"</code> go to a tier by rules and prompt complexity; each tier tries its models in order. Caps and the budget ladder
            apply to every request.
          </>
        }
        actions={
          <>
            {can("routing.simulate") && (
              <button type="button" className="btn" onClick={simulate} disabled={busy !== ""}>
                {busy === "sim" ? "Simulating…" : "Run what-if"}
              </button>
            )}
            {edit && (
              <>
                {dirty && (
                  <button
                    type="button"
                    className="btn btn-ghost"
                    onClick={() => {
                      setDraft(toDraft(policy.data));
                      setJson(null);
                      setErr(null);
                    }}
                    disabled={busy !== ""}
                  >
                    Discard changes
                  </button>
                )}
                <button type="button" className="btn btn-primary" onClick={save} disabled={busy !== "" || !dirty}>
                  {busy === "save" ? "Saving…" : "Save policy"}
                </button>
              </>
            )}
          </>
        }
      />
      {err && <FormError message={err} />}
      <div className="grid-2-1">
        <div>
          {json !== null ? (
            <section className="card">
              <h2>
                <label htmlFor={`${id}-json`}>Policy JSON</label>
              </h2>
              <p className="muted small">
                The policy exactly as stored (<code>routing.Policy</code>). Unknown fields are refused; tiers are <code>economy</code>, <code>standard</code>, <code>premium</code>.
              </p>
              <textarea id={`${id}-json`} className="code" rows={24} value={json} onChange={(e) => setJson(e.target.value)} readOnly={!edit} spellCheck={false} />
              <button type="button" className="btn btn-sm" onClick={() => setJson(null)}>
                Back to the form (discards JSON edits)
              </button>
            </section>
          ) : (
            <>
              <Card title="Tiers" hint="Each tier lists models in order of preference: the first available one answers, the next ones are fallbacks.">
                {models.isError && <ErrorState error={models.error} onRetry={() => models.refetch()} />}
                <div className="tiers">
                  {TIERS.map((t) => (
                    <TierEditor key={t} tier={t} list={draft.tiers[t] ?? []} catalog={catalog} byId={byId} edit={edit} onChange={(l) => setTierList(t, l)} />
                  ))}
                </div>
              </Card>

              <Card title="Automatic selection" hint='For model "auto": prompts scoring at or above the complexity threshold are complex, the rest simple.'>
                <div className="form-grid">
                  <label>
                    <span className="small muted">Simple prompts use</span>
                    <TierSelect id={`${id}-simple`} label="Simple prompts use" value={draft.simple_tier} disabled={!edit} emptyLabel="Economy (default)" onChange={(v) => set({ simple_tier: v })} />
                  </label>
                  <label>
                    <span className="small muted">Complex prompts use</span>
                    <TierSelect id={`${id}-complex`} label="Complex prompts use" value={draft.complex_tier} disabled={!edit} emptyLabel="Standard (default)" onChange={(v) => set({ complex_tier: v })} />
                  </label>
                  <label>
                    <span className="small muted">Complexity threshold (default 3)</span>
                    <NumberInput id={`${id}-score`} label="Complexity threshold" value={draft.complex_score} readOnly={!edit} min={0} onChange={(n) => set({ complex_score: n })} />
                  </label>
                  <label>
                    <span className="small muted">Highest tier for any request</span>
                    <TierSelect id={`${id}-max`} label="Highest tier for any request" value={draft.max_tier} disabled={!edit} emptyLabel="Premium (default)" onChange={(v) => set({ max_tier: v })} />
                  </label>
                  <label>
                    <span className="small muted">Fallbacks per request (default 2, −1 = none)</span>
                    <NumberInput id={`${id}-fb`} label="Fallbacks per request" value={draft.max_fallbacks} readOnly={!edit} min={-1} onChange={(n) => set({ max_fallbacks: n })} />
                  </label>
                </div>
                <Toggle checked={!!draft.session_affinity} disabled={!edit} onChange={(v) => set({ session_affinity: v })}>
                  Session affinity: keep a conversation on the model it started with (warm prompt cache)
                </Toggle>
                <Toggle checked={!!draft.fallback_explicit} disabled={!edit} onChange={(v) => set({ fallback_explicit: v })}>
                  Let requests naming a model fall back to other models of its tier
                </Toggle>
              </Card>

              <Card
                title="Rules"
                hint='Checked in order for model "auto"; the first rule whose conditions all hold sets the tier.'
                actions={
                  edit && (
                    <button type="button" className="btn btn-sm" onClick={() => set({ rules: [...rules, { name: `rule ${rules.length + 1}`, keywords: [], tier: "standard" }] })}>
                      Add rule
                    </button>
                  )
                }
              >
                {rules.length === 0 && <p className="muted">No rules: the complexity score alone picks the tier.</p>}
                {rules.map((r, i) => (
                  <RuleEditor
                    key={i}
                    index={i}
                    rule={r}
                    edit={edit}
                    last={i === rules.length - 1}
                    onChange={(p) => setRule(i, p)}
                    onMove={(d) => set({ rules: move(rules, i, d) })}
                    onRemove={() => set({ rules: rules.filter((_, j) => j !== i) })}
                  />
                ))}
              </Card>

              <Card title="Premium models" hint="Which premium models clients may ask for by name. None checked = every premium model the highest tier allows.">
                {catalog.filter((m) => m.tier === "premium").length === 0 && <p className="muted">The catalog has no premium models.</p>}
                <div className="checks">
                  {[...new Set([...catalog.filter((m) => m.tier === "premium").map((m) => m.id), ...(draft.premium_allowlist ?? [])])].map((mid) => (
                    <label key={mid} className="check">
                      <input
                        type="checkbox"
                        disabled={!edit}
                        checked={(draft.premium_allowlist ?? []).includes(mid)}
                        onChange={(e) =>
                          set({ premium_allowlist: e.target.checked ? [...(draft.premium_allowlist ?? []), mid] : (draft.premium_allowlist ?? []).filter((x) => x !== mid) })
                        }
                      />
                      <span>
                        <code>{mid}</code> {byId.get(mid)?.enabled === false && <span className="muted small">(provider not configured)</span>}
                        {!byId.has(mid) && catalog.length > 0 && <Badge tone="red">not in catalog</Badge>}
                      </span>
                    </label>
                  ))}
                </div>
                <Toggle checked={!!draft.refuse_denied} disabled={!edit} onChange={(v) => set({ refuse_denied: v })}>
                  Refuse a request for a model it may not use (instead of downgrading it)
                </Toggle>
              </Card>

              <Card
                title="Budget ladder"
                hint="As the period's spend climbs, cap the tier. Steps apply from their percentage of the tenant's budget on."
                actions={
                  edit && (
                    <button
                      type="button"
                      className="btn btn-sm"
                      onClick={() => set({ ladder: addLadderStep(ladder, { at_percent: Math.min(100, (ladder[ladder.length - 1]?.at_percent ?? 70) + 10), max_tier: "economy" }) })}
                    >
                      Add step
                    </button>
                  )
                }
              >
                {ladder.length === 0 && <p className="muted">No ladder: spend does not change the tier (a hard budget still refuses at 100%).</p>}
                {ladder.map((s, i) => (
                  <div className="row-edit" key={i}>
                    <label>
                      <span className="small muted">From % of budget</span>
                      <NumberInput
                        id={`${id}-l${i}`}
                        label={`Ladder step ${i + 1} percent`}
                        value={s.at_percent}
                        readOnly={!edit}
                        min={1}
                        onChange={(n) => set({ ladder: ladder.map((x, j) => (j === i ? { ...x, at_percent: n } : x)) })}
                      />
                    </label>
                    <label>
                      <span className="small muted">Highest tier</span>
                      <TierSelect
                        id={`${id}-lt${i}`}
                        label={`Ladder step ${i + 1} highest tier`}
                        value={s.max_tier}
                        disabled={!edit}
                        onChange={(v) => set({ ladder: ladder.map((x, j) => (j === i ? { ...x, max_tier: (v || "economy") as Tier } : x)) })}
                      />
                    </label>
                    {edit && (
                      <button type="button" className="icon-btn" aria-label={`Remove ladder step ${i + 1}`} onClick={() => set({ ladder: ladder.filter((_, j) => j !== i) })}>
                        ×
                      </button>
                    )}
                  </div>
                ))}
                <div className="form-grid">
                  <label>
                    <span className="small muted">Pace tolerance % (default 20, −1 = off)</span>
                    <NumberInput id={`${id}-pace`} label="Pace tolerance percent" value={draft.pace_tolerance_percent} readOnly={!edit} min={-1} onChange={(n) => set({ pace_tolerance_percent: n })} />
                  </label>
                </div>
                <p className="muted small">Pacing: when spend runs this much faster than the period elapses, "auto" drops one tier.</p>
                <Toggle checked={!!draft.ladder_explicit} disabled={!edit} onChange={(v) => set({ ladder_explicit: v })}>
                  Apply the ladder and pacing to requests that name a model too
                </Toggle>
              </Card>
              <button type="button" className="btn btn-ghost btn-sm" onClick={() => setJson(JSON.stringify(toWire(draft), null, 2))}>
                Edit as JSON (advanced)
              </button>
            </>
          )}
        </div>
        <WhatIf
          sim={sim}
          dirty={dirty}
          busy={busy}
          canSimulate={can("routing.simulate")}
          days={simDays}
          setDays={setSimDays}
          forceAuto={forceAuto}
          setForceAuto={setForceAuto}
          run={simulate}
        />
      </div>
    </>
  );
}

function Toggle({ checked, disabled, onChange, children }: { checked: boolean; disabled: boolean; onChange: (v: boolean) => void; children: ReactNode }) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} />
      <span>{children}</span>
    </label>
  );
}

function TierEditor({ tier, list, catalog, byId, edit, onChange }: { tier: Tier; list: string[]; catalog: ModelInfo[]; byId: Map<string, ModelInfo>; edit: boolean; onChange: (l: string[]) => void }) {
  const id = useId();
  const addable = addableModels(catalog, tier, list);
  return (
    <div className="tier" data-tier={tier}>
      <h3>
        <span className="swatch" style={{ background: TIER_COLOR[tier] }} aria-hidden="true" /> {TIER_LABEL[tier]}
      </h3>
      {list.length === 0 ? (
        <p className="muted small">No models: requests for this tier use the nearest tier that has some.</p>
      ) : (
        <ol className="model-list" aria-label={`${TIER_LABEL[tier]} models in order`}>
          {list.map((m, i) => {
            const info = byId.get(m);
            return (
              <li key={m}>
                <span className="model-rank">{i + 1}</span>
                <code>{m}</code>
                {info?.enabled === false && <span className="muted small"> no provider</span>}
                {catalog.length > 0 && !info && <Badge tone="red">not in catalog</Badge>}
                {info && info.tier !== tier && <Badge tone="red">{info.tier} model</Badge>}
                {edit && (
                  <span className="model-actions">
                    <button type="button" className="icon-btn" aria-label={`Move ${m} up`} disabled={i === 0} onClick={() => onChange(move(list, i, -1))}>
                      ↑
                    </button>
                    <button type="button" className="icon-btn" aria-label={`Move ${m} down`} disabled={i === list.length - 1} onClick={() => onChange(move(list, i, 1))}>
                      ↓
                    </button>
                    <button type="button" className="icon-btn" aria-label={`Remove ${m} from ${tier}`} onClick={() => onChange(list.filter((x) => x !== m))}>
                      ×
                    </button>
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      )}
      {edit && addable.length > 0 && (
        <>
          <label htmlFor={id} className="sr-only">
            Add a model to {tier}
          </label>
          <select
            id={id}
            value=""
            onChange={(e) => {
              if (e.target.value) onChange([...list, e.target.value]);
            }}
          >
            <option value="">+ Add model…</option>
            {addable.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
                {m.enabled ? "" : " (no provider)"}
              </option>
            ))}
          </select>
        </>
      )}
    </div>
  );
}

function RuleEditor({
  index,
  rule,
  edit,
  last,
  onChange,
  onMove,
  onRemove,
}: {
  index: number;
  rule: RoutingRule;
  edit: boolean;
  last: boolean;
  onChange: (p: Partial<RoutingRule>) => void;
  onMove: (d: number) => void;
  onRemove: () => void;
}) {
  const id = useId();
  // Keywords are edited as text and split on change, so typing ", " works.
  const [kw, setKw] = useState((rule.keywords ?? []).join(", "));
  useEffect(() => setKw((rule.keywords ?? []).join(", ")), [rule.keywords]);
  return (
    <fieldset className="rule">
      <legend className="sr-only">Rule {index + 1}</legend>
      <div className="row-edit">
        <label>
          <span className="small muted">Name</span>
          <input id={`${id}-name`} value={rule.name} readOnly={!edit} onChange={(e) => onChange({ name: e.target.value })} />
        </label>
        <label className="grow">
          <span className="small muted">Any of these keywords (comma-separated)</span>
          <input
            id={`${id}-kw`}
            value={kw}
            readOnly={!edit}
            placeholder="e.g. refactor, stack trace"
            onChange={(e) => {
              setKw(e.target.value);
              onChange({ keywords: splitList(e.target.value) });
            }}
          />
        </label>
        <label>
          <span className="small muted">Use tier</span>
          <TierSelect id={`${id}-tier`} label={`Rule ${index + 1} tier`} value={rule.tier} disabled={!edit} onChange={(v) => onChange({ tier: (v || "standard") as Tier })} />
        </label>
      </div>
      <div className="row-edit">
        <label>
          <span className="small muted">Prompt ≥ tokens</span>
          <NumberInput id={`${id}-tok`} label={`Rule ${index + 1} minimum prompt tokens`} value={rule.min_prompt_tokens} readOnly={!edit} min={0} onChange={(n) => onChange({ min_prompt_tokens: n })} />
        </label>
        <label>
          <span className="small muted">Code blocks ≥</span>
          <NumberInput id={`${id}-code`} label={`Rule ${index + 1} minimum code blocks`} value={rule.min_code_blocks} readOnly={!edit} min={0} onChange={(n) => onChange({ min_code_blocks: n })} />
        </label>
        <Toggle checked={!!rule.tools} disabled={!edit} onChange={(v) => onChange({ tools: v })}>
          offers tools
        </Toggle>
        <Toggle checked={!!rule.images} disabled={!edit} onChange={(v) => onChange({ images: v })}>
          has images
        </Toggle>
        {edit && (
          <span className="model-actions">
            <button type="button" className="icon-btn" aria-label={`Move rule ${index + 1} up`} disabled={index === 0} onClick={() => onMove(-1)}>
              ↑
            </button>
            <button type="button" className="icon-btn" aria-label={`Move rule ${index + 1} down`} disabled={last} onClick={() => onMove(1)}>
              ↓
            </button>
            <button type="button" className="icon-btn" aria-label={`Remove rule ${index + 1}`} onClick={onRemove}>
              ×
            </button>
          </span>
        )}
      </div>
    </fieldset>
  );
}

function MixTable({ title, rows, tiers }: { title: string; rows: ReturnType<typeof mixRows>; tiers?: boolean }) {
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
                {tiers && <span className="swatch" style={{ background: TIER_COLOR[r.key] ?? PALETTE[4] }} aria-hidden="true" />} {tiers ? (TIER_LABEL[r.key as Tier] ?? r.key) : <code>{r.key}</code>}
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

function MixBar({ rows, which, label }: { rows: ReturnType<typeof mixRows>; which: "beforeShare" | "afterShare"; label: string }) {
  return (
    <div className="mixbar-row">
      <span className="small muted">{label}</span>
      <div className="mixbar" role="img" aria-label={`${label}: ${rows.map((r) => `${r.key} ${formatPercent(r[which])}`).join(", ")}`}>
        {rows.map((r) => (r[which] > 0 ? <div key={r.key} style={{ width: `${r[which] * 100}%`, background: TIER_COLOR[r.key] ?? PALETTE[4] }} title={`${r.key}: ${formatPercent(r[which])}`} /> : null))}
      </div>
    </div>
  );
}

function WhatIf({
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
              </p>
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
