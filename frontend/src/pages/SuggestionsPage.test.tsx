// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { Suggestion, SuggestionList } from "../api/types";
import { ToastProvider } from "../ui/toast";

const api = vi.hoisted(() => ({ suggestions: vi.fn(), applySuggestion: vi.fn() }));
const tenant = vi.hoisted(() => ({ can: vi.fn() }));
vi.mock("../app", () => ({ api, useTenant: () => ({ tenant: "acme", can: tenant.can }) }));

import SuggestionsPage, { predictedText } from "./SuggestionsPage";

const auto: Suggestion = {
  id: "sug_0123456789abcdef",
  kind: "route_auto",
  title: "Route key k1's sim-large requests as auto",
  detail: "The classifier finds 8 of the key's 12 sim-large requests easy.",
  key_id: "k1",
  model: "sim-large",
  requests: 12,
  monthly_savings_nano: 1_234_000_000,
  monthly_savings_usd: "1.234",
  window_cost_before_nano: 100,
  window_cost_after_nano: 40,
  monthly_reservation_freed_usd: "0",
  risk: "low",
  risk_note: "8 requests move to a cheaper tier",
  change: { key_id: "k1", auto_model: "sim-large" },
  predicted_models: { "sim-small": 8, "sim-large": 4 },
};
const cap: Suggestion = {
  ...auto,
  id: "sug_fedcba9876543210",
  kind: "cap_max_tokens",
  title: "Cap key k1's max_tokens at 256",
  monthly_savings_nano: 0,
  monthly_reservation_freed_nano: 5_000_000_000,
  change: { key_id: "k1", max_tokens: 256 },
};
const list: SuggestionList = { data: [auto, cap], from: "2026-11-07T00:00:00Z", to: "2026-12-07T00:00:00Z", requests: 12, truncated: false };

// jsdom has <dialog> without its modal methods.
HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
  this.setAttribute("open", "");
};
HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
  this.removeAttribute("open");
};

function renderPage() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <ToastProvider>
        <SuggestionsPage />
      </ToastProvider>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

describe("SuggestionsPage", () => {
  it("shows each suggestion's monthly saving, risk and predicted models, and applies one after confirming", async () => {
    tenant.can.mockReturnValue(true);
    api.suggestions.mockResolvedValue(list);
    api.applySuggestion.mockResolvedValue({ suggestion: auto, policy: { tiers: {} } });
    renderPage();
    const cards = await screen.findAllByTestId("suggestion");
    expect(cards.map((c) => c.dataset.kind)).toEqual(["route_auto", "cap_max_tokens"]);
    expect(cards[0].textContent).toContain("$1.23");
    expect(cards[0].textContent).toContain("low");
    expect(cards[0].textContent).toContain("sim-small × 8, sim-large × 4");
    expect(cards[1].textContent).toContain("Saves no spend");

    fireEvent.click(screen.getAllByRole("button", { name: "Apply" })[0]);
    expect(api.applySuggestion).not.toHaveBeenCalled();
    const dialog = await screen.findByRole("dialog");
    expect(dialog.textContent).toContain(auto.title);
    fireEvent.click(within(dialog).getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(api.applySuggestion).toHaveBeenCalledWith("acme", auto.id));
    expect((await screen.findByTestId("applied-suggestions")).textContent).toContain("sim-small × 8");
  });

  it("offers no Apply to a role that cannot edit routing", async () => {
    tenant.can.mockImplementation((a: string) => a !== "routing.edit");
    api.suggestions.mockResolvedValue(list);
    renderPage();
    await screen.findAllByTestId("suggestion");
    expect(screen.queryByRole("button", { name: "Apply" })).toBeNull();
  });

  it("orders predicted models by count", () => {
    expect(predictedText({ a: 1, b: 3, c: 1 })).toBe("b × 3, a × 1, c × 1");
    expect(predictedText({})).toBe("—");
  });
});
