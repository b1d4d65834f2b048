import { useId, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { qk } from "../api/endpoints";
import { ApiError, errorMessage } from "../api/errors";
import { formatUsd, toNano } from "../format/money";
import { formatInt, formatTokens } from "../format/numbers";
import { EmptyState, ErrorState, PageHeader, TableSkeleton } from "../ui/page";
import { Badge, Money, When } from "../ui/display";
import { Field } from "../ui/controls";
import { PagedTable } from "../ui/PagedTable";
import { Dialog, FormError } from "../ui/dialog";
import { useToast } from "../ui/toast";
import type { Invoice, InvoicePreview } from "../api/types";
import { previousPeriod } from "../billing/periods";

const STATUS: Record<string, { label: string; tone: "green" | "amber" | "red" | "neutral" | "blue" }> = {
  draft: { label: "Draft", tone: "neutral" },
  items_added: { label: "Items added", tone: "neutral" },
  finalized: { label: "Sent", tone: "blue" },
  paid: { label: "Paid", tone: "green" },
  payment_failed: { label: "Payment failed", tone: "red" },
  voided: { label: "Voided", tone: "neutral" },
  empty: { label: "Nothing to bill", tone: "neutral" },
};

export default function InvoicesPage() {
  const { tenant, can } = useTenant();
  const invoices = useQuery({ queryKey: qk.invoices(tenant), queryFn: () => api.invoices(tenant) });
  const preview = useQuery({ queryKey: qk.invoicePreview(tenant), queryFn: () => api.invoicePreview(tenant) });
  const [open, setOpen] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  // Billing is off in self-host mode or without STRIPE_API_KEY: said once, with no run offered.
  const billingOff = preview.data ? !preview.data.billing_enabled : false;
  const billingKnown = !preview.isPending;
  return (
    <>
      <PageHeader
        title="Invoices"
        description="Monthly invoices built from the usage ledger and sent through Stripe. Amounts are rounded to cents once, at invoicing."
        actions={
          can("invoices.run") &&
          billingKnown &&
          !billingOff && (
            <button type="button" className="btn" onClick={() => setRunning(true)}>
              Invoice a month now
            </button>
          )
        }
      />
      {billingOff && (
        <p className="notice" role="status" data-testid="billing-off">
          Billing is off in this deployment (self-host mode, or <code>STRIPE_API_KEY</code> unset): no invoice is sent. The preview shows what this
          month's usage would bill.
        </p>
      )}
      <UpcomingInvoice preview={preview.data} error={preview.error} pending={preview.isPending} onRetry={() => preview.refetch()} />
      <PagedTable
        query={invoices}
        caption="Invoices"
        rowKey={(inv) => inv.id}
        empty={billingOff ? null : <EmptyState title="No invoices yet" body="The first invoice is created after the first billing period closes." />}
        columns={[
          {
            header: "Period",
            cell: (inv) => (
              <>
                {inv.period}
                <div className="muted small">
                  updated <When iso={inv.updated_at} relative />
                </div>
              </>
            ),
          },
          { header: "Number", cell: (inv) => inv.number || <span className="muted">—</span> },
          { header: "Status", cell: (inv) => <Badge tone={STATUS[inv.status]?.tone ?? "neutral"}>{STATUS[inv.status]?.label ?? inv.status}</Badge> },
          { header: "Amount", className: "r", cell: (inv) => <Money nano={inv.amount_nano} /> },
          { header: "Usage cost", className: "r hide-sm", cell: (inv) => <Money nano={inv.cost_nano} /> },
          {
            header: <span className="sr-only">Actions</span>,
            actions: true,
            td: "r nowrap",
            cell: (inv) => (
              <>
                {inv.lines.length > 0 && (
                  <button type="button" className="btn btn-sm btn-ghost" aria-expanded={open === inv.id} onClick={() => setOpen(open === inv.id ? null : inv.id)}>
                    {open === inv.id ? "Hide lines" : `${inv.lines.length} line${inv.lines.length === 1 ? "" : "s"}`}
                  </button>
                )}{" "}
                {inv.hosted_url ? (
                  <a href={inv.hosted_url} target="_blank" rel="noopener noreferrer">
                    View<span className="sr-only"> invoice {inv.number} (opens in a new tab)</span> ↗
                  </a>
                ) : (
                  <span className="muted small">{inv.status === "empty" ? "not sent" : "not sent yet"}</span>
                )}
              </>
            ),
          },
        ]}
        detail={(inv) => open === inv.id && <Lines inv={inv} />}
        detailClassName="sub"
      />
      <RunDialog open={running} onClose={() => setRunning(false)} />
    </>
  );
}

/** The current month's invoice so far, built by the same code as a run. */
function UpcomingInvoice({ preview: p, error, pending, onRetry }: { preview?: InvoicePreview; error: unknown; pending: boolean; onRetry: () => void }) {
  const id = useId();
  if (error) return <ErrorState error={error} onRetry={onRetry} />;
  const markup = p ? `${trimZeros((p.markup_basis_points / 100).toFixed(2))}%` : "";
  return (
    <section className="card" aria-labelledby={`${id}-h`} data-testid="invoice-preview">
      <div className="card-head">
        <h2 id={`${id}-h`}>Upcoming invoice{p ? `: ${p.period}` : ""}</h2>
        {p && <Badge tone="blue">{p.final ? "Month ended" : "So far"}</Badge>}
      </div>
      {pending || !p ? (
        <TableSkeleton cols={4} />
      ) : (
        <>
          <p className="muted small">
            From the usage ledger as of <When iso={p.as_of} />, priced with your plan: provider cost + {markup} markup
            {toNano(p.platform_fee_nano) > 0n && <>, platform fee {formatUsd(p.platform_fee_nano)}</>}. Each line is rounded to cents once (half up);
            the total grows until the month ends.
          </p>
          {p.lines.length === 0 ? (
            <p className="muted">No usage this month yet.</p>
          ) : (
            <Lines inv={p} />
          )}
          <dl className="totals" data-testid="invoice-preview-totals">
            <div>
              <dt>Usage cost</dt>
              <dd className="num">{formatUsd(p.cost_nano)}</dd>
            </div>
            <div>
              <dt>Charge before rounding</dt>
              <dd className="num">{formatUsd(p.charge_nano)}</dd>
            </div>
            <div>
              <dt>Rounding</dt>
              <dd className="num">{formatUsd(p.rounding_nano)}</dd>
            </div>
            <div>
              <dt>Total</dt>
              <dd className="num" data-testid="invoice-preview-total">
                <strong>{formatUsd(BigInt(p.amount_cents ?? 0) * 10_000_000n, { decimals: 2 })}</strong>
              </dd>
            </div>
          </dl>
        </>
      )}
    </section>
  );
}

function trimZeros(s: string): string {
  return s.replace(/\.?0+$/, "");
}

function Lines({ inv }: { inv: Invoice }) {
  return (
    <table className="table compact">
      <thead>
        <tr>
          <th scope="col">Line</th>
          <th scope="col" className="r">
            Requests
          </th>
          <th scope="col" className="r hide-sm">
            Tokens in / out
          </th>
          <th scope="col" className="r">
            Amount
          </th>
        </tr>
      </thead>
      <tbody>
        {inv.lines.map((l) => (
          <tr key={l.line_id}>
            <td>{l.description || l.model || l.kind}</td>
            <td className="r num">{formatInt(l.requests)}</td>
            <td className="r num hide-sm" title={l.cached_tokens || l.cache_write_tokens ? `plus ${formatInt(l.cached_tokens)} cached and ${formatInt(l.cache_write_tokens)} cache-write input tokens` : undefined}>
              {formatTokens(l.input_tokens)} / {formatTokens(l.output_tokens)}
            </td>
            <td className="r num" title={`cost ${formatUsd(l.cost_nano)}, charge ${formatUsd(l.charge_nano)}, rounding ${formatUsd(l.rounding_nano)}`}>
              {formatUsd(BigInt(l.amount_cents) * 10_000_000n, { decimals: 2 })}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RunDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { tenant } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [period, setPeriod] = useState(previousPeriod());
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!/^\d{4}-\d{2}$/.test(period)) {
      setErr("The period is a month, YYYY-MM.");
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const r = await api.runInvoice(tenant, period);
      toast.success(r.duplicate ? "Already invoiced or queued" : "Invoice run queued", `${period}: job #${r.job.id} is ${r.job.state}`);
      void qc.invalidateQueries({ queryKey: qk.invoices(tenant) });
      onClose();
    } catch (x) {
      setErr(x instanceof ApiError && x.status === 409 ? `Billing is off in this deployment: ${x.message}` : errorMessage(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onClose={onClose} title="Invoice a month now" description="Runs the invoice for a month that has ended. A run per tenant and month happens once; asking again shows the existing run.">
      <form onSubmit={submit} noValidate>
        <Field id={`${id}-p`} label="Month">
          <input id={`${id}-p`} type="month" value={period} max={previousPeriod()} onChange={(e) => setPeriod(e.target.value)} />
        </Field>
        {err && <FormError message={err} />}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Queuing…" : "Run invoice"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
