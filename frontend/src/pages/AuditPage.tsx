import { useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { qk } from "../api/endpoints";
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
        empty={<EmptyState title={debounced ? "No entries match" : "Nothing recorded yet"} />}
        columns={[
          { header: "Time", td: "nowrap", cell: (e) => <When iso={e.created_at} /> },
          { header: "Actor", cell: (e) => e.actor_email || e.actor_id },
          { header: "Action", cell: (e) => <code>{e.action}</code> },
          { header: "Target", className: "hide-sm", cell: (e) => e.target },
          { header: "IP", className: "hide-sm", cell: (e) => <code>{e.ip}</code> },
          {
            header: <span className="sr-only">Details</span>,
            actions: true,
            td: "r",
            cell: (e) =>
              e.details != null && (
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
