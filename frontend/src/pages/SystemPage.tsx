import { useQuery } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { qk } from "../api/endpoints";
import { Badge, EmptyState, ErrorState, PageHeader, Skeleton } from "../ui/bits";
import type { SystemInfo } from "../api/types";

const TIER_NAMES: Record<number, string> = { 1: "Constrained", 2: "Balanced", 3: "High-performance", 4: "Enterprise" };

function tierText(t: SystemInfo["tier"]): string {
  if (typeof t === "number") return `${t} · ${TIER_NAMES[t] ?? ""}`;
  if (typeof t === "string") return t;
  if (t && typeof t === "object") return [t.level, t.name ?? (t.level ? TIER_NAMES[t.level] : "")].filter(Boolean).join(" · ");
  return "—";
}

function Health({ ok, label }: { ok: boolean | undefined; label?: string }) {
  return ok ? <Badge tone="green">{label ?? "Healthy"}</Badge> : <Badge tone="red">{label ?? "Down"}</Badge>;
}

function Extra({ obj, skip }: { obj: Record<string, unknown>; skip: string[] }) {
  const entries = Object.entries(obj).filter(([k]) => !skip.includes(k));
  if (!entries.length) return null;
  return (
    <dl className="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k.replace(/_/g, " ")}</dt>
          <dd>{typeof v === "object" ? <code>{JSON.stringify(v)}</code> : String(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

export default function SystemPage() {
  const { can } = useTenant();
  const sys = useQuery({ queryKey: qk.system, queryFn: api.system, refetchInterval: 15_000, enabled: can("system.view") });
  if (!can("system.view")) return <EmptyState title="Superadmins only" />;
  return (
    <>
      <PageHeader title="System" description="Health of this Tollgate deployment. Refreshes every 15 seconds." />
      {sys.isPending ? (
        <Skeleton lines={6} />
      ) : sys.isError ? (
        <ErrorState error={sys.error} onRetry={() => sys.refetch()} />
      ) : (
        <div className="grid-2">
          <section className="card">
            <h2>Scale tier</h2>
            <div className="kpi-value">{tierText(sys.data.tier)}</div>
            <p className="muted small">Chosen from CPU, memory, GPU and deployment mode; sets worker concurrency, pool, batch and cache sizes.</p>
          </section>
          <section className="card">
            <h2>Database</h2>
            <Health ok={sys.data.db?.ok} />
            <Extra obj={sys.data.db ?? {}} skip={["ok"]} />
          </section>
          <section className="card">
            <h2>Redis</h2>
            {sys.data.redis?.configured === false ? <Badge>Not configured (in-process meter)</Badge> : <Health ok={sys.data.redis?.ok} />}
            <Extra obj={sys.data.redis ?? {}} skip={["ok", "configured"]} />
          </section>
          <section className="card">
            <h2>Job queue</h2>
            <Extra obj={sys.data.queue ?? {}} skip={[]} />
          </section>
        </div>
      )}
    </>
  );
}
