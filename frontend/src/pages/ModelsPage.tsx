import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { listOf, qk } from "../api/endpoints";
import { errorMessage } from "../api/errors";
import type { ModelInfo } from "../api/types";
import { initialPriceForm, listPrices, validatePriceForm, type PriceForm } from "../billing/prices";
import { formatUsd, type Nano } from "../format/money";
import { formatTokens } from "../format/numbers";
import { EmptyState, PageHeader } from "../ui/page";
import { Badge, When } from "../ui/display";
import { PagedTable } from "../ui/PagedTable";
import { Dialog, FormError } from "../ui/dialog";
import { useToast } from "../ui/toast";

const isOverridden = (m: ModelInfo) => !!m.override || !!m.overridden;

export default function ModelsPage() {
  const { tenant, can } = useTenant();
  const models = useQuery({ queryKey: qk.models(tenant), queryFn: () => api.models(tenant) });
  const [q, setQ] = useState("");
  const [onlyOverridden, setOnlyOverridden] = useState(false);
  const [editing, setEditing] = useState<ModelInfo | null>(null);
  const all = listOf(models.data);
  const overriddenCount = all.filter(isOverridden).length;
  const rows = all
    .filter((m) => !q || `${m.id} ${m.provider ?? ""} ${m.tier ?? ""}`.toLowerCase().includes(q.toLowerCase()))
    .filter((m) => !onlyOverridden || isOverridden(m))
    .sort((a, b) => Number(b.enabled) - Number(a.enabled));
  const canEdit = can("models.editPrice");
  return (
    <>
      <PageHeader
        title="Models & prices"
        description={
          <>
            The catalog Tollgate routes to, with prices per million tokens. A negotiated price replaces the list price for this tenant's routing, budgets and
            billing from the next request. Models without a configured provider are dimmed.
          </>
        }
      />
      <PagedTable
        query={models}
        rows={rows}
        search={{
          label: "Filter models",
          placeholder: "Filter by model, provider or tier…",
          value: q,
          onChange: setQ,
          children: overriddenCount > 0 && (
            <label className="check">
              <input type="checkbox" checked={onlyOverridden} onChange={(e) => setOnlyOverridden(e.target.checked)} /> Only negotiated prices ({overriddenCount})
            </label>
          ),
        }}
        caption="Models and their prices per million tokens"
        testId="models"
        rowKey={(m) => m.id}
        rowProps={(m) => ({ className: m.enabled === false ? "dim" : undefined, "data-model": m.id, "data-price": isOverridden(m) ? "tenant" : "list" })}
        empty={
          <EmptyState
            title={q || onlyOverridden ? "No model matches" : "No models enabled"}
            body={q || onlyOverridden ? undefined : "Set a provider key (e.g. OPENAI_API_KEY) or TOLLGATE_SIM=1 on the server."}
          />
        }
        columns={[
          {
            header: "Model",
            cell: (m) => {
              const caps = [m.capabilities?.tools && "tools", m.capabilities?.vision && "vision", m.capabilities?.json && "json", m.embedding && "embeddings"].filter(Boolean).join(" · ");
              return (
                <>
                  <code>{m.id}</code> {m.enabled === false ? <Badge>no provider</Badge> : <Badge tone="green">enabled</Badge>}
                  {isOverridden(m) && <Badge tone="blue">negotiated price</Badge>}
                  {caps && <div className="muted small">{caps}</div>}
                </>
              );
            },
          },
          { header: "Provider", className: "hide-sm", cell: (m) => m.provider ?? "—" },
          { header: "Tier", cell: (m) => (m.tier ? <Badge tone={m.tier === "premium" ? "purple" : "neutral"}>{m.tier}</Badge> : "—") },
          { header: "Input / 1M", className: "r", td: "num", cell: (m) => <Price nano={m.input_per_million_nano} over={isOverridden(m)} /> },
          { header: "Cached input / 1M", className: "r hide-sm", td: "num", cell: (m) => <Price nano={m.cached_input_per_million_nano} over={isOverridden(m)} /> },
          {
            header: "Cache write / 1M",
            className: "r hide-sm",
            td: "num",
            cell: (m) => <Price nano={m.cache_write_per_million_nano ?? m.input_per_million_nano} over={isOverridden(m)} />,
          },
          { header: "Output / 1M", className: "r", td: "num", cell: (m) => <Price nano={m.output_per_million_nano} over={isOverridden(m)} /> },
          { header: "Context", className: "r hide-sm", td: "num", cell: (m) => (m.context_window ? formatTokens(m.context_window) : "—") },
          canEdit && {
            header: <span className="sr-only">Actions</span>,
            actions: true,
            className: "r",
            td: "nowrap",
            cell: (m) => (
              <button type="button" className="btn btn-sm" onClick={() => setEditing(m)} aria-label={`Edit price of ${m.id}`}>
                {isOverridden(m) ? "Edit price" : "Set price"}
              </button>
            ),
          },
        ]}
      />
      {canEdit && <PriceDialog model={editing} onClose={() => setEditing(null)} />}
    </>
  );
}

/** A price per million tokens and whose it is (the list's or the tenant's). */
function Price({ nano, over }: { nano: Nano | undefined; over: boolean }) {
  return (
    <>
      {nano === undefined ? "—" : over ? <strong title="This tenant's negotiated price">{formatUsd(nano)}</strong> : formatUsd(nano)}
      <div className="muted small">{over ? "tenant" : "list"}</div>
    </>
  );
}

type Step = "edit" | "confirm-remove";

/** Set, change or remove the tenant's price for one model. Removing asks first. */
function PriceDialog({ model, onClose }: { model: ModelInfo | null; onClose: () => void }) {
  const { tenant } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const id = useId();
  const [form, setForm] = useState<PriceForm>({ input: "", cached: "", output: "" });
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<keyof PriceForm, string>>>({});
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [step, setStep] = useState<Step>("edit");
  const removeBtn = useRef<HTMLButtonElement>(null);
  const keepBtn = useRef<HTMLButtonElement>(null);
  // Where focus goes once the step has rendered (set by the buttons that change it).
  const focusNext = useRef<"keep" | "remove" | null>(null);

  useEffect(() => {
    if (!model) return;
    setForm(initialPriceForm(model));
    setFieldErrors({});
    setErr(null);
    setStep("edit");
    focusNext.current = null;
  }, [model]);

  // Move focus with the step: to "Keep" (the safe choice) when asking, back to "Remove override…" when kept.
  useEffect(() => {
    const target = focusNext.current === "keep" ? keepBtn.current : focusNext.current === "remove" ? removeBtn.current : null;
    focusNext.current = null;
    target?.focus();
  }, [step]);

  const goto = (next: Step) => {
    focusNext.current = next === "confirm-remove" ? "keep" : "remove";
    if (next === "confirm-remove") setErr(null); // the form's errors are not the removal's
    setStep(next);
  };

  if (!model) return <Dialog open={false} title="" onClose={onClose} children={null} />;
  const over = isOverridden(model);
  const list = listPrices(model);
  const embedding = !!model.embedding;

  const refresh = () => qc.invalidateQueries({ queryKey: qk.models(tenant) });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const v = validatePriceForm(form, embedding);
    setFieldErrors(v.errors);
    if (!v.body) {
      setErr("Fix the highlighted prices.");
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const saved = await api.setModelPrice(tenant, model.id, v.body);
      toast.success("Price saved", `${model.id}: ${formatUsd(saved.input_per_million_nano)} in / ${formatUsd(saved.output_per_million_nano)} out per 1M tokens`);
      await refresh();
      onClose();
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    setErr(null);
    try {
      await api.deleteModelPrice(tenant, model.id);
      toast.success("Override removed", `${model.id} is billed at list prices again.`);
      await refresh();
      onClose();
    } catch (x) {
      setErr(errorMessage(x));
      goto("edit");
    } finally {
      setBusy(false);
    }
  };

  const field = (key: keyof PriceForm, label: string, hint: string, disabled = false) => {
    const fid = `${id}-${key}`;
    const e = fieldErrors[key];
    return (
      <div className="field">
        <label htmlFor={fid}>{label}</label>
        <div className="money-input">
          <span aria-hidden="true">$</span>
          <input
            id={fid}
            inputMode="decimal"
            autoComplete="off"
            value={form[key] ?? ""}
            disabled={disabled || busy}
            placeholder={key === "cached" || key === "write" ? "same as input" : undefined}
            aria-invalid={e ? true : undefined}
            aria-describedby={`${fid}-hint${e ? ` ${fid}-err` : ""}`}
            onChange={(ev) => setForm((f) => ({ ...f, [key]: ev.target.value }))}
          />
        </div>
        <div className="hint" id={`${fid}-hint`}>
          {hint}
        </div>
        {e && (
          <div className="field-error" id={`${fid}-err`}>
            {e}
          </div>
        )}
      </div>
    );
  };

  const priceRow = (label: string, listNano: Nano | undefined, tenantNano: Nano | undefined) => (
    <tr>
      <th scope="row">{label}</th>
      <td className="r num">{listNano === undefined ? <span className="muted">—</span> : formatUsd(listNano)}</td>
      <td className="r num">{tenantNano === undefined ? <span className="muted">—</span> : formatUsd(tenantNano)}</td>
    </tr>
  );

  return (
    <Dialog
      open={!!model}
      onClose={onClose}
      wide
      title={step === "confirm-remove" ? `Remove the negotiated price of ${model.id}?` : `Price of ${model.id}`}
      description={step === "confirm-remove" ? undefined : "USD per million tokens, exact to $0.001. Used for this tenant's routing, budgets and billing from the next request."}
    >
      {step === "confirm-remove" ? (
        <div data-testid="confirm-remove-price">
          <p>
            This tenant pays the catalog's list price for <code>{model.id}</code> again, from the next request. Spend already recorded keeps the price it was
            billed at.
          </p>
          {err && <FormError message={err} />}
          <div className="dialog-actions">
            <button type="button" className="btn" ref={keepBtn} onClick={() => goto("edit")} disabled={busy}>
              Keep the negotiated price
            </button>
            <button type="button" className="btn btn-danger" onClick={remove} disabled={busy}>
              {busy ? "Removing…" : "Remove override"}
            </button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit} noValidate>
          <table className="table compact price-compare" aria-label="List and tenant prices per million tokens">
            <thead>
              <tr>
                <th scope="col">Per 1M tokens</th>
                <th scope="col" className="r">
                  List price
                </th>
                <th scope="col" className="r">
                  This tenant now
                </th>
              </tr>
            </thead>
            <tbody>
              {priceRow("Input", list?.input, model.input_per_million_nano)}
              {priceRow("Cached input", list?.cached, model.cached_input_per_million_nano)}
              {priceRow("Cache write", model.list?.cache_write_per_million_nano ?? (list ? model.cache_write_per_million_nano : undefined), model.cache_write_per_million_nano)}
              {priceRow("Output", list?.output, model.output_per_million_nano)}
            </tbody>
          </table>
          {over ? (
            <p className="muted small">
              Negotiated price set <When iso={model.override?.updated_at} relative />. The list price is shown again once the override is removed.
            </p>
          ) : (
            <p className="muted small">This tenant pays the list price.</p>
          )}
          <div className="row-3">
            {field("input", "Input", "Required.")}
            {field("cached", "Cached input", "Empty bills cached tokens at the input price.")}
            {field("write", "Cache write", "Anthropic bills cache writes at 1.25× input; empty bills them at the input price.")}
            {field("output", "Output", embedding ? "Embeddings are priced on input only." : "Required.", embedding)}
          </div>
          {err && <FormError message={err} />}
          <div className="dialog-actions">
            {over && (
              <button type="button" className="btn btn-danger-ghost push-left" ref={removeBtn} onClick={() => goto("confirm-remove")} disabled={busy}>
                Remove override…
              </button>
            )}
            <button type="button" className="btn" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? "Saving…" : "Save price"}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
