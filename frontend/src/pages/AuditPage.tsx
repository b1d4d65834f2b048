import { useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { qk } from "../api/endpoints";
import type { AuditEntry } from "../api/types";
import { auditDiff } from "../audit/diff";
import { formatUsd, usdToNano } from "../format/money";
import { EmptyState, PageHeader } from "../ui/page";
import { When } from "../ui/display";
import { PagedTable } from "../ui/PagedTable";
import { usePagedSearch } from "../ui/usePagedSearch";

export default function AuditPage() {
  const { tenant } = useTenant();
  const paging = usePagedSearch();
  const { q: debounced, cursor } = paging;
  const [open, setOpen] = useState<string | null>(null);
  const audit = useQuery({ queryKey: qk.audit(tenant, debounced, cursor), queryFn: () => api.audit(tenant, { q: debounced, cursor }), placeholderData: keepPreviousData });
  return (
    <>
      <PageHeader title="Audit log" description="Every change made in this tenant: who, what, when and from where." />
      <PagedTable
        query={audit}
        paging={paging}
        search={{ label: "Search the audit log", placeholder: "Search actor, action or target…" }}
        caption="Audit log entries"
        rowKey={(e) => e.id}
        testId="audit-table"
        empty={<EmptyState title={debounced ? "No entries match" : "Nothing recorded yet"} />}
        columns={[
          {
            header: "Time",
            cell: (e) => (
              <>
                <span className="nowrap">
                  <When iso={e.created_at} />
                </span>
                {e.ip && <div className="muted small">from {e.ip}</div>}
              </>
            ),
          },
          { header: "Actor", cell: (e) => e.actor_email || e.actor_id },
          { header: "Action", cell: (e) => <code>{e.action}</code> },
          { header: "Target", cell: (e) => <Target entry={e} /> },
          { header: "Change", cell: (e) => <Diff entry={e} /> },
          {
            header: <span className="sr-only">Details</span>,
            actions: true,
            td: "r",
            cell: (e) =>
              e.details != null &&
              Object.keys(e.details).length > 0 && (
                <button type="button" className="btn btn-sm btn-ghost" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>
                  Details
                </button>
              ),
          },
        ]}
        detail={(e) => open === e.id && <pre className="snippet">{JSON.stringify(e.details, null, 2)}</pre>}
      />
    </>
  );
}

/** The target by name when the entry recorded one, its id (or email) beneath. */
function Target({ entry: e }: { entry: AuditEntry }) {
  if (!e.target_name) return <span className="wrap-any">{e.target || "—"}</span>;
  return (
    <>
      <strong className="wrap-any">{e.target_name}</strong>
      <div className="muted small wrap-any">{e.target}</div>
    </>
  );
}

/** The fields the change touched, before → after; nothing when the entry recorded no state. */
function Diff({ entry: e }: { entry: AuditEntry }) {
  if (!e.before && !e.after) return <span className="muted">—</span>;
  const lines = auditDiff(e.before, e.after);
  if (lines.length === 0) return <span className="muted">no change</span>;
  const shown = lines.slice(0, 8);
  return (
    <ul className="diff" data-testid="audit-diff">
      {shown.map((l) => (
        <li key={l.path}>
          <span className="diff-path">{l.path}</span> {e.before && <del>{money(l.path, l.before)}</del>}
          {e.before && e.after && " → "}
          {e.after && <ins>{money(l.path, l.after)}</ins>}
        </li>
      ))}
      {lines.length > shown.length && <li className="muted small">and {lines.length - shown.length} more</li>}
    </ul>
  );
}

/** Dollar fields (*_usd, sent with nine decimals) as "$1,000.00"-style amounts; anything else as it is. */
function money(path: string, v: string): string {
  if (!path.endsWith("_usd") || !/^-?\d+(\.\d+)?$/.test(v)) return v;
  const nano = usdToNano(v);
  return nano === null ? v : formatUsd(nano);
}
