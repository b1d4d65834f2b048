// Small billing rules the pages share, kept pure for tests.

import type { Budget } from "../api/types";

type BudgetKey = Pick<Budget, "scope" | "scope_id" | "period">;

/** True when a budget of this scope and period exists: POST budgets then replaces it (200) instead of creating one (201). */
export function replacesBudget(existing: BudgetKey[], b: BudgetKey): boolean {
  return existing.some((x) => x.scope === b.scope && (x.scope_id ?? null) === (b.scope_id ?? null) && x.period === b.period);
}

/** The previous calendar month in UTC, "YYYY-MM": the default invoice period. */
export function previousPeriod(now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}
