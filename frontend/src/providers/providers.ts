// Provider settings (GET/PUT/DELETE /providers): labels, the environment
// variables that win over stored values, and the form's checks, which mirror
// routing.SetProviderInput.Validate so most mistakes are caught before a 422.

import type { Provider, SetProviderInput } from "../api/types";

export const PROVIDER_LABEL: Record<string, string> = {
  anthropic: "Anthropic",
  openai: "OpenAI",
  openrouter: "OpenRouter",
};

/** The environment variables that override a provider's stored key and base URL. */
export function envVarsOf(name: string): { key: string; baseUrl: string } {
  const p = name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  return { key: `${p}_API_KEY`, baseUrl: `${p}_BASE_URL` };
}

/** Where a value comes from, in words. */
export function keySourceLabel(source: string): string {
  switch (source) {
    case "env":
      return "environment";
    case "stored":
      return "stored";
    case "default":
      return "default";
    case "":
      return "none";
    default:
      return source;
  }
}

export interface ProviderForm {
  apiKey: string;
  baseUrl: string;
}

/** Checks the form; the body omits api_key when none was typed (the stored key is kept). */
export function validateProviderForm(f: ProviderForm, p: Pick<Provider, "stored">): { body: SetProviderInput; error: null } | { body: null; error: string } {
  const problems: string[] = [];
  const key = f.apiKey;
  const baseUrl = f.baseUrl.trim();
  if (key.length > 4096 || /\s/.test(key)) problems.push("The API key must be at most 4096 characters, without spaces or line breaks.");
  if (!key && !p.stored) problems.push("Enter the API key: none is stored yet.");
  if (baseUrl) {
    let u: URL | null = null;
    try {
      u = new URL(baseUrl);
    } catch {
      u = null;
    }
    if (!u || !u.host || (u.protocol !== "http:" && u.protocol !== "https:")) problems.push("The base URL must be an absolute http(s) URL, e.g. https://api.example.com/v1.");
    else if (u.username || u.password) problems.push("The base URL must not carry credentials: put the key in the API key field.");
    else if (u.search || u.hash) problems.push("The base URL must not have a query or fragment.");
  }
  if (problems.length) return { body: null, error: problems.join(" ") };
  const body: SetProviderInput = { base_url: baseUrl };
  if (key) body.api_key = key;
  return { body, error: null };
}
