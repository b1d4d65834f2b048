import { useEffect, useId, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, MAX_PAGE, qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import { formatUsd, toNano, usdToNano } from "../format/money";
import { formatPercent } from "../format/numbers";
import { EmptyState, ErrorState, PageHeader, Skeleton } from "../ui/page";
import { Badge, Meter, When } from "../ui/display";
import { CopyButton, Field } from "../ui/controls";
import { PagedTable } from "../ui/PagedTable";
import { ConfirmDialog, Dialog, FormError } from "../ui/dialog";
import { useToast } from "../ui/toast";
import { ApiError } from "../api/errors";
import type { Budget, BudgetPreview, WebhookTestResult } from "../api/types";
import { alertText, deliveryText } from "../billing/alerts";
import { formatInt } from "../format/numbers";
import { replacesBudget } from "../billing/periods";

export default function BudgetsPage() {
  const { tenant, can } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const budgets = useQuery({ queryKey: qk.budgets(tenant), queryFn: () => api.budgets(tenant) });
  const keys = useQuery({ queryKey: qk.keyNames(tenant), queryFn: () => api.keys(tenant, { limit: 100 }), enabled: can("keys.view"), staleTime: 5 * 60_000 });
  const members = useQuery({ queryKey: qk.membersLookup(tenant), queryFn: () => api.members(tenant, { limit: MAX_PAGE }), enabled: can("members.view") });
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Budget | null>(null);
  const [deleting, setDeleting] = useState<Budget | null>(null);

  const scopeName = (b: Pick<Budget, "scope" | "scope_id">) => {
    if (b.scope === "tenant") return "Whole tenant";
    if (b.scope === "key") return `Key: ${listOf(keys.data).find((k) => k.id === b.scope_id)?.name ?? b.scope_id}`;
    const m = listOf(members.data).find((x) => x.user_id === b.scope_id);
    return `Member: ${m ? m.name || m.email : b.scope_id}`;
  };
  const rows = listOf(budgets.data);

  return (
    <>
      <PageHeader
        title="Budgets & alerts"
        description="Hard budgets refuse requests that would exceed them, even under concurrency; soft ones only alert. Routing can step down to cheaper models before the limit."
        actions={
          can("budgets.edit") && (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              Set budget
            </button>
          )
        }
      />
      <PagedTable
        query={budgets}
        caption="Budgets"
        rowKey={(b) => b.id}
        empty={
          <EmptyState
            title="No budgets yet"
            body="Without a budget, spend is unlimited. Add a monthly tenant budget to start."
            action={
              can("budgets.edit") && (
                <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
                  Set budget
                </button>
              )
            }
          />
        }
        columns={[
          {
            header: "Applies to",
            cell: (b) => (
              <>
                <strong>{scopeName(b)}</strong>
                <div className="muted small">per {b.period}</div>
              </>
            ),
          },
          {
            header: "Spent / limit",
            tdProps: { style: { minWidth: 180 }, "data-testid": "budget-spend" },
            cell: (b) => {
              const limit = toNano(b.limit_nano);
              const ratio = limit > 0n ? Number((toNano(b.spent_nano) * 10000n) / limit) / 10000 : 0;
              return (
                <>
                  <div className="num">
                    {formatUsd(b.spent_nano)} / {formatUsd(b.limit_nano)} <span className="muted">({formatPercent(ratio)})</span>
                  </div>
                  <Meter ratio={ratio} label={`${formatPercent(ratio)} of ${formatUsd(b.limit_nano)} spent`} />
                  <div className="muted small">
                    {toNano(b.reserved_nano) > 0n && <>+ {formatUsd(b.reserved_nano)} held by requests in flight · </>}
                    {b.period_key && <>{b.period_key} · </>}
                    {b.spent_source === "ledger" ? <span title="The live meter could not answer; spend read from the ledger">from the ledger</span> : "live"}
                  </div>
                </>
              );
            },
          },
          { header: "Type", cell: (b) => (b.hard ? <Badge tone="red">Hard cap</Badge> : <Badge tone="amber">Soft</Badge>) },
          { header: "Alerts at", className: "hide-sm", cell: (b) => (b.alert_at ?? []).map((a) => `${a}%`).join(", ") || "—" },
          { header: "Downgrade at", className: "hide-sm", cell: (b) => (b.downgrade_at ? `${b.downgrade_at}%` : "—") },
          can("budgets.edit") && {
            header: <span className="sr-only">Actions</span>,
            actions: true,
            td: "r nowrap",
            cell: (b) => (
              <>
                <button type="button" className="btn btn-sm" onClick={() => setEditing(b)} aria-label={`Edit budget ${scopeName(b)}`}>
                  Edit
                </button>{" "}
                <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setDeleting(b)} aria-label={`Delete budget ${scopeName(b)}`}>
                  Delete
                </button>
              </>
            ),
          },
        ]}
      />
      <div className={can("webhook.view") ? "grid-2" : undefined}>
        {can("webhook.view") && <WebhookCard />}
        <AlertHistory scopeName={scopeName} />
      </div>
      <BudgetDialog
        open={creating || !!editing}
        initial={editing}
        existing={rows}
        onClose={() => {
          setCreating(false);
          setEditing(null);
        }}
        keys={listOf(keys.data)}
        members={listOf(members.data)}
      />
      <ConfirmDialog
        open={!!deleting}
        title="Delete this budget?"
        body={<p>{deleting && `${scopeName(deleting)} — ${formatUsd(deleting.limit_nano)} per ${deleting.period}. Spend under it becomes unlimited unless another budget applies.`}</p>}
        confirmLabel="Delete budget"
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          await api.deleteBudget(tenant, deleting!.id);
          toast.success("Budget deleted");
          await qc.invalidateQueries({ queryKey: qk.budgets(tenant) });
        }}
      />
    </>
  );
}

function BudgetDialog({
  open,
  initial,
  existing,
  onClose,
  keys,
  members,
}: {
  open: boolean;
  initial: Budget | null;
  existing: Budget[];
  onClose: () => void;
  keys: { id: string; name: string }[];
  members: { user_id: string; email: string }[];
}) {
  const { tenant } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [scope, setScope] = useState<Budget["scope"]>("tenant");
  const [scopeId, setScopeId] = useState("");
  const [period, setPeriod] = useState<Budget["period"]>("month");
  const [limit, setLimit] = useState("");
  // New budgets start soft, as the CLI's do: a hard cap is a choice, never a default.
  const [hard, setHard] = useState(false);
  // warning is the preview of a hard limit that would refuse requests; saving
  // again with the same values confirms it.
  const [warning, setWarning] = useState<{ preview: BudgetPreview; body: string } | null>(null);
  const [alertAt, setAlertAt] = useState("50, 80, 100");
  const [downgrade, setDowngrade] = useState("");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    if (open) {
      setScope(initial?.scope ?? "tenant");
      setScopeId(initial?.scope_id ?? "");
      setPeriod(initial?.period ?? "month");
      setLimit(initial ? initial.limit_usd.replace(/\.?0+$/, "") : "");
      setHard(initial?.hard ?? false);
      setWarning(null);
      setAlertAt(initial ? (initial.alert_at ?? []).join(", ") : "50, 80, 100");
      setDowngrade(initial?.downgrade_at ? String(initial.downgrade_at) : "");
      setErr(null);
    }
  }, [open, initial]);
  useEffect(() => setWarning(null), [scope, scopeId, period, limit, hard]);
  const replacing = replacesBudget(existing, { scope, scope_id: scope === "tenant" ? null : scopeId || null, period });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems: string[] = [];
    const nano = usdToNano(limit);
    if (nano === null || nano <= 0n) problems.push("Limit must be a dollar amount above 0, like 250 or 12.50.");
    if (scope !== "tenant" && !scopeId) problems.push(`Choose the ${scope}.`);
    const thresholds = alertAt
      .split(/[,\s]+/)
      .filter(Boolean)
      .map(Number);
    if (thresholds.some((t) => !Number.isInteger(t) || t <= 0 || t > 1000)) problems.push("Alert thresholds are whole percentages, e.g. 50, 80, 100.");
    const dg = downgrade.trim() ? Number(downgrade) : null;
    if (dg !== null && (!Number.isInteger(dg) || dg <= 0 || dg > 100)) problems.push("Downgrade point is a percentage from 1 to 100.");
    if (problems.length) {
      setErr(problems.join(" "));
      return;
    }
    setBusy(true);
    setErr(null);
    const input = {
      scope,
      scope_id: scope === "tenant" ? null : scopeId,
      period,
      limit_usd: limit.trim(),
      hard,
      alert_at: [...new Set(thresholds)].sort((a, b) => a - b),
      downgrade_at: dg,
    };
    try {
      const body = JSON.stringify(input);
      if (hard && warning?.body !== body) {
        // Ask before a hard limit the period's spend already reaches.
        const preview = await api.previewBudget(tenant, input);
        if (preview.warn) {
          setWarning({ preview, body });
          return;
        }
      }
      const saved = await api.createBudget(tenant, input);
      toast.success(replacing ? "Budget replaced" : "Budget added", `${formatUsd(saved?.limit_nano ?? nano!)} per ${period}`);
      await qc.invalidateQueries({ queryKey: qk.budgets(tenant) });
      onClose();
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onClose={onClose} title={initial ? "Edit budget" : "Set budget"} description="One budget per scope and period: saving one that exists replaces it, keeping its spend so far." wide>
      <form onSubmit={submit} noValidate>
        <div className="row-2">
          <Field id={`${id}-scope`} label="Applies to">
            <select id={`${id}-scope`} value={scope} disabled={!!initial} onChange={(e) => setScope(e.target.value as Budget["scope"])}>
              <option value="tenant">Whole tenant</option>
              <option value="key">One API key</option>
              <option value="member">One member</option>
            </select>
          </Field>
          {scope !== "tenant" && (
            <Field id={`${id}-sid`} label={scope === "key" ? "API key" : "Member"}>
              <select id={`${id}-sid`} value={scopeId} disabled={!!initial} onChange={(e) => setScopeId(e.target.value)}>
                <option value="">Choose…</option>
                {scope === "key"
                  ? keys.map((k) => (
                      <option key={k.id} value={k.id}>
                        {k.name}
                      </option>
                    ))
                  : members.map((m) => (
                      <option key={m.user_id} value={m.user_id}>
                        {m.email}
                      </option>
                    ))}
              </select>
            </Field>
          )}
        </div>
        <div className="row-2">
          <Field id={`${id}-limit`} label="Limit (USD)">
            <input id={`${id}-limit`} inputMode="decimal" value={limit} onChange={(e) => setLimit(e.target.value)} placeholder="250.00" autoFocus />
          </Field>
          <Field id={`${id}-period`} label="Period">
            <select id={`${id}-period`} value={period} disabled={!!initial} onChange={(e) => setPeriod(e.target.value as Budget["period"])}>
              <option value="month">Per month</option>
              <option value="day">Per day</option>
            </select>
          </Field>
        </div>
        <fieldset className="field">
          <legend>When the limit is reached</legend>
          <label className="check">
            <input type="radio" name={`${id}-hard`} checked={hard} onChange={() => setHard(true)} /> Hard: refuse requests (HTTP 429 budget_exceeded)
          </label>
          <label className="check">
            <input type="radio" name={`${id}-hard`} checked={!hard} onChange={() => setHard(false)} /> Soft: allow, but alert
          </label>
        </fieldset>
        <div className="row-2">
          <Field id={`${id}-alerts`} label="Alert at (% of limit)" hint="Comma-separated">
            <input id={`${id}-alerts`} value={alertAt} onChange={(e) => setAlertAt(e.target.value)} />
          </Field>
          <Field id={`${id}-dg`} label="Downgrade at (%)" hint="Route to a cheaper tier from this point; empty = never">
            <input id={`${id}-dg`} inputMode="numeric" value={downgrade} onChange={(e) => setDowngrade(e.target.value)} placeholder="e.g. 80" />
          </Field>
        </div>
        {replacing && !initial && <p className="muted small">A {period}ly budget for this scope exists: saving replaces it.</p>}
        {warning && <HardLimitWarning preview={warning.preview} />}
        {err && <FormError message={err} />}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={warning ? "btn btn-danger" : "btn btn-primary"} disabled={busy}>
            {busy ? "Saving…" : warning ? "Save hard limit anyway" : replacing ? "Replace budget" : "Save budget"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** What a hard limit means for this period's spend, shown before it is saved. */
function HardLimitWarning({ preview: p }: { preview: BudgetPreview }) {
  const refused = p.refused_requests;
  return (
    <div className="form-error" role="alert" data-testid="hard-budget-warning">
      <strong>This hard limit is {refused > 0 ? "below" : "close to"} what was already spent.</strong>
      <p>
        This {p.period_key.length > 7 ? "day" : "month"} ({p.period_key}) has spent {formatUsd(p.spent_nano)}, {formatPercent(p.percent / 100)} of the{" "}
        {formatUsd(p.limit_nano)} limit.{" "}
        {refused > 0 ? (
          <>
            Under it, <strong data-testid="hard-budget-refused">{formatInt(refused)}</strong> of this period's {formatInt(p.requests)} request{p.requests === 1 ? "" : "s"} (
            {formatUsd(p.refused_nano)}) would have been refused.
          </>
        ) : (
          <>None of this period's {formatInt(p.requests)} requests would have been refused, but little room is left.</>
        )}{" "}
        Once saved, requests that would pass the limit get HTTP 429 until the period ends. Choose Soft to only alert.
      </p>
    </div>
  );
}

function WebhookCard() {
  const { tenant, can } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const id = useId();
  const hook = useQuery({ queryKey: qk.webhook(tenant), queryFn: () => api.webhook(tenant) });
  const [url, setUrl] = useState("");
  const [busy, setBusy] = useState<"" | "save" | "test">("");
  const [err, setErr] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [result, setResult] = useState<WebhookTestResult | null>(null);
  useEffect(() => {
    if (hook.data) setUrl(hook.data.url ?? "");
  }, [hook.data]);
  const edit = can("webhook.edit");
  const configured = !!hook.data?.configured;
  const saved = hook.data?.url ?? "";

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!/^https?:\/\/\S+$/.test(url.trim())) {
      setErr("Enter a full http:// or https:// URL.");
      return;
    }
    setBusy("save");
    setErr(null);
    setResult(null);
    try {
      const out = await api.setWebhook(tenant, url.trim());
      setSecret(out.secret ?? null);
      qc.setQueryData(qk.webhook(tenant), { ...out, secret: undefined });
      toast.success(configured ? "Webhook updated, new signing secret" : "Webhook saved");
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy("");
    }
  };
  const test = async () => {
    setBusy("test");
    setErr(null);
    setResult(null);
    try {
      const r = await api.testWebhook(tenant);
      setResult(r);
      if (r.ok) toast.success("Test delivered", `HTTP ${r.status_code} in ${formatInt(r.duration_ms)} ms`);
    } catch (x) {
      setErr(x instanceof ApiError && x.status === 409 ? "No webhook is set: save a URL first." : `Test failed: ${errorMessage(x)}`);
    } finally {
      setBusy("");
    }
  };

  return (
    <section className="card" aria-labelledby={`${id}-h`}>
      <div className="card-head">
        <h2 id={`${id}-h`}>Alert webhook</h2>
        {hook.data && (configured ? <Badge tone="green">Configured</Badge> : <Badge>Not set</Badge>)}
      </div>
      <p className="muted small">
        Tollgate POSTs a signed JSON alert here when a budget threshold is crossed
        {hook.data?.signature_header && (
          <>
            {" "}
            (verify <code>{hook.data.signature_header}</code>: HMAC-SHA256 of <code>{"<t>.<body>"}</code> with the signing secret)
          </>
        )}
        .
      </p>
      {hook.isPending ? (
        <Skeleton lines={2} />
      ) : hook.isError ? (
        <ErrorState error={hook.error} onRetry={() => hook.refetch()} />
      ) : (
        <form onSubmit={save} noValidate>
          <Field id={`${id}-url`} label="Webhook URL" hint={configured && hook.data?.created_at ? <>Set <When iso={hook.data.created_at} relative />. Saving again issues a new signing secret.</> : undefined}>
            <input id={`${id}-url`} type="url" value={url} onChange={(e) => setUrl(e.target.value)} readOnly={!edit} placeholder="https://hooks.example.com/tollgate" />
          </Field>
          {secret && (
            <div className="secret-box" data-testid="webhook-secret">
              <strong>Signing secret: shown once</strong>
              <div className="secret">
                <code>{secret}</code>
                <CopyButton text={secret} label="Copy secret" />
              </div>
              <p className="muted small">Store it now; Tollgate keeps it encrypted and can't show it again.</p>
              <button type="button" className="btn btn-sm" onClick={() => setSecret(null)}>
                I have stored it
              </button>
            </div>
          )}
          {result && (
            <div className={result.ok ? "test-ok" : "form-error"} role="status" data-testid="webhook-test-result">
              {result.ok ? "Delivered" : "Not delivered"}: {result.status_code ? `HTTP ${result.status_code}` : "no answer"} in {formatInt(result.duration_ms)} ms
              {result.error && <> · {result.error}</>}
              <div className="muted small">
                delivery <code>{result.delivery_id}</code>
              </div>
            </div>
          )}
          {err && <FormError message={err} />}
          <div className="dialog-actions left">
            {edit && (
              <button type="submit" className="btn btn-primary" disabled={busy !== "" || !url.trim() || (url.trim() === saved && configured)}>
                {busy === "save" ? "Saving…" : configured ? "Update" : "Save"}
              </button>
            )}
            {edit && configured && url.trim() === saved && (
              <button type="button" className="btn" disabled={busy !== ""} onClick={(e) => save(e as unknown as FormEvent)}>
                New signing secret
              </button>
            )}
            {can("webhook.test") && (
              <button type="button" className="btn" onClick={test} disabled={busy !== "" || !configured} title={!configured ? "Save a URL first" : undefined}>
                {busy === "test" ? "Sending…" : "Send test"}
              </button>
            )}
          </div>
        </form>
      )}
    </section>
  );
}

function AlertHistory({ scopeName }: { scopeName: (b: Pick<Budget, "scope" | "scope_id">) => string }) {
  const { tenant, can } = useTenant();
  const alerts = useQuery({ queryKey: qk.alerts(tenant), queryFn: () => api.alerts(tenant) });
  const hook = useQuery({ queryKey: qk.webhook(tenant), queryFn: () => api.webhook(tenant), enabled: can("webhook.view") });
  const webhookConfigured = hook.data ? !!hook.data.configured : undefined;
  const rows = listOf(alerts.data);
  return (
    <section className="card" aria-labelledby="alert-history">
      <h2 id="alert-history">Alert history</h2>
      {alerts.isPending ? (
        <Skeleton lines={4} />
      ) : alerts.isError ? (
        <ErrorState error={alerts.error} onRetry={() => alerts.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="No alerts yet" body="Alerts appear here (and live, as a notification) when spend crosses a threshold." />
      ) : (
        <ul className="feed" aria-live="polite" data-testid="alert-history">
          {rows.slice(0, 30).map((a) => (
            <li key={a.id}>
              <div>
                {a.threshold !== undefined && <Badge tone={a.threshold >= 100 ? "red" : "amber"}>{a.threshold}%</Badge>} {alertText(a, scopeName)}
              </div>
              <div className="muted small">
                <When iso={a.created_at} />
                {deliveryText(a, webhookConfigured) && <> · {deliveryText(a, webhookConfigured)}</>}
                {a.last_error && <div className="muted small">{a.last_error}</div>}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
