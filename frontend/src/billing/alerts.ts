// Alert history wording: scopes by name, money as currency, and a delivery state
// the reader can act on ("no webhook configured" rather than "pending" forever).
import type { AlertItem, Budget } from "../api/types";
import { formatUsd } from "../format/money";

/** Names a budget's scope for people: "Whole tenant", "Key: batch-jobs", "Member: ana@example.com". */
export type ScopeNamer = (b: Pick<Budget, "scope" | "scope_id">) => string;

/** The alert's text from its fields: scope by name, money as currency. */
export function alertText(a: AlertItem, scopeName: ScopeNamer): string {
  if (!a.scope) return a.message || "Budget alert";
  const who = scopeName({ scope: a.scope as Budget["scope"], scope_id: a.scope_id || null });
  const spent = a.spent_nano !== undefined && a.limit_nano !== undefined ? `: ${formatUsd(a.spent_nano)} of ${formatUsd(a.limit_nano)}` : "";
  const every = a.period === "day" ? "daily " : a.period === "month" ? "monthly " : "";
  return `${who}, ${every}budget reached ${a.threshold ?? "?"}%${spent}${a.period_key ? ` in ${a.period_key}` : ""}`;
}

/** The webhook delivery of an alert, as the reader can act on it. */
export function deliveryText(a: AlertItem, webhookConfigured: boolean | undefined): string | null {
  if (!a.delivery_status) return null;
  if (a.delivery_status === "delivered") return "webhook delivered";
  if (webhookConfigured === false && a.delivery_status === "pending") return "no webhook configured";
  if (webhookConfigured === undefined) return null; // the reader cannot see the webhook: say nothing rather than "pending" forever
  const tries = a.attempts ? ` (${a.attempts} attempt${a.attempts === 1 ? "" : "s"})` : "";
  return `webhook ${a.delivery_status}${tries}`;
}

