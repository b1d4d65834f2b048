import { describe, expect, it } from "vitest";
import { parseDomains, parseHandoff, validateSSOForm, type SSOForm } from "./sso";

const form = (over: Partial<SSOForm> = {}): SSOForm => ({
  issuer: "https://login.example.com",
  clientId: "client",
  clientSecret: "secret",
  domains: "example.com",
  mapping: [{ group: "admins", role: "admin" }],
  defaultRole: "",
  groupsClaim: "",
  enabled: true,
  required: false,
  ...over,
});

describe("SSO settings form", () => {
  it("normalises domains", () => {
    expect(parseDomains(" @Example.com, example.com  other.org")).toEqual(["example.com", "other.org"]);
  });
  it("builds the request body and keeps the stored secret when none is typed", () => {
    const v = validateSSOForm(form({ clientSecret: "", mapping: [{ group: " ops ", role: "developer" }, { group: "", role: "viewer" }] }), true);
    expect(v.error).toBeNull();
    expect(v.body).toMatchObject({ client_id: "client", allowed_domains: ["example.com"], role_mapping: [{ group: "ops", role: "developer" }], groups_claim: "groups" });
    expect(v.body && "client_secret" in v.body).toBe(false);
  });
  it.each([
    [{ issuer: "login.example.com" }, "Issuer"],
    [{ clientId: " " }, "Client ID"],
    [{ clientSecret: "" }, "Client secret"],
    [{ domains: "" }, "at least one"],
    [{ domains: "*.example.com" }, "not a domain"],
  ])("refuses %o", (over, msg) => {
    const v = validateSSOForm(form(over as Partial<SSOForm>), false);
    expect(v.body).toBeNull();
    expect(v.error).toContain(msg);
  });
});

describe("SSO hand-off", () => {
  it("reads the hand-off and a local next path only", () => {
    expect(parseHandoff("#handoff=abc&next=%2Ft%2Facme%2Fkeys")).toEqual({ handoff: "abc", next: "/t/acme/keys" });
    expect(parseHandoff("#handoff=abc&next=%2F%2Fevil.example")).toEqual({ handoff: "abc", next: null });
    expect(parseHandoff("")).toEqual({ handoff: null, next: null });
  });
});
