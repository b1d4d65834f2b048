import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { formatInt } from "../format/numbers";
import { EmptyState, ErrorState, PageHeader, Skeleton, TableSkeleton } from "../ui/page";
import { Badge, When } from "../ui/display";
import type { Job, SystemInfo } from "../api/types";

function Health({ ok, label }: { ok: boolean | undefined; label?: string }) {
  return ok ? <Badge tone="green">{label ?? "Healthy"}</Badge> : <Badge tone="red">{label ?? "Down"}</Badge>;
}

function KV({ rows }: { rows: [string, React.ReactNode][] }) {
  const shown = rows.filter(([, v]) => v !== undefined && v !== null && v !== "");
  if (!shown.length) return null;
  return (
    <dl className="kv">
      {shown.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

const METER_TONE: Record<string, "green" | "amber" | "red"> = { ok: "green", degraded: "amber", unavailable: "red" };
const JOB_TONE: Record<string, "green" | "amber" | "red" | "blue" | "neutral"> = {
  completed: "green",
  running: "blue",
  available: "blue",
  scheduled: "neutral",
  pending: "neutral",
  retryable: "amber",
  cancelled: "neutral",
  discarded: "red",
};

function Tier({ sys }: { sys: SystemInfo }) {
  const t = sys.tier;
  return (
    <section className="card">
      <h2>Scale tier</h2>
      <div className="kpi-value">
        {t?.level ?? "—"} · {t?.name ?? "unknown"}
      </div>
      <p className="muted small">
        Chosen from CPU, memory, GPU and deployment mode ({t?.deployment_mode ?? "unknown"}, {sys.mode}); it sets worker concurrency, pool, batch and cache sizes.
      </p>
      {t?.reasons && t.reasons.length > 0 && (
        <ul className="small reasons">
          {t.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
      {t?.knobs && <KV rows={Object.entries(t.knobs).map(([k, v]) => [k.replace(/_/g, " "), typeof v === "number" ? formatInt(v) : String(v)])} />}
    </section>
  );
}

function jobSummary(j: Job): string {
  const out = j.output as Record<string, unknown> | undefined;
  if (!out || typeof out !== "object") return "";
  if (j.kind === "invoice_run") return [out.status, out.number, out.amount_cents !== undefined ? `${out.amount_cents}¢` : ""].filter(Boolean).join(" · ");
  if (j.kind === "reconcile") return out.drift ? `drift found${out.rebuilt ? ", counters rebuilt" : ""}` : "no drift";
  return "";
}

function Jobs() {
  const [state, setState] = useState("");
  const jobs = useQuery({ queryKey: [...qk.jobs, state], queryFn: () => api.jobs({ state: state || undefined, limit: 20 }), refetchInterval: 15_000 });
  const rows = listOf(jobs.data);
  return (
    <section className="card flush" aria-labelledby="jobs-h">
      <div className="card-head padded">
        <h2 id="jobs-h">Recent jobs</h2>
        <label>
          <span className="sr-only">Job state</span>
          <select value={state} onChange={(e) => setState(e.target.value)}>
            <option value="">All states</option>
            <option value="running,available,scheduled,retryable">Queued or running</option>
            <option value="retryable,discarded">Failing</option>
            <option value="completed">Completed</option>
          </select>
        </label>
      </div>
      {jobs.isError ? (
        <ErrorState error={jobs.error} onRetry={() => jobs.refetch()} />
      ) : !jobs.isPending && rows.length === 0 ? (
        <EmptyState title="No jobs" body="Invoice runs, reconciles, alert deliveries and backups appear here." />
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="jobs">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">State</th>
                <th scope="col" className="hide-sm">
                  Attempts
                </th>
                <th scope="col">Created</th>
                <th scope="col" className="hide-sm">
                  Result
                </th>
              </tr>
            </thead>
            {jobs.isPending ? (
              <TableSkeleton cols={5} />
            ) : (
              <tbody>
                {rows.map((j) => {
                  const lastErr = j.errors?.length ? j.errors[j.errors.length - 1] : undefined;
                  return (
                    <tr key={j.id}>
                      <td>
                        <code>{j.kind}</code> <span className="muted small">#{j.id}</span>
                      </td>
                      <td>
                        <Badge tone={JOB_TONE[j.state] ?? "neutral"}>{j.state}</Badge>
                      </td>
                      <td className="hide-sm num">
                        {j.attempt ?? 0}/{j.max_attempts ?? "—"}
                      </td>
                      <td>
                        <When iso={j.created_at} relative />
                      </td>
                      <td className="hide-sm small">
                        {jobSummary(j)}
                        {lastErr && <div className="bad">{lastErr}</div>}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            )}
          </table>
        </div>
      )}
    </section>
  );
}

export default function SystemPage() {
  const { can } = useTenant();
  const sys = useQuery({ queryKey: qk.system, queryFn: api.system, refetchInterval: 15_000, enabled: can("system.view") });
  if (!can("system.view")) return <EmptyState title="Superadmins only" />;
  const d = sys.data;
  return (
    <>
      <PageHeader title="System" description="Health of this Tollgate deployment. Refreshes every 15 seconds." />
      {sys.isPending ? (
        <Skeleton lines={6} />
      ) : sys.isError ? (
        <ErrorState error={sys.error} onRetry={() => sys.refetch()} />
      ) : (
        <>
          {d!.errors && d!.errors.length > 0 && (
            <div className="form-error" role="alert">
              {d!.errors.join(" · ")}
            </div>
          )}
          <div className="grid-2">
            <Tier sys={d!} />
            <div>
              <section className="card">
                <div className="card-head">
                  <h2>Database</h2>
                  <Health ok={d!.db?.ok} />
                </div>
                <KV rows={[["driver", d!.db?.driver], ["error", d!.db?.error]]} />
              </section>
              <section className="card">
                <div className="card-head">
                  <h2>Spend meter</h2>
                  <Badge tone={METER_TONE[d!.meter?.state ?? ""] ?? "amber"}>{d!.meter?.state ?? "unknown"}</Badge>
                </div>
                <KV
                  rows={[
                    ["redis", d!.redis?.configured ? (d!.redis.ok ? `ok${d!.redis.state ? ` (${d!.redis.state})` : ""}` : `down${d!.redis.state ? ` (${d!.redis.state})` : ""}`) : "not configured (in-process meter)"],
                    ["detail", d!.meter?.detail],
                    ["since", d!.meter?.since ? <When iso={d!.meter.since} relative /> : undefined],
                  ]}
                />
              </section>
            </div>
            {d!.ledger && (
              <section className="card">
                <div className="card-head">
                  <h2>Usage ledger</h2>
                  {d!.ledger.flush_failures > 0 || d!.ledger.last_error ? <Badge tone="amber">flush problems</Badge> : <Badge tone="green">writing</Badge>}
                </div>
                <KV
                  rows={[
                    ["appended", formatInt(d!.ledger.appended)],
                    ["inserted", formatInt(d!.ledger.inserted)],
                    ["replayed", formatInt(d!.ledger.replayed)],
                    ["pending", formatInt(d!.ledger.pending)],
                    ["flush failures", formatInt(d!.ledger.flush_failures)],
                    ["last error", d!.ledger.last_error],
                  ]}
                />
              </section>
            )}
            {d!.live && (
              <section className="card">
                <h2>Live feed</h2>
                <KV
                  rows={[
                    ["tenants", formatInt(d!.live.tenants)],
                    ["subscribers", formatInt(d!.live.subscribers)],
                    ["messages sent", formatInt(d!.live.sent)],
                    ["dropped (slow clients)", formatInt(d!.live.dropped)],
                  ]}
                />
              </section>
            )}
          </div>
          {can("jobs.view") && <Jobs />}
        </>
      )}
    </>
  );
}
