import { useEffect, useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, tenantPath, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { formatUsd, nanoPer, toNano } from "../format/money";
import { formatInt, formatPercent, formatTokens } from "../format/numbers";
import { formatTime, isoDateInZone, monthElapsed, monthStartInZone } from "../format/dates";
import { EmptyState, ErrorState, PageHeader, Skeleton } from "../ui/page";
import { Badge, Meter } from "../ui/display";
import { StackedChart, pivotDailyByModel } from "../charts";
import { modelColor } from "../charts/palette";
import { useLive } from "../live/LiveProvider";
import { liveMonthSpend } from "../live/feed";
import { Link } from "../router/router";
import type { Budget, UsageReport } from "../api/types";

// Budgets and the ledger count months in UTC, so "this month" here is the UTC month.
function monthRange(now = new Date()) {
  return { from: monthStartInZone(now, "UTC"), to: isoDateInZone(now, "UTC") };
}

export default function OverviewPage() {
  const { tenant, can } = useTenant();
  const range = useMemo(() => monthRange(), []);
  const usageQ = { ...range, group_by: "day,model" };
  const usage = useQuery({ queryKey: qk.usage(tenant, usageQ), queryFn: ({ signal }) => api.usage(tenant, usageQ, signal) });
  const byKeyQ = { ...range, group_by: "key" };
  const byKey = useQuery({ queryKey: qk.usage(tenant, byKeyQ), queryFn: ({ signal }) => api.usage(tenant, byKeyQ, signal) });
  const budgets = useQuery({ queryKey: qk.budgets(tenant), queryFn: () => api.budgets(tenant) });
  const keyNames = useQuery({
    queryKey: qk.keyNames(tenant),
    queryFn: () => api.keys(tenant, { limit: 100 }),
    enabled: can("keys.view"),
    staleTime: 5 * 60_000,
  });

  const monthBudget = listOf(budgets.data).find((b) => b.scope === "tenant" && b.period === "month") ?? null;
  const names = useMemo(() => new Map(listOf(keyNames.data).map((k) => [k.id, k.name])), [keyNames.data]);
  // The live feed's month-to-date spend (the meter's, as budgets see it) replaces the
  // rollup total as soon as it arrives, so the KPI moves without a reload.
  const { state } = useLive();
  const live = liveMonthSpend(state, range.to.slice(0, 7));

  return (
    <>
      <PageHeader title="Overview" description={`This month so far (${range.from} → ${range.to}, UTC).`} />
      <KpiCards
        report={usage.data}
        liveSpent={live ? toNano(live.spent_nano) : null}
        loading={usage.isPending}
        error={usage.error}
        retry={() => usage.refetch()}
        budget={monthBudget}
        budgetsLoading={budgets.isPending}
      />
      <div className="grid-2-1">
        <section className="card" aria-labelledby="spend-day">
          <h2 id="spend-day">Spend per day by model</h2>
          {usage.isPending ? (
            <Skeleton lines={1} height={240} />
          ) : usage.isError ? (
            <ErrorState error={usage.error} onRetry={() => usage.refetch()} />
          ) : usage.data.series.length === 0 ? (
            <EmptyState title="No spend yet this month" body="Requests through your API keys will show up here within seconds." />
          ) : (
            <DailyChart report={usage.data} from={range.from} to={range.to} />
          )}
        </section>
        <section className="card" aria-labelledby="top-keys">
          <h2 id="top-keys">Top keys</h2>
          {byKey.isPending ? (
            <Skeleton lines={5} />
          ) : byKey.isError ? (
            <ErrorState error={byKey.error} onRetry={() => byKey.refetch()} />
          ) : (
            <TopKeys report={byKey.data} names={names} tenant={tenant} />
          )}
        </section>
      </div>
      <RecentRequests names={names} />
    </>
  );
}

function KpiCards({
  report,
  liveSpent,
  loading,
  error,
  retry,
  budget,
  budgetsLoading,
}: {
  report?: UsageReport;
  liveSpent: bigint | null;
  loading: boolean;
  error: unknown;
  retry: () => void;
  budget: Budget | null;
  budgetsLoading: boolean;
}) {
  if (error) return <ErrorState error={error} onRetry={retry} />;
  const ready = !loading && !!report;
  const t = report?.totals;
  const rolled = toNano(t?.cost_nano);
  const spent = liveSpent !== null && liveSpent > rolled ? liveSpent : rolled;
  const { elapsedMs, totalMs } = monthElapsed(new Date());
  const projected = (spent * BigInt(totalMs)) / BigInt(elapsedMs);
  const limit = budget ? toNano(budget.limit_nano) : 0n;
  const used = limit > 0n ? Number((spent * 10000n) / limit) / 10000 : 0;
  const pace = limit > 0n ? Number((projected * 10000n) / limit) / 10000 : 0;

  return (
    <div className="kpis" data-testid="kpi-cards" data-state={ready ? "ready" : "loading"} aria-busy={!ready}>
      <div className="kpi kpi-wide">
        <div className="kpi-label">Spend this month</div>
        {!ready ? (
          <Skeleton lines={2} height={20} />
        ) : (
          <>
            <div className="kpi-value" data-testid="kpi-spend">
              {formatUsd(spent)}
              {budget && <span className="kpi-of"> of {formatUsd(budget.limit_nano)}</span>}
            </div>
            {budget ? (
              <>
                <Meter ratio={used} label={`${formatPercent(used)} of the monthly budget used`} />
                <div className="kpi-sub">
                  {formatPercent(used)} used · projected {formatUsd(projected)} by month end{" "}
                  {pace > 1 ? <Badge tone="red">Over pace</Badge> : pace > 0.9 ? <Badge tone="amber">Near limit</Badge> : <Badge tone="green">On pace</Badge>}
                  {budget.hard ? " · hard cap" : " · soft limit"}
                </div>
              </>
            ) : (
              <div className="kpi-sub">{budgetsLoading ? "…" : <>No monthly budget · projected {formatUsd(projected)}</>}</div>
            )}
          </>
        )}
      </div>
      <div className="kpi">
        <div className="kpi-label">Requests</div>
        {!ready ? <Skeleton lines={1} height={24} /> : <div className="kpi-value" data-testid="kpi-requests">{formatInt(t!.requests)}</div>}
      </div>
      <div className="kpi">
        <div className="kpi-label">Tokens</div>
        {!ready ? (
          <Skeleton lines={1} height={24} />
        ) : (
          <>
            <div className="kpi-value">{formatTokens(t!.input_tokens + t!.output_tokens)}</div>
            <div className="kpi-sub">
              {formatTokens(t!.input_tokens)} in · {formatTokens(t!.output_tokens)} out
              {t!.cached_tokens > 0 && (
                <>
                  {" "}
                  · {formatTokens(t!.cached_tokens)} cached, {formatUsd(t!.cache_saved_nano)} saved
                </>
              )}
            </div>
          </>
        )}
      </div>
      <div className="kpi">
        <div className="kpi-label">Avg cost / request</div>
        {!ready ? <Skeleton lines={1} height={24} /> : <div className="kpi-value">{t!.requests ? formatUsd(nanoPer(spent, t!.requests)) : "—"}</div>}
      </div>
    </div>
  );
}

function DailyChart({ report, from, to }: { report: UsageReport; from: string; to: string }) {
  const { rows, models } = useMemo(() => pivotDailyByModel(report.series, from, to), [report, from, to]);
  return <StackedChart rows={rows} series={models} colorOf={modelColor} unit="usd" ariaLabel={`Spend per day from ${from} to ${to}, stacked by model: ${models.join(", ")}`} />;
}

function TopKeys({ report, names, tenant }: { report: UsageReport; names: Map<string, string>; tenant: string }) {
  const rows = [...report.series].sort((a, b) => (toNano(b.cost_nano) > toNano(a.cost_nano) ? 1 : -1)).slice(0, 6);
  if (rows.length === 0) return <EmptyState title="No key has spent yet" />;
  const max = toNano(rows[0].cost_nano) || 1n;
  return (
    <ol className="barlist">
      {rows.map((r) => (
        <li key={r.key_id ?? "none"}>
          <div className="barlist-row">
            <Link to={`${tenantPath(tenant, "usage")}?key_id=${encodeURIComponent(r.key_id ?? "")}`}>{names.get(r.key_id ?? "") ?? r.key_id ?? "(no key)"}</Link>
            <span className="num">{formatUsd(r.cost_nano)}</span>
          </div>
          <div className="barlist-bar" style={{ width: `${Math.max(2, Number((toNano(r.cost_nano) * 100n) / max))}%` }} />
          <div className="muted small">{formatInt(r.requests)} requests</div>
        </li>
      ))}
    </ol>
  );
}

const STATUS_TONE: Record<string, "green" | "amber" | "red"> = { ok: "green", aborted: "amber", error: "red" };

/** What each client API value means, shown on hover. */
const API_TITLE: Record<string, string> = {
  chat: "OpenAI chat completions (/v1/chat/completions)",
  responses: "OpenAI Responses API (/v1/responses)",
  messages: "Anthropic Messages API (/v1/messages)",
  embeddings: "OpenAI embeddings (/v1/embeddings)",
};

function RecentRequests({ names }: { names: Map<string, string> }) {
  const { tenant } = useTenant();
  const { state, dispatch } = useLive();
  const events = useQuery({ queryKey: qk.events(tenant), queryFn: () => api.events(tenant) });
  useEffect(() => {
    if (events.data) dispatch({ type: "seed", events: listOf(events.data) });
  }, [events.data, dispatch]);
  const rows = state.recent.slice(0, 15);
  return (
    <section className="card" aria-labelledby="recent">
      <div className="card-head">
        <h2 id="recent">Recent requests</h2>
        <span className="muted small">{state.status === "open" ? "Updates live" : "Live updates paused"}</span>
      </div>
      {events.isPending && rows.length === 0 ? (
        <Skeleton lines={5} />
      ) : events.isError && rows.length === 0 ? (
        <ErrorState error={events.error} onRetry={() => events.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState
          title="No requests yet"
          body="Point an app at /v1/chat/completions, /v1/responses or /v1/messages with one of your API keys; requests appear here as they happen."
        />
      ) : (
        <div className="table-wrap">
          <table className="table" aria-describedby="recent">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Model</th>
                <th scope="col" className="hide-sm">
                  API
                </th>
                <th scope="col" className="hide-sm">
                  Key
                </th>
                <th scope="col" className="r">
                  Tokens in / out
                </th>
                <th scope="col" className="r">
                  Cost
                </th>
                <th scope="col" className="r hide-sm">
                  Latency
                </th>
                <th scope="col" className="hide-sm">
                  Route
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody aria-live="polite" aria-relevant="additions">
              {rows.map((e) => (
                <tr key={e.id ?? e.request_id} className="row-new" data-request-id={e.id ?? e.request_id}>
                  <td>
                    <time dateTime={e.created_at}>{formatTime(e.created_at)}</time>
                  </td>
                  <td>
                    <code>{e.model}</code>
                  </td>
                  <td className="hide-sm" title={e.api ? API_TITLE[e.api] : undefined}>
                    {e.api ?? "—"}
                  </td>
                  <td className="hide-sm">{e.key_name ?? (e.key_id ? (names.get(e.key_id) ?? <code title={e.key_id}>{e.key_id.slice(0, 10)}…</code>) : "—")}</td>
                  <td className="r num" title={e.cached_tokens ? `${formatInt(e.cached_tokens)} input tokens from the prompt cache` : undefined}>
                    {formatTokens(e.input_tokens)} / {formatTokens(e.output_tokens)}
                  </td>
                  <td className="r num">{formatUsd(e.cost_nano)}</td>
                  <td className="r num hide-sm">{e.latency_ms !== undefined && e.latency_ms !== null ? `${formatInt(e.latency_ms)} ms` : "—"}</td>
                  <td className="hide-sm">{e.route_reason ? <Badge>{e.route_reason}</Badge> : "—"}</td>
                  <td>{e.status ? <Badge tone={STATUS_TONE[e.status] ?? "amber"}>{e.status}</Badge> : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
