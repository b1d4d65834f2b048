// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ApiError } from "../api/errors";

const api = vi.hoisted(() => ({
  ssoInfo: vi.fn(),
  ssoStart: vi.fn(),
  ssoExchange: vi.fn(),
  login: vi.fn(),
}));
const session = vi.hoisted(() => ({ login: vi.fn() }));
vi.mock("../app", () => ({ api, session }));

import { LoginPage, SSOCallbackPage } from "./LoginPage";

function renderWith(node: React.ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={qc}>{node}</QueryClientProvider>);
}

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
  window.history.replaceState(null, "", "/");
});

describe("LoginPage single sign-on", () => {
  it("offers SSO only when the server does", async () => {
    api.ssoInfo.mockResolvedValue({ enabled: false, source: "" });
    renderWith(<LoginPage />);
    await waitFor(() => expect(api.ssoInfo).toHaveBeenCalled());
    expect(screen.queryByRole("button", { name: "Sign in with SSO" })).toBeNull();
  });

  it("asks for the email first, then for the tenant when the domain is ambiguous", async () => {
    api.ssoInfo.mockResolvedValue({ enabled: true, source: "tenant" });
    api.ssoStart.mockRejectedValueOnce(new ApiError(409, "several organisations sign in people at shared.test; enter your tenant's name (slug) too", "conflict", "sso_ambiguous"));
    renderWith(<LoginPage />);
    const sso = await screen.findByRole("button", { name: "Sign in with SSO" });
    fireEvent.click(sso);
    expect((await screen.findByRole("alert")).textContent).toContain("Enter your work email first");
    expect(api.ssoStart).not.toHaveBeenCalled();

    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "ada@shared.test" } });
    fireEvent.click(sso);
    expect(await screen.findByLabelText("Tenant")).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toContain("several organisations");

    api.ssoStart.mockReturnValueOnce(new Promise(() => {})); // the browser would leave for the provider
    fireEvent.change(screen.getByLabelText("Tenant"), { target: { value: "acme" } });
    fireEvent.click(sso);
    expect(api.ssoStart).toHaveBeenLastCalledWith("ada@shared.test", "acme", undefined);
  });

  it("shows why the provider's sign-in failed", async () => {
    api.ssoInfo.mockResolvedValue({ enabled: true, source: "tenant" });
    window.history.replaceState(null, "", "/login?sso_error=" + encodeURIComponent("your identity provider has not verified your email address"));
    renderWith(<LoginPage />);
    expect((await screen.findByRole("alert")).textContent).toContain("has not verified your email");
  });
});

describe("SSOCallbackPage", () => {
  it("trades the hand-off once, clears it from the address bar and signs in", async () => {
    window.history.replaceState(null, "", "/login/sso#handoff=h-123&next=%2Ft%2Facme%2Fkeys");
    const pair = { access_token: "a", refresh_token: "r" };
    api.ssoExchange.mockResolvedValue(pair);
    renderWith(<SSOCallbackPage />);
    await waitFor(() => expect(session.login).toHaveBeenCalledWith(pair));
    expect(api.ssoExchange).toHaveBeenCalledTimes(1);
    expect(api.ssoExchange).toHaveBeenCalledWith("h-123");
    expect(window.location.hash).toBe("");
    expect(window.location.pathname + window.location.search).toBe("/login?next=%2Ft%2Facme%2Fkeys");
  });

  it("says so when the hand-off is missing", async () => {
    window.history.replaceState(null, "", "/login/sso");
    renderWith(<SSOCallbackPage />);
    expect((await screen.findByRole("alert")).textContent).toContain("incomplete");
    expect(api.ssoExchange).not.toHaveBeenCalled();
  });
});
