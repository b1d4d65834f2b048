// Savings suggestions (GET suggestions): the changes that would have saved
// money over the last 30 days, each replayed through the real router, with
// its monthly saving, its quality risk and the models that would answer.
// Apply merges the change into the routing policy (audited) and the next
// request routes by it.

import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, useTenant } from "../app";
import { qk } from "../api/endpoints";
import type { Suggestion } from "../api/types";
import { EmptyState, ErrorState, PageHeader, Skeleton } from "../ui/page";
import { Badge, Money } from "../ui/display";
import { ConfirmDialog } from "../ui/dialog";
import { useToast } from "../ui/toast";

const RISK_TONE = { low: "green", medium: "amber", high: "red" } as const;

const KIND_LABEL: Record<Suggestion["kind"], string> = {
  route_auto: "Route as auto",
  cheaper_model: "Cheaper equivalent",
  prompt_cache: "Prompt caching",
  cap_max_tokens: "Cap max_tokens",
};

/** The models that answer the affected requests after the change, most first. */
export function predictedText(p: Suggestion["predicted_models"]): string {
  const rows = Object.entries(p ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return rows.length ? rows.map(([m, n]) => `${m} × ${n}`).join(", ") : "—";
}

export default function SuggestionsPage() {
  const { tenant, can } = useTenant();
  const qc = useQueryClient();
  const toast = useToast();
  const list = useQuery({ queryKey: qk.suggestions(tenant), queryFn: () => api.suggestions(tenant) });
  const [confirm, setConfirm] = useState<Suggestion | null>(null);
  const [applied, setApplied] = useState<Suggestion[]>([]);
  const apply = useMutation({
    mutationFn: (s: Suggestion) => api.applySuggestion(tenant, s.id),
    onSuccess: (res) => {
      setApplied((a) => [...a, res.suggestion]);
      toast.success("Suggestion applied", `${res.suggestion.title}. The next requests route by it.`);
      void qc.invalidateQueries({ queryKey: qk.suggestions(tenant) });
      void qc.invalidateQueries({ queryKey: qk.routing(tenant) });
    },
  });
  const editable = can("routing.edit");
  return (
    <>
      <PageHeader
        title="Savings"
        description="Changes that would have saved money over the last 30 days: each one replayed through the router on your own traffic, at your prices."
      />
      {applied.length > 0 && (
        <section className="card" aria-label="Applied suggestions" data-testid="applied-suggestions">
          <h2>Applied</h2>
          <ul>
            {applied.map((s) => (
              <li key={s.id}>
                {s.title}: expect {predictedText(s.predicted_models)}
              </li>
            ))}
          </ul>
        </section>
      )}
      {list.isPending ? (
        <Skeleton lines={6} />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => list.refetch()} />
      ) : list.data.data.length === 0 ? (
        <EmptyState
          title="No savings suggestions"
          body={`Nothing in the last 30 days (${list.data.requests.toLocaleString()} requests) would have cost less under another policy.`}
        />
      ) : (
        <>
          <p className="muted">
            From {list.data.requests.toLocaleString()} requests{list.data.truncated ? " (the newest 50,000)" : ""} of the last 30 days.
          </p>
          {list.data.data.map((s) => (
            <SuggestionCard key={s.id} s={s} editable={editable} onApply={() => setConfirm(s)} />
          ))}
        </>
      )}
      <ConfirmDialog
        open={!!confirm}
        title="Apply this suggestion?"
        danger={false}
        confirmLabel="Apply"
        body={
          confirm && (
            <p>
              {confirm.title}. The routing policy changes now (recorded in the audit log); undo it on the Routing page.
            </p>
          )
        }
        onConfirm={() => (confirm ? apply.mutateAsync(confirm) : Promise.resolve())}
        onClose={() => setConfirm(null)}
      />
    </>
  );
}

function SuggestionCard({ s, editable, onApply }: { s: Suggestion; editable: boolean; onApply: () => void }) {
  const freesOnly = BigInt(s.monthly_savings_nano) === 0n && BigInt(s.monthly_reservation_freed_nano ?? 0) > 0n;
  return (
    <section className="card" aria-labelledby={`sg-${s.id}`} data-testid="suggestion" data-kind={s.kind} data-id={s.id}>
      <div className="card-head">
        <h2 id={`sg-${s.id}`}>{s.title}</h2>
        <Badge tone="blue">{KIND_LABEL[s.kind]}</Badge>
      </div>
      <p>
        {freesOnly ? (
          <>
            Saves no spend; holds <Money nano={s.monthly_reservation_freed_nano ?? 0} /> less budget in reservations a month.
          </>
        ) : (
          <>
            Saves <strong data-testid="monthly-savings"><Money nano={s.monthly_savings_nano} /></strong> a month
          </>
        )}{" "}
        · quality risk <Badge tone={RISK_TONE[s.risk]}>{s.risk}</Badge>
      </p>
      <p>{s.detail}</p>
      <p className="muted">Risk: {s.risk_note}</p>
      <p className="muted" data-testid="predicted">
        {s.key_id && <>Key {s.key_name || s.key_id}: </>}
        {s.requests.toLocaleString()} requests; after the change: {predictedText(s.predicted_models)}
      </p>
      {editable && (
        <button type="button" className="btn btn-primary btn-sm" onClick={onApply}>
          Apply
        </button>
      )}
    </section>
  );
}
