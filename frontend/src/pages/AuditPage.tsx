import { Fragment, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { EmptyState, ErrorState, PageHeader, Pager, SearchToolbar, TableSkeleton, When } from "../ui/bits";
import { usePagedSearch } from "../ui/usePagedSearch";

export default function AuditPage() {
  const { tenant } = useTenant();
  const paging = usePagedSearch();
  const { q: debounced, cursor } = paging;
  const [open, setOpen] = useState<string | null>(null);
  const audit = useQuery({ queryKey: qk.audit(tenant, debounced, cursor), queryFn: () => api.audit(tenant, { q: debounced, cursor }), placeholderData: keepPreviousData });
  const rows = listOf(audit.data);
  return (
    <>
      <PageHeader title="Audit log" description="Every change made in this tenant: who, what, when and from where." />
      <SearchToolbar
        label="Search the audit log"
        placeholder="Search actor, action or target…"
        value={paging.input}
        onChange={paging.setInput}
        updating={audit.isFetching && !audit.isPending}
      />
      {audit.isError ? (
        <ErrorState error={audit.error} onRetry={() => audit.refetch()} />
      ) : !audit.isPending && rows.length === 0 ? (
        <EmptyState title={debounced ? "No entries match" : "Nothing recorded yet"} />
      ) : (
        <section className="card flush">
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col" className="hide-sm">
                    Target
                  </th>
                  <th scope="col" className="hide-sm">
                    IP
                  </th>
                  <th scope="col">
                    <span className="sr-only">Details</span>
                  </th>
                </tr>
              </thead>
              {audit.isPending ? (
                <TableSkeleton cols={6} />
              ) : (
                <tbody>
                  {rows.map((e) => (
                    <Fragment key={e.id}>
                      <tr>
                        <td className="nowrap">
                          <When iso={e.created_at} />
                        </td>
                        <td>{e.actor_email || e.actor_id}</td>
                        <td>
                          <code>{e.action}</code>
                        </td>
                        <td className="hide-sm">{e.target}</td>
                        <td className="hide-sm">
                          <code>{e.ip}</code>
                        </td>
                        <td className="r">
                          {e.details != null && (
                            <button type="button" className="btn btn-sm btn-ghost" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>
                              Details
                            </button>
                          )}
                        </td>
                      </tr>
                      {open === e.id && (
                        <tr>
                          <td colSpan={6}>
                            <pre className="snippet">{JSON.stringify(e.details, null, 2)}</pre>
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  ))}
                </tbody>
              )}
            </table>
          </div>
          <Pager
            hasPrev={paging.hasPrev}
            hasNext={!!audit.data?.next_cursor}
            onPrev={paging.prev}
            onNext={() => paging.next(audit.data?.next_cursor)}
          />
        </section>
      )}
    </>
  );
}
