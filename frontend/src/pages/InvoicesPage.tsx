import { useQuery } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { Badge, EmptyState, ErrorState, Money, PageHeader, TableSkeleton } from "../ui/bits";

const TONE: Record<string, "green" | "amber" | "red" | "neutral" | "blue"> = {
  paid: "green",
  open: "blue",
  sent: "blue",
  draft: "neutral",
  pending: "amber",
  uncollectible: "red",
  failed: "red",
  void: "neutral",
};

export default function InvoicesPage() {
  const { tenant } = useTenant();
  const invoices = useQuery({ queryKey: qk.invoices(tenant), queryFn: () => api.invoices(tenant) });
  const rows = listOf(invoices.data);
  return (
    <>
      <PageHeader title="Invoices" description="Monthly invoices built from the usage ledger and sent through Stripe. Amounts are rounded to cents once, at invoicing." />
      {invoices.isError ? (
        <ErrorState error={invoices.error} onRetry={() => invoices.refetch()} />
      ) : !invoices.isPending && rows.length === 0 ? (
        <EmptyState title="No invoices yet" body="The first invoice is created after the first billing period closes. Self-hosted installs without Stripe have none." />
      ) : (
        <section className="card flush">
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Period</th>
                  <th scope="col">Number</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="r">
                    Amount
                  </th>
                  <th scope="col">
                    <span className="sr-only">Link</span>
                  </th>
                </tr>
              </thead>
              {invoices.isPending ? (
                <TableSkeleton cols={5} />
              ) : (
                <tbody>
                  {rows.map((inv) => (
                    <tr key={inv.id}>
                      <td>{inv.period}</td>
                      <td>{inv.number || <span className="muted">—</span>}</td>
                      <td>
                        <Badge tone={TONE[inv.status] ?? "neutral"}>{inv.status}</Badge>
                      </td>
                      <td className="r">
                        <Money nano={inv.amount_nano} />
                      </td>
                      <td className="r">
                        {inv.hosted_url ? (
                          <a href={inv.hosted_url} target="_blank" rel="noopener noreferrer">
                            View invoice<span className="sr-only"> {inv.number} (opens in a new tab)</span> ↗
                          </a>
                        ) : (
                          <span className="muted small">not sent</span>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              )}
            </table>
          </div>
        </section>
      )}
    </>
  );
}
