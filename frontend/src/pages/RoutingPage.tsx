import { useEffect, useId, useMemo, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import { ErrorState, PageHeader, Skeleton } from "../ui/page";
import { Badge } from "../ui/display";
import { FormError } from "../ui/dialog";
import { NO_ERRORS, placeProblems, placedCount, problemsOfError, type PolicyErrors } from "../routing/problems";
import { FieldProblems } from "../routing/fields";
import { useToast } from "../ui/toast";
import { TIERS, type RoutingPolicy, type RoutingRule, type SimulateResult, type Tier } from "../api/types";
import { addLadderStep, MAX_RETAIN_PROMPTS_DAYS, move, policyProblems, toDraft, toWire, unknownFields } from "../routing/policy";
import { NumberInput, ProbabilityInput, TierSelect, Card, Toggle } from "../routing/fields";
import { FeedbackCard } from "../routing/FeedbackCard";
import { TierEditor, RuleEditor } from "../routing/editors";
import { WhatIf } from "../routing/WhatIf";

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
  // Problems of the form's policy, placed at their rule, tier or field (routing/problems.ts).
  const [placed, setPlaced] = useState<PolicyErrors>(NO_ERRORS);
  const [sim, setSim] = useState<SimulateResult | null>(null);
  const [simDays, setSimDays] = useState(30);
  const [forceAuto, setForceAuto] = useState(false);
  const edit = can("routing.edit");

  useEffect(() => {
    if (policy.data) setDraft(toDraft(policy.data));
  }, [policy.data]);

  // An edit makes the reported problems stale (indices move as rules do): drop them.
  useEffect(() => {
    setPlaced(NO_ERRORS);
    setErr(null);
  }, [draft]);

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
        showProblems(problems);
        return null;
      }
      setPlaced(NO_ERRORS);
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
  /** Shows problems at their rule, tier or field; only what has no place goes to the top. */
  const showProblems = (problems: string[]) => {
    const p = placeProblems(problems);
    setPlaced(p);
    const n = placedCount(p);
    const top = [...p.general];
    if (n > 0) top.unshift(n === 1 ? "One problem is marked below: fix it and try again." : `${n} problems are marked below: fix them and try again.`);
    setErr(top.join("\n"));
    // Bring the first marked problem into view (after React has rendered it).
    setTimeout(() => document.querySelector(".field-error, .rule-error")?.scrollIntoView({ block: "center" }), 0);
  };
  /** An error from saving or simulating: a validation error of the form's policy goes to its fields. */
  const fail = (x: unknown) => {
    const problems = json === null ? problemsOfError(x) : null;
    if (problems && problems.length) showProblems(problems);
    else setErr(errorMessage(x));
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
      fail(x);
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
      fail(x);
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
            How Tollgate picks a model: requests for <code>model: "auto"</code> go to a tier by rules and the classifier's probability for the last turn; each tier tries its models in order. Caps and the budget ladder
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
                      setPlaced(NO_ERRORS);
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
                    <TierEditor key={t} tier={t} list={draft.tiers[t] ?? []} catalog={catalog} byId={byId} edit={edit} onChange={(l) => setTierList(t, l)} problems={placed.tiers[t]} />
                  ))}
                </div>
                <FieldProblems list={placed.fields["tiers"]} />
              </Card>

              <Card title="Automatic selection" hint='For model "auto": a learned classifier gives each turn the probability that it needs more than an economy model; at or above the standard threshold it is complex, below it simple. Every response says why in x-tollgate-route-reason.'>
                <div className="form-grid">
                  <label>
                    <span className="small muted">Simple prompts use</span>
                    <TierSelect id={`${id}-simple`} label="Simple prompts use" value={draft.simple_tier} disabled={!edit} emptyLabel="Economy (default)" onChange={(v) => set({ simple_tier: v })} />
                    <FieldProblems list={placed.fields["simple_tier"]} />
                  </label>
                  <label>
                    <span className="small muted">Complex prompts use</span>
                    <TierSelect id={`${id}-complex`} label="Complex prompts use" value={draft.complex_tier} disabled={!edit} emptyLabel="Standard (default)" onChange={(v) => set({ complex_tier: v })} />
                    <FieldProblems list={placed.fields["complex_tier"]} />
                  </label>
                  <label>
                    <span className="small muted">Standard threshold (probability; empty = the classifier's)</span>
                    <ProbabilityInput id={`${id}-std`} label="Standard threshold" value={draft.standard_threshold} readOnly={!edit} onChange={(n) => set({ standard_threshold: n })} />
                    <FieldProblems list={placed.fields["standard_threshold"]} />
                  </label>
                  <label>
                    <span className="small muted">Premium threshold (with premium for "auto")</span>
                    <ProbabilityInput id={`${id}-prem`} label="Premium threshold" value={draft.premium_threshold} readOnly={!edit} onChange={(n) => set({ premium_threshold: n })} />
                    <FieldProblems list={placed.fields["premium_threshold"]} />
                  </label>
                  <label>
                    <span className="small muted">Highest tier for any request</span>
                    <TierSelect id={`${id}-max`} label="Highest tier for any request" value={draft.max_tier} disabled={!edit} emptyLabel="Premium (default)" onChange={(v) => set({ max_tier: v })} />
                    <FieldProblems list={placed.fields["max_tier"]} />
                  </label>
                  <label>
                    <span className="small muted">Fallbacks per request (default 2, −1 = none)</span>
                    <NumberInput id={`${id}-fb`} label="Fallbacks per request" value={draft.max_fallbacks} readOnly={!edit} min={-1} onChange={(n) => set({ max_fallbacks: n })} />
                    <FieldProblems list={placed.fields["max_fallbacks"]} />
                  </label>
                </div>
                <Toggle checked={!!draft.auto_premium} disabled={!edit} onChange={(v) => set({ auto_premium: v })}>
                  Let "auto" use premium models for turns above the premium threshold (cheapest premium model first)
                </Toggle>
                <Toggle checked={!!draft.session_affinity} disabled={!edit} onChange={(v) => set({ session_affinity: v })}>
                  Session affinity: keep a conversation on the model it started with (warm prompt cache)
                </Toggle>
                <Toggle checked={!!draft.anthropic_cache_control} disabled={!edit} onChange={(v) => set({ anthropic_cache_control: v })}>
                  Anthropic prompt caching: mark the system prompt and history for Anthropic's cache (reads at 0.1× input, writes at 1.25×)
                </Toggle>
                <Toggle checked={!!draft.fallback_explicit} disabled={!edit} onChange={(v) => set({ fallback_explicit: v })}>
                  Let requests naming a model fall back to other models of its tier
                </Toggle>
                <Toggle checked={!!draft.trace_content} disabled={!edit} onChange={(v) => set({ trace_content: v })}>
                  Put prompts and completions on OpenTelemetry traces (off: traces carry models, tokens and cost only)
                </Toggle>
                <Toggle
                  checked={!!draft.cache?.enabled}
                  disabled={!edit}
                  onChange={(v) => set({ cache: { ...(draft.cache ?? {}), enabled: v } })}
                >
                  Response cache: answer exact repeats of deterministic requests (temperature 0) from the cache, never upstream
                </Toggle>
                <label>
                  <span className="small muted">
                    Keep prompts for the what-if, days (0 = off, at most {MAX_RETAIN_PROMPTS_DAYS}): each request's last user turn is kept sealed so the
                    what-if can replay keyword-rule changes exactly. Kept prompts are never shown; setting 0 deletes them.
                  </span>
                  <NumberInput
                    id={`${id}-keep`}
                    label="Keep prompts, days"
                    value={draft.retain_prompts_days}
                    readOnly={!edit}
                    min={0}
                    onChange={(n) => set({ retain_prompts_days: n })}
                  />
                </label>
                {draft.cache?.enabled && (
                  <div className="form-grid">
                    <label>
                      <span className="small muted">Cache lifetime, seconds (default 3600)</span>
                      <NumberInput id={`${id}-cttl`} label="Cache lifetime" value={draft.cache.ttl_seconds} readOnly={!edit} min={0} onChange={(n) => set({ cache: { ...draft.cache!, ttl_seconds: n } })} />
                    <FieldProblems list={placed.fields["cache.ttl_seconds"]} />
                    </label>
                    <label>
                      <span className="small muted">Hit price, % of the avoided cost (0 = free)</span>
                      <NumberInput id={`${id}-cprice`} label="Hit price percent" value={draft.cache.hit_price_percent} readOnly={!edit} min={0} onChange={(n) => set({ cache: { ...draft.cache!, hit_price_percent: n } })} />
                    <FieldProblems list={placed.fields["cache.hit_price_percent"]} />
                    </label>
                  </div>
                )}
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
                {rules.length === 0 && <p className="muted">No rules: the classifier's probability alone picks the tier. Keywords match whole words.</p>}
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
                    problems={placed.rules[i]}
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
                <FieldProblems list={placed.fields["premium_allowlist"]} />
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
                  <div className="row-edit" key={i} data-ladder-step={i}>
                    {placed.ladder[i] && (
                      <div className="rule-error" role="alert">
                        {placed.ladder[i].map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join(" ")}
                      </div>
                    )}
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
                    <FieldProblems list={placed.fields["pace_tolerance_percent"]} />
                  </label>
                </div>
                <p className="muted small">Pacing: when spend runs this much faster than the period elapses, "auto" drops one tier. By default a request that names a model gets that model or a clear refusal.</p>
                <Toggle checked={!!draft.ladder_explicit} disabled={!edit} onChange={(v) => set({ ladder_explicit: v })}>
                  Downgrade requests that name a model too (ladder, pacing, and a cheaper model instead of a hard-budget refusal)
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
        <FeedbackCard tenant={tenant} />
      </div>
    </>
  );
}

