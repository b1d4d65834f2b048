import { useMemo, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, tenantPath, useTenant } from "../app";
import { listOf, MAX_PAGE, qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import { addDays, formatDay, isoDateInZone } from "../format/dates";
import { formatUsd, nanoPer, nanoToChartNumber, toNano } from "../format/money";
import { formatInt, formatPercent, formatTokens } from "../format/numbers";
import { Link, setSearch, useLocation } from "../router/router";
import { EmptyState, ErrorState, PageHeader, Skeleton, TableSkeleton } from "../ui/page";
import { StackedChart, pivotDailyByModel } from "../charts";
import { modelColor } from "../charts/palette";
import { useToast } from "../ui/toast";
import type { GroupBy, UsageQuery, UsageRow, UsageSource, UsageTotals } from "../api/types";
import type { Nano } from "../format/money";
import { ProjectionCard } from "../billing/ProjectionCard";

const GROUPS: { value: GroupBy; label: string }[] = [
  { value: "day", label: "Day" },
  { value: "model", label: "Model" },
  { value: "key", label: "API key" },
  { value: "member", label: "Member" },
  { value: "api", label: "Client API" },
];

/** A row of the usage table: a series row, or a day's rows summed (nano amounts as exact digit strings). */
type TableRow = Omit<UsageRow, "cost_nano" | "cache_saved_nano"> & { cost_nano: Nano; cache_saved_nano: Nano };

export default function UsagePage() {
  const { tenant, can } = useTenant();
  const { search } = useLocation();
  const toast = useToast();
  const today = isoDateInZone(new Date());
  const f = {
    from: search.get("from") || addDays(today, -29),
    to: search.get("to") || today,
    group: (search.get("group_by") as GroupBy) || "day",
    model: search.get("model") || "",
    key_id: search.get("key_id") || "",
    member_id: search.get("member_id") || "",
    // Imported history (Import usage) shows beside served usage unless filtered.
    source: (search.get("source") as UsageSource) || "all",
  };
  // "day" is fetched as day × model so the chart can stack by model.
  const q: UsageQuery = {
    from: f.from,
    to: f.to,
    group_by: f.group === "day" ? "day,model" : f.group,
    model: f.model || undefined,
    key_id: f.key_id || undefined,
    member_id: f.member_id || undefined,
    source: f.source === "all" ? undefined : f.source,
  };
  const usage = useQuery({ queryKey: qk.usage(tenant, q), queryFn: ({ signal }) => api.usage(tenant, q, signal), placeholderData: keepPreviousData });
  const models = useQuery({ queryKey: qk.models(tenant), queryFn: () => api.models(tenant), staleTime: 10 * 60_000 });
  const keys = useQuery({ queryKey: qk.keyNames(tenant), queryFn: () => api.keys(tenant, { limit: 100 }), enabled: can("keys.view"), staleTime: 5 * 60_000 });
  const members = useQuery({ queryKey: qk.membersLookup(tenant), queryFn: () => api.members(tenant, { limit: MAX_PAGE }), enabled: can("members.view") });

  const keyName = useMemo(() => new Map(listOf(keys.data).map((k) => [k.id, k.name])), [keys.data]);
  const memberName = useMemo(() => new Map(listOf(members.data).map((m) => [m.user_id, m.name || m.email])), [members.data]);
  const [exporting, setExporting] = useState(false);

  const label = (r: TableRow): string => {
    switch (f.group) {
      case "day":
        return r.day ? formatDay(r.day, "en-US", true) : "—";
      case "model":
        return r.model || "—";
      case "key":
        return keyName.get(r.key_id ?? "") ?? r.key_id ?? "(no key)";
      case "member":
        return memberName.get(r.member_id ?? "") ?? r.member_id ?? "(no member)";
      case "api":
        return r.api || "(not recorded)";
    }
  };

  // Table rows: for "day" collapse the day × model rows back to one row per day.
  const rows = useMemo(() => {
    const series = usage.data?.series ?? [];
    if (f.group !== "day") return [...series].sort((a, b) => (toNano(b.cost_nano) > toNano(a.cost_nano) ? 1 : -1));
    const byDay = new Map<string, TableRow>();
    for (const r of series) {
      const d = (r.day ?? "").slice(0, 10);
      const acc = byDay.get(d) ?? {
        day: d,
        requests: 0,
        input_tokens: 0,
        cached_tokens: 0,
        cache_write_tokens: 0,
        output_tokens: 0,
        cost_nano: "0",
        cost_usd: "",
        cache_saved_nano: "0",
        cache_saved_usd: "",
      };
      acc.requests += r.requests;
      acc.input_tokens += r.input_tokens;
      acc.cached_tokens += r.cached_tokens;
      acc.cache_write_tokens += r.cache_write_tokens;
      acc.output_tokens += r.output_tokens;
      acc.cost_nano = (toNano(acc.cost_nano) + toNano(r.cost_nano)).toString();
      acc.cache_saved_nano = (toNano(acc.cache_saved_nano) + toNano(r.cache_saved_nano)).toString();
      byDay.set(d, acc);
    }
    return [...byDay.values()].sort((a, b) => (a.day! < b.day! ? 1 : -1));
  }, [usage.data, f.group]);

  const exportCsv = async () => {
    setExporting(true);
    try {
      // The CSV needs the bearer token, so it is fetched and saved as a blob rather than linked.
      const csv = await api.usageCsv(tenant, q);
      const url = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `tollgate-usage-${tenant}-${f.from}-${f.to}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) {
      toast.error("Export failed", errorMessage(e));
    } finally {
      setExporting(false);
    }
  };

  const modelIds = listOf(models.data).map((m) => m.id);

  return (
    <>
      <PageHeader
        title="Usage"
        description="Requests, tokens and cost from the ledger. Days are UTC rollups."
        actions={
          <>
            {can("usage.import") && (
              <Link className="btn" to={tenantPath(tenant, "import")}>
                Import history
              </Link>
            )}
            {can("usage.export") && (
              <button type="button" className="btn" onClick={exportCsv} disabled={exporting}>
                {exporting ? "Exporting…" : "Export CSV"}
              </button>
            )}
          </>
        }
      />
      <form className="filters card" onSubmit={(e) => e.preventDefault()} aria-label="Usage filters">
        <div className="field">
          <label htmlFor="u-from">From</label>
          <input id="u-from" type="date" value={f.from} max={f.to} onChange={(e) => setSearch({ from: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="u-to">To</label>
          <input id="u-to" type="date" value={f.to} min={f.from} onChange={(e) => setSearch({ to: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="u-group">Group by</label>
          <select id="u-group" value={f.group} onChange={(e) => setSearch({ group_by: e.target.value })}>
            {GROUPS.map((g) => (
              <option key={g.value} value={g.value}>
                {g.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="u-model">Model</label>
          <select id="u-model" value={f.model} onChange={(e) => setSearch({ model: e.target.value })}>
            <option value="">All models</option>
            {[...new Set([...modelIds, ...(f.model ? [f.model] : [])])].map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </div>
        {can("keys.view") && (
          <div className="field">
            <label htmlFor="u-key">API key</label>
            <select id="u-key" value={f.key_id} onChange={(e) => setSearch({ key_id: e.target.value })}>
              <option value="">All keys</option>
              {listOf(keys.data).map((k) => (
                <option key={k.id} value={k.id}>
                  {k.name} ({k.prefix}…)
                </option>
              ))}
              {f.key_id && !keyName.has(f.key_id) && <option value={f.key_id}>{f.key_id}</option>}
            </select>
          </div>
        )}
        {can("members.view") && (
          <div className="field">
            <label htmlFor="u-member">Member</label>
            <select id="u-member" value={f.member_id} onChange={(e) => setSearch({ member_id: e.target.value })}>
              <option value="">All members</option>
              {listOf(members.data).map((m) => (
                <option key={m.user_id} value={m.user_id}>
                  {m.name || m.email}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field">
          <label htmlFor="u-source">Source</label>
          <select id="u-source" value={f.source} onChange={(e) => setSearch({ source: e.target.value === "all" ? "" : e.target.value })}>
            <option value="all">Served and imported</option>
            <option value="served">Served by Tollgate</option>
            <option value="imported">Imported history</option>
          </select>
        </div>
        {(f.model || f.key_id || f.member_id) && (
          <button type="button" className="btn btn-ghost" onClick={() => setSearch({ model: "", key_id: "", member_id: "" })}>
            Clear filters
          </button>
        )}
      </form>

      {usage.isError ? (
        <ErrorState error={usage.error} onRetry={() => usage.refetch()} />
      ) : (
        <>
          <div className="kpis kpis-compact" aria-busy={usage.isPending}>
            <Stat label="Cost" value={usage.data ? formatUsd(usage.data.totals.cost_nano) : null} />
            <Stat label="Requests" value={usage.data ? formatInt(usage.data.totals.requests) : null} />
            <Stat label="Input tokens" value={usage.data ? formatTokens(usage.data.totals.input_tokens) : null} />
            <Stat
              label="Cached input"
              value={usage.data ? `${formatTokens(usage.data.totals.cached_tokens)} (${cachedShare(usage.data.totals)})` : null}
            />
            <Stat label="Saved by caching" value={usage.data ? formatUsd(usage.data.totals.cache_saved_nano) : null} />
            <Stat label="Output tokens" value={usage.data ? formatTokens(usage.data.totals.output_tokens) : null} />
            <Stat label="Avg / request" value={usage.data ? (usage.data.totals.requests ? formatUsd(nanoPer(usage.data.totals.cost_nano, usage.data.totals.requests)) : "—") : null} />
          </div>
          <section className="card" aria-label="Usage chart">
            {usage.isPending ? (
              <Skeleton lines={1} height={240} />
            ) : rows.length === 0 ? (
              <EmptyState title="No usage in this range" body="Try a wider date range or clear the filters." />
            ) : f.group === "day" ? (
              <DayChart series={usage.data!.series} from={f.from} to={f.to} />
            ) : (
              <StackedChart
                rows={rows.slice(0, 20).map((r) => ({ x: label(r), cost: nanoToChartNumber(r.cost_nano) }))}
                series={["cost"]}
                unit="usd"
                days={false}
                ariaLabel={`Cost by ${f.group}`}
              />
            )}
          </section>
          <ProjectionCard />
          <section className="card" aria-label="Usage table">
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{GROUPS.find((g) => g.value === f.group)?.label}</th>
                    <th scope="col" className="r">
                      Requests
                    </th>
                    <th scope="col" className="r">
                      Input tokens
                    </th>
                    <th scope="col" className="r hide-sm" title="Input tokens read from the provider's prompt cache (part of input tokens)">
                      Cached tokens
                    </th>
                    <th scope="col" className="r">
                      Output tokens
                    </th>
                    <th scope="col" className="r">
                      Cost
                    </th>
                    <th scope="col" className="r hide-sm" title="Cost with every input token at the input price, minus the cost billed">
                      Saved by caching
                    </th>
                  </tr>
                </thead>
                {usage.isPending ? (
                  <TableSkeleton cols={7} />
                ) : (
                  <tbody>
                    {rows.map((r, i) => (
                      <tr key={`${r.day}-${r.model}-${r.key_id}-${r.member_id}-${r.api}-${i}`}>
                        <td>{label(r)}</td>
                        <td className="r num">{formatInt(r.requests)}</td>
                        <td className="r num">{formatTokens(r.input_tokens)}</td>
                        <td className="r num hide-sm">{formatTokens(r.cached_tokens)}</td>
                        <td className="r num">{formatTokens(r.output_tokens)}</td>
                        <td className="r num">{formatUsd(r.cost_nano)}</td>
                        <td className="r num hide-sm">{formatUsd(r.cache_saved_nano)}</td>
                      </tr>
                    ))}
                  </tbody>
                )}
              </table>
            </div>
          </section>
        </>
      )}
    </>
  );
}

/** The share of input tokens served from a prompt cache, "0%" without input. */
function cachedShare(t: UsageTotals): string {
  return t.input_tokens ? formatPercent(t.cached_tokens / t.input_tokens, 0) : "0%";
}

function Stat({ label, value }: { label: string; value: string | null }) {
  return (
    <div className="kpi">
      <div className="kpi-label">{label}</div>
      {value === null ? <Skeleton lines={1} height={22} /> : <div className="kpi-value">{value}</div>}
    </div>
  );
}

function DayChart({ series, from, to }: { series: UsageRow[]; from: string; to: string }) {
  const { rows, models } = useMemo(() => pivotDailyByModel(series, from, to), [series, from, to]);
  return <StackedChart rows={rows} series={models} colorOf={modelColor} unit="usd" ariaLabel={`Cost per day from ${from} to ${to} by model`} />;
}
