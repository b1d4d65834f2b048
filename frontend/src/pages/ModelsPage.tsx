import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { formatUsd } from "../format/money";
import { formatTokens } from "../format/numbers";
import { Badge, EmptyState, ErrorState, PageHeader, TableSkeleton } from "../ui/bits";

export default function ModelsPage() {
  const { tenant } = useTenant();
  const models = useQuery({ queryKey: qk.models(tenant), queryFn: () => api.models(tenant) });
  const [q, setQ] = useState("");
  const rows = listOf(models.data)
    .filter((m) => !q || `${m.id} ${m.provider ?? ""} ${m.tier ?? ""}`.toLowerCase().includes(q.toLowerCase()))
    .sort((a, b) => Number(b.enabled) - Number(a.enabled));
  return (
    <>
      <PageHeader title="Models & prices" description="The catalog Tollgate routes to, with list prices per million tokens. Models without a configured provider are dimmed." />
      <div className="toolbar">
        <label className="search">
          <span className="sr-only">Filter models</span>
          <input type="search" placeholder="Filter by model, provider or tier…" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
      </div>
      {models.isError ? (
        <ErrorState error={models.error} onRetry={() => models.refetch()} />
      ) : !models.isPending && rows.length === 0 ? (
        <EmptyState title={q ? "No model matches" : "No models enabled"} body={q ? undefined : "Set a provider key (e.g. OPENAI_API_KEY) or TOLLGATE_SIM=1 on the server."} />
      ) : (
        <section className="card flush">
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col" className="hide-sm">
                    Provider
                  </th>
                  <th scope="col">Tier</th>
                  <th scope="col" className="r">
                    Input / 1M
                  </th>
                  <th scope="col" className="r hide-sm">
                    Cached input / 1M
                  </th>
                  <th scope="col" className="r">
                    Output / 1M
                  </th>
                  <th scope="col" className="r hide-sm">
                    Context
                  </th>
                </tr>
              </thead>
              {models.isPending ? (
                <TableSkeleton cols={7} />
              ) : (
                <tbody>
                  {rows.map((m) => {
                    const caps = [m.capabilities?.tools && "tools", m.capabilities?.vision && "vision", m.capabilities?.json && "json", m.embedding && "embeddings"].filter(Boolean).join(" · ");
                    return (
                      <tr key={m.id} className={m.enabled === false ? "dim" : undefined}>
                        <td>
                          <code>{m.id}</code> {m.enabled === false ? <Badge>no provider</Badge> : <Badge tone="green">enabled</Badge>}
                          {caps && <div className="muted small">{caps}</div>}
                        </td>
                        <td className="hide-sm">{m.provider ?? "—"}</td>
                        <td>{m.tier ? <Badge tone={m.tier === "premium" ? "purple" : "neutral"}>{m.tier}</Badge> : "—"}</td>
                        <td className="r num">{formatUsd(m.input_per_million_nano)}</td>
                        <td className="r num hide-sm">{m.cached_input_per_million_nano !== undefined ? formatUsd(m.cached_input_per_million_nano) : "—"}</td>
                        <td className="r num">{formatUsd(m.output_per_million_nano)}</td>
                        <td className="r num hide-sm">{m.context_window ? formatTokens(m.context_window) : "—"}</td>
                      </tr>
                    );
                  })}
                </tbody>
              )}
            </table>
          </div>
        </section>
      )}
    </>
  );
}
