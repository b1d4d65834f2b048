// The request explorer: every request, served or refused, filtered and paged
// on the server (GET requests), with a detail drawer for one request's route
// decision, latency, tokens and cost. Refusals carry no content.

import { useState, type ReactNode } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { qk } from "../api/endpoints";
import type { RequestQuery, RequestRow } from "../api/types";
import { EmptyState, ErrorState, PageHeader, Skeleton } from "../ui/page";
import { Badge, Money, When } from "../ui/display";
import { Dialog } from "../ui/dialog";
import { PagedTable } from "../ui/PagedTable";
import { usePagedSearch } from "../ui/usePagedSearch";

const STATUSES = [
  { value: "", label: "All" },
  { value: "ok", label: "Served" },
  { value: "refused", label: "Refused" },
  { value: "429", label: "429 budget / rate limit" },
  { value: "400", label: "400 invalid" },
  { value: "403", label: "403 forbidden" },
  { value: "401", label: "401 unauthenticated" },
  { value: "502", label: "502 upstream" },
];

type Filters = Omit<RequestQuery, "cursor">;
const FIELDS: { key: keyof Filters; label: string; type?: string; placeholder?: string }[] = [
  { key: "from", label: "From", type: "date" },
  { key: "to", label: "To", type: "date" },
  { key: "key_id", label: "Key id" },
  { key: "member_id", label: "Member id" },
  { key: "model", label: "Model", placeholder: "gpt-4o-mini" },
  { key: "route_reason", label: "Route reason", placeholder: "auto_economy" },
  { key: "min_cost", label: "Min cost ($)", placeholder: "0.01" },
  { key: "max_cost", label: "Max cost ($)" },
];

function StatusBadge({ r }: { r: RequestRow }) {
  if (r.status_code) return <Badge tone={r.status_code === 429 ? "amber" : "red"}>{`${r.status_code} ${r.error_code ?? ""}`}</Badge>;
  return <Badge tone={r.status === "ok" ? "green" : "amber"}>{r.status}</Badge>;
}

export default function RequestsPage() {
  const { tenant } = useTenant();
  const paging = usePagedSearch();
  const [filters, setFilters] = useState<Filters>({});
  const [open, setOpen] = useState<string | null>(null);
  const q: RequestQuery = { ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)), cursor: paging.cursor || undefined };
  const list = useQuery({ queryKey: qk.requests(tenant, q), queryFn: () => api.requests(tenant, q), placeholderData: keepPreviousData });
  const detail = useQuery({ queryKey: qk.request(tenant, open ?? ""), queryFn: () => api.request(tenant, open ?? ""), enabled: !!open });
  const set = (k: keyof Filters, v: string) => {
    setFilters((f) => ({ ...f, [k]: v }));
    paging.reset();
  };
  return (
    <>
      <PageHeader title="Requests" description="Every request, served or refused (refusals are recorded without content and never billed)." />
      <form className="filters card" onSubmit={(e) => e.preventDefault()} aria-label="Request filters">
        <div className="field">
          <label htmlFor="rq-status">Status</label>
          <select id="rq-status" value={filters.status ?? ""} onChange={(e) => set("status", e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        {FIELDS.map((f) => (
          <div className="field" key={f.key}>
            <label htmlFor={`rq-${f.key}`}>{f.label}</label>
            <input id={`rq-${f.key}`} type={f.type ?? "text"} placeholder={f.placeholder} value={filters[f.key] ?? ""} onChange={(e) => set(f.key, e.target.value.trim())} />
          </div>
        ))}
      </form>
      <PagedTable
        query={list}
        paging={paging}
        caption="Requests"
        testId="requests-table"
        rowKey={(r) => r.request_id}
        rowProps={(r) => ({ "data-status": r.status_code ? String(r.status_code) : r.status })}
        empty={<EmptyState title="No requests match" body="Change the filters, or send a request through /v1." />}
        columns={[
          { header: "Time", td: "nowrap", cell: (r) => <When iso={r.created_at} /> },
          { header: "Status", cell: (r) => <StatusBadge r={r} /> },
          { header: "Model", cell: (r) => <code>{r.status_code ? r.model_requested : r.model}</code> },
          { header: "Key", className: "hide-sm", cell: (r) => r.key_name || r.key_id },
          { header: "Route", className: "hide-sm", cell: (r) => r.route_reason && <code>{r.route_reason}</code> },
          { header: "Tokens", className: "r num hide-sm", cell: (r) => (r.input_tokens + r.output_tokens).toLocaleString() },
          { header: "Cost", className: "r num", cell: (r) => <Money nano={r.cost_nano} /> },
          { header: "ms", className: "r num hide-sm", cell: (r) => r.latency_ms },
          {
            header: <span className="sr-only">Details</span>,
            actions: true,
            td: "r",
            cell: (r) => (
              <button type="button" className="btn btn-sm btn-ghost" onClick={() => setOpen(r.request_id)}>
                Details
              </button>
            ),
          },
        ]}
      />
      <Dialog title="Request" open={!!open} onClose={() => setOpen(null)} wide description={open ?? undefined}>
        {detail.isPending ? <Skeleton lines={6} /> : detail.isError ? <ErrorState error={detail.error} onRetry={() => detail.refetch()} /> : detail.data && <RequestDetail r={detail.data} />}
      </Dialog>
    </>
  );
}

/** Tollgate's share, the upstream's first byte, and the total (0 for refusals and older rows). */
function LatencySplit({ r }: { r: RequestRow }) {
  return (
    <span data-testid="latency-split">
      Tollgate {r.overhead_ms ?? 0} ms · upstream first byte {r.first_byte_ms ?? 0} ms · total {r.latency_ms} ms
    </span>
  );
}

function RequestDetail({ r }: { r: RequestRow }) {
  const rows: [string, ReactNode][] = [
    ["Status", <StatusBadge r={r} key="s" />],
    ["Time", <When iso={r.created_at} key="t" />],
    ["API", r.api || "—"],
    ["Model requested", r.model_requested || "—"],
    ["Model used", r.model || "—"],
    ["Provider", r.provider || "—"],
    ["Route reason", r.route_reason || "—"],
    ["Key", r.key_name || r.key_id || "—"],
    ["Member", r.member_id || "—"],
    ["Latency", <LatencySplit r={r} key="l" />],
    ["Fallbacks tried", r.fallbacks?.length ? r.fallbacks.map((f) => `${f.model} (${f.outcome}, ${f.ms} ms)`).join(" → ") : "none"],
    ["Output limit", r.max_tokens ? `${r.max_tokens} tokens` : "—"],
    ["Input tokens", `${r.input_tokens} (${r.cached_tokens} cached, ${r.cache_write_tokens} cache writes)`],
    ["Output tokens", String(r.output_tokens)],
    ["Cost", <Money nano={r.cost_nano} key="c" />],
  ];
  if (r.status_code) rows.push(["Error", `${r.error_type ?? ""} ${r.error_code ?? ""}`]);
  return (
    <div data-testid="request-detail">
      <dl className="kv">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {r.route_features != null && (
        <>
          <h3>Route decision</h3>
          <pre className="snippet">{JSON.stringify(r.route_features, null, 2)}</pre>
        </>
      )}
    </div>
  );
}
