// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ApiError } from "../api/errors";

const api = vi.hoisted(() => ({
  importUsage: vi.fn(),
  usageImports: vi.fn(),
  routing: vi.fn(),
  simulate: vi.fn(),
}));
vi.mock("../app", () => ({
  api,
  useTenant: () => ({ tenant: "acme", can: () => true }),
  tenantPath: (t: string, page = "overview") => `/t/${t}/${page}`,
}));

import UsageImportPage, { problemLines } from "./UsageImportPage";

function renderPage() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <UsageImportPage />
    </QueryClientProvider>,
  );
}

const result = {
  id: "01J",
  dry_run: false,
  format: "openrouter",
  rows: 6,
  new: 6,
  updated: 0,
  unchanged: 0,
  requests: 6,
  input_tokens: 16920,
  output_tokens: 6208,
  cost_nano: 110661000,
  cost_usd: "0.110661000",
  from: "2026-11-02",
  to: "2026-11-05",
};

async function chooseFile(name: string, text: string) {
  const input = screen.getByLabelText("Export file") as HTMLInputElement;
  fireEvent.change(input, { target: { files: [new File([text], name, { type: "text/csv" })] } });
  await screen.findByText(name);
}

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

describe("UsageImportPage", () => {
  it("checks a file without writing, then imports it and shows what Tollgate would have cost", async () => {
    api.usageImports.mockResolvedValue({ data: [] });
    api.importUsage.mockResolvedValueOnce({ ...result, dry_run: true }).mockResolvedValueOnce(result);
    api.routing.mockResolvedValue({ tiers: {} });
    api.simulate.mockResolvedValue({ days: 90, requests: 6, imported_requests: 6, before_nano: 110661000, after_nano: 30000000, savings_percent: 72 });
    renderPage();
    expect(await screen.findByText("No imports yet.")).toBeTruthy();
    await chooseFile("activity.csv", "generation_id,created_at\n");

    fireEvent.click(screen.getByRole("button", { name: "Check file" }));
    const status = await screen.findByRole("status", { name: "Import result" });
    expect(status.textContent).toContain("Checked, nothing written");
    expect(api.importUsage).toHaveBeenLastCalledWith("acme", "openrouter", "generation_id,created_at\n", true, "activity.csv");
    expect(api.simulate).not.toHaveBeenCalled();

    fireEvent.click(screen.getByRole("button", { name: "Import" }));
    await waitFor(() => expect(screen.getByRole("status", { name: "Import result" }).textContent).toContain("Imported: 6 new"));
    expect(api.importUsage).toHaveBeenLastCalledWith("acme", "openrouter", "generation_id,created_at\n", false, "activity.csv");
    expect(screen.getByRole("link", { name: "See it in Usage" }).getAttribute("href")).toBe("/t/acme/usage?from=2026-11-02&to=2026-11-05&group_by=api");
    const whatIf = await screen.findByRole("region", { name: "What Tollgate would have cost" });
    expect(whatIf.textContent).toContain("6 of them imported");
    expect(whatIf.textContent).toContain("72% saved");
    expect(api.simulate).toHaveBeenCalledWith("acme", { tiers: {} }, { force_auto: true, days: 90 });
  });

  it("lists every malformed row on its own line and picks the format from the file name", async () => {
    api.usageImports.mockResolvedValue({ data: [] });
    api.importUsage.mockRejectedValue(
      new ApiError(
        422,
        '2 malformed rows; nothing was imported; fix them and import the file again\nline 3: model is empty\nline 7: tokens_prompt "x" is not a whole number',
        "invalid_request_error",
        "validation_failed",
      ),
    );
    renderPage();
    await chooseFile("usage.json", "{}");
    expect((screen.getByLabelText("Format") as HTMLSelectElement).value).toBe("openai");
    fireEvent.click(screen.getByRole("button", { name: "Import" }));
    const alert = await screen.findByRole("alert", { name: "Import refused" });
    expect(alert.textContent).toContain("2 malformed rows; nothing was imported");
    const rows = within(screen.getByRole("list", { name: "Malformed rows" })).getAllByRole("listitem").map((li) => li.textContent);
    expect(rows).toEqual(["line 3: model is empty", 'line 7: tokens_prompt "x" is not a whole number']);
    expect(api.importUsage).toHaveBeenCalledWith("acme", "openai", "{}", false, "usage.json");
    expect(screen.queryByRole("status", { name: "Import result" })).toBeNull();
  });

  it("splits a one-line error into a summary without rows", () => {
    expect(problemLines("the export file is empty")).toEqual({ summary: "the export file is empty", lines: [] });
  });
});
