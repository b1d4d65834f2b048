import { describe, expect, it } from "vitest";
import { alertText, deliveryText } from "./alerts";
import type { AlertItem } from "../api/types";

const names = (b: { scope: string; scope_id: string | null }) => (b.scope === "key" ? `Key: ${b.scope_id === "key_1" ? "batch-jobs" : b.scope_id}` : "Whole tenant");

const alert: AlertItem = {
  id: "alr_1",
  budget_id: "bud_1",
  created_at: "2026-12-07T10:00:00Z",
  threshold: 80,
  spent_nano: 2_960_000_000,
  spent_usd: "2.960000000",
  limit_nano: 3_700_000_000,
  limit_usd: "3.700000000",
  scope: "key",
  scope_id: "key_1",
  period: "month",
  period_key: "2026-12",
  message: "Spend reached 80% of the month budget of key key_1 ($2.960000000 of $3.700000000) in 2026-12.",
  delivery_status: "pending",
  attempts: 0,
  delivered: false,
  delivered_at: null,
};

describe("alert wording", () => {
  it("names the scope and formats money as currency", () => {
    expect(alertText(alert, names)).toBe("Key: batch-jobs, monthly budget reached 80%: $2.96 of $3.70 in 2026-12");
  });
  it("falls back to the server's message for a deleted budget", () => {
    expect(alertText({ ...alert, scope: undefined }, names)).toBe(alert.message);
  });
  it("says no webhook is configured instead of pending forever", () => {
    expect(deliveryText(alert, false)).toBe("no webhook configured");
    expect(deliveryText(alert, true)).toBe("webhook pending");
    expect(deliveryText({ ...alert, delivery_status: "failed", attempts: 2 }, true)).toBe("webhook failed (2 attempts)");
    expect(deliveryText({ ...alert, delivery_status: "delivered" }, false)).toBe("webhook delivered");
    // A reader who cannot see the webhook is told nothing rather than "pending".
    expect(deliveryText(alert, undefined)).toBeNull();
  });
});
