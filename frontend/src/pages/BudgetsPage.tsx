import { useEffect, useId, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import { formatUsd, toNano, usdToNano } from "../format/money";
import { formatPercent } from "../format/numbers";
import { Badge, EmptyState, ErrorState, Field, Meter, PageHeader, Skeleton, TableSkeleton, When } from "../ui/bits";
import { ConfirmDialog, Dialog, FormError } from "../ui/dialog";
import { useToast } from "../ui/toast";
import type { Budget } from "../api/types";

export default function BudgetsPage() {
  const { tenant, can } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const budgets = useQuery({ queryKey: qk.budgets(tenant), queryFn: () => api.budgets(tenant) });
  const keys = useQuery({ queryKey: qk.keyNames(tenant), queryFn: () => api.keys(tenant, { limit: 100 }), enabled: can("keys.view"), staleTime: 5 * 60_000 });
  const members = useQuery({ queryKey: qk.members(tenant), queryFn: () => api.members(tenant), enabled: can("members.view") });
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Budget | null>(null);

  const scopeName = (b: Budget) => {
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
              Add budget
            </button>
          )
        }
      />
      {budgets.isError ? (
        <ErrorState error={budgets.error} onRetry={() => budgets.refetch()} />
      ) : !budgets.isPending && rows.length === 0 ? (
        <EmptyState
          title="No budgets yet"
          body="Without a budget, spend is unlimited. Add a monthly tenant budget to start."
          action={
            can("budgets.edit") && (
              <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
                Add budget
              </button>
            )
          }
        />
      ) : (
        <section className="card flush">
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Applies to</th>
                  <th scope="col">Spent / limit</th>
                  <th scope="col">Type</th>
                  <th scope="col" className="hide-sm">
                    Alerts at
                  </th>
                  <th scope="col" className="hide-sm">
                    Downgrade at
                  </th>
                  {can("budgets.edit") && (
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              {budgets.isPending ? (
                <TableSkeleton cols={6} />
              ) : (
                <tbody>
                  {rows.map((b) => {
                    const limit = toNano(b.limit_nano);
                    const ratio = limit > 0n ? Number((toNano(b.spent_nano) * 10000n) / limit) / 10000 : 0;
                    return (
                      <tr key={b.id}>
                        <td>
                          <strong>{scopeName(b)}</strong>
                          <div className="muted small">per {b.period}</div>
                        </td>
                        <td style={{ minWidth: 180 }}>
                          <div className="num">
                            {formatUsd(b.spent_nano)} / {formatUsd(b.limit_nano)} <span className="muted">({formatPercent(ratio)})</span>
                          </div>
                          <Meter ratio={ratio} label={`${formatPercent(ratio)} of ${formatUsd(b.limit_nano)} spent`} />
                        </td>
                        <td>{b.hard ? <Badge tone="red">Hard cap</Badge> : <Badge tone="amber">Soft</Badge>}</td>
                        <td className="hide-sm">{(b.alert_at ?? []).map((a) => `${a}%`).join(", ") || "—"}</td>
                        <td className="hide-sm">{b.downgrade_at ? `${b.downgrade_at}%` : "—"}</td>
                        {can("budgets.edit") && (
                          <td className="r">
                            <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setDeleting(b)} aria-label={`Delete budget ${scopeName(b)}`}>
                              Delete
                            </button>
                          </td>
                        )}
                      </tr>
                    );
                  })}
                </tbody>
              )}
            </table>
          </div>
        </section>
      )}
      <div className="grid-2">
        <WebhookCard />
        <AlertHistory />
      </div>
      <BudgetDialog open={creating} onClose={() => setCreating(false)} keys={listOf(keys.data)} members={listOf(members.data)} />
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

function BudgetDialog({ open, onClose, keys, members }: { open: boolean; onClose: () => void; keys: { id: string; name: string }[]; members: { user_id: string; email: string }[] }) {
  const { tenant } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [scope, setScope] = useState<Budget["scope"]>("tenant");
  const [scopeId, setScopeId] = useState("");
  const [period, setPeriod] = useState<Budget["period"]>("month");
  const [limit, setLimit] = useState("");
  const [hard, setHard] = useState(true);
  const [alertAt, setAlertAt] = useState("50, 80, 100");
  const [downgrade, setDowngrade] = useState("");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    if (open) {
      setScope("tenant");
      setScopeId("");
      setPeriod("month");
      setLimit("");
      setHard(true);
      setAlertAt("50, 80, 100");
      setDowngrade("");
      setErr(null);
    }
  }, [open]);

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
    try {
      await api.createBudget(tenant, {
        scope,
        scope_id: scope === "tenant" ? null : scopeId,
        period,
        limit_usd: limit.trim(),
        hard,
        alert_at: [...new Set(thresholds)].sort((a, b) => a - b),
        downgrade_at: dg,
      });
      toast.success("Budget added", `${formatUsd(nano!)} per ${period}`);
      await qc.invalidateQueries({ queryKey: qk.budgets(tenant) });
      onClose();
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onClose={onClose} title="Add budget" wide>
      <form onSubmit={submit} noValidate>
        <div className="row-2">
          <Field id={`${id}-scope`} label="Applies to">
            <select id={`${id}-scope`} value={scope} onChange={(e) => setScope(e.target.value as Budget["scope"])}>
              <option value="tenant">Whole tenant</option>
              <option value="key">One API key</option>
              <option value="member">One member</option>
            </select>
          </Field>
          {scope !== "tenant" && (
            <Field id={`${id}-sid`} label={scope === "key" ? "API key" : "Member"}>
              <select id={`${id}-sid`} value={scopeId} onChange={(e) => setScopeId(e.target.value)}>
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
            <select id={`${id}-period`} value={period} onChange={(e) => setPeriod(e.target.value as Budget["period"])}>
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
        {err && <FormError message={err} />}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Saving…" : "Add budget"}
          </button>
        </div>
      </form>
    </Dialog>
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
  useEffect(() => {
    if (hook.data) setUrl(hook.data.url ?? "");
  }, [hook.data]);
  const edit = can("webhook.edit");
  const saved = hook.data?.url ?? "";

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (url.trim() && !/^https?:\/\/\S+$/.test(url.trim())) {
      setErr("Enter a full http(s):// URL, or leave empty to turn the webhook off.");
      return;
    }
    setBusy("save");
    setErr(null);
    try {
      await api.setWebhook(tenant, url.trim());
      toast.success(url.trim() ? "Webhook saved" : "Webhook removed");
      await qc.invalidateQueries({ queryKey: qk.webhook(tenant) });
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy("");
    }
  };
  const test = async () => {
    setBusy("test");
    setErr(null);
    try {
      await api.testWebhook(tenant);
      toast.success("Test alert sent", saved);
      void qc.invalidateQueries({ queryKey: qk.alerts(tenant) });
    } catch (x) {
      setErr(`Test failed: ${errorMessage(x)}`);
    } finally {
      setBusy("");
    }
  };

  return (
    <section className="card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Alert webhook</h2>
      <p className="muted small">Tollgate POSTs a JSON alert here when a budget threshold is crossed.</p>
      {hook.isPending ? (
        <Skeleton lines={2} />
      ) : hook.isError ? (
        <ErrorState error={hook.error} onRetry={() => hook.refetch()} />
      ) : (
        <form onSubmit={save} noValidate>
          <Field id={`${id}-url`} label="Webhook URL">
            <input id={`${id}-url`} type="url" value={url} onChange={(e) => setUrl(e.target.value)} readOnly={!edit} placeholder="https://hooks.example.com/tollgate" />
          </Field>
          {err && <FormError message={err} />}
          <div className="dialog-actions left">
            {edit && (
              <button type="submit" className="btn btn-primary" disabled={busy !== "" || url.trim() === saved}>
                {busy === "save" ? "Saving…" : "Save"}
              </button>
            )}
            {can("webhook.test") && (
              <button type="button" className="btn" onClick={test} disabled={busy !== "" || !saved} title={!saved ? "Save a URL first" : undefined}>
                {busy === "test" ? "Sending…" : "Send test"}
              </button>
            )}
          </div>
        </form>
      )}
    </section>
  );
}

function AlertHistory() {
  const { tenant } = useTenant();
  const alerts = useQuery({ queryKey: qk.alerts(tenant), queryFn: () => api.alerts(tenant) });
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
        <ul className="feed" aria-live="polite">
          {rows.slice(0, 30).map((a) => (
            <li key={a.id}>
              <div>
                {a.threshold !== undefined && <Badge tone={a.threshold >= 100 ? "red" : "amber"}>{a.threshold}%</Badge>} {a.message ?? a.kind ?? "Budget alert"}
              </div>
              <div className="muted small">
                <When iso={a.created_at} />
                {a.delivery_status || a.delivered !== undefined ? ` · webhook ${a.delivery_status ?? (a.delivered ? "delivered" : "not delivered")}` : ""}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
