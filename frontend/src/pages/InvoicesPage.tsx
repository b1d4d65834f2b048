import { useId, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { qk } from "../api/endpoints";
import { ApiError, errorMessage } from "../api/errors";
import { formatUsd } from "../format/money";
import { formatInt, formatTokens } from "../format/numbers";
import { EmptyState, PageHeader } from "../ui/page";
import { Badge, Money, When } from "../ui/display";
import { Field } from "../ui/controls";
import { PagedTable } from "../ui/PagedTable";
import { Dialog, FormError } from "../ui/dialog";
import { useToast } from "../ui/toast";
import type { Invoice } from "../api/types";
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
  const [open, setOpen] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  return (
    <>
      <PageHeader
        title="Invoices"
        description="Monthly invoices built from the usage ledger and sent through Stripe. Amounts are rounded to cents once, at invoicing."
        actions={
          can("invoices.run") && (
            <button type="button" className="btn" onClick={() => setRunning(true)}>
              Invoice a month now
            </button>
          )
        }
      />
      <PagedTable
        query={invoices}
        caption="Invoices"
        rowKey={(inv) => inv.id}
        empty={<EmptyState title="No invoices yet" body="The first invoice is created after the first billing period closes. Self-hosted installs without Stripe have none." />}
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
            <td className="r num hide-sm">
              {formatTokens(l.input_tokens)} / {formatTokens(l.output_tokens)}
            </td>
            <td className="r num" title={`cost ${formatUsd(l.cost_nano)}, charge ${formatUsd(l.charge_nano)}, rounding ${formatUsd(l.rounding_nano)}`}>
              {formatUsd(BigInt(l.amount_cents) * 10_000_000n)}
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
