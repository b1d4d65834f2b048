import { describe, expect, it } from "vitest";
import { envVarsOf, keySourceLabel, validateProviderForm } from "./providers";

describe("envVarsOf", () => {
  it("names the variables that win", () => {
    expect(envVarsOf("openai")).toEqual({ key: "OPENAI_API_KEY", baseUrl: "OPENAI_BASE_URL" });
    expect(envVarsOf("openrouter").key).toBe("OPENROUTER_API_KEY");
  });
});

describe("keySourceLabel", () => {
  it("words the sources", () => {
    expect(keySourceLabel("env")).toBe("environment");
    expect(keySourceLabel("stored")).toBe("stored");
    expect(keySourceLabel("")).toBe("none");
  });
});

describe("validateProviderForm", () => {
  const fresh = { stored: false };
  const stored = { stored: true };
  it("sends the key and the base URL", () => {
    expect(validateProviderForm({ apiKey: "sk-1", baseUrl: " https://proxy.internal/v1 " }, fresh)).toEqual({
      body: { api_key: "sk-1", base_url: "https://proxy.internal/v1" },
      error: null,
    });
  });
  it("omits an empty key when one is stored (base URL only)", () => {
    expect(validateProviderForm({ apiKey: "", baseUrl: "" }, stored)).toEqual({ body: { base_url: "" }, error: null });
  });
  it("needs a key when none is stored", () => {
    expect(validateProviderForm({ apiKey: "", baseUrl: "" }, fresh).error).toMatch(/none is stored/);
  });
  it.each([
    ["sk 1", "", /without spaces/],
    ["sk-1\n", "", /without spaces/],
    ["x".repeat(4097), "", /4096/],
    ["sk-1", "ftp://x", /absolute http\(s\)/],
    ["sk-1", "api.openai.com/v1", /absolute http\(s\)/],
    ["sk-1", "https://user:pw@proxy/v1", /credentials/],
    ["sk-1", "https://proxy/v1?x=1", /query or fragment/],
  ])("refuses key %j with base URL %j", (apiKey, baseUrl, msg) => {
    const r = validateProviderForm({ apiKey, baseUrl }, fresh);
    expect(r.body).toBeNull();
    expect(r.error).toMatch(msg);
  });
});
