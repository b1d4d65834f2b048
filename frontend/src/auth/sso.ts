// Single sign-on helpers: the settings form's checks (the server checks again
// and has the last word) and reading the callback's one-time hand-off.

import type { SSOGroupRole, SSOSettingsInput } from "../api/types";
import type { Role } from "../roles/permissions";

export interface SSOForm {
  issuer: string;
  clientId: string;
  /** Typed only to set or replace the stored secret; never prefilled. */
  clientSecret: string;
  /** Comma- or space-separated domains. */
  domains: string;
  mapping: SSOGroupRole[];
  defaultRole: Role | "";
  groupsClaim: string;
  enabled: boolean;
  required: boolean;
}

/** Splits, trims, lowercases and de-duplicates a domain list ("@x.com" counts as "x.com"). */
export function parseDomains(s: string): string[] {
  const out: string[] = [];
  for (const raw of s.split(/[\s,]+/)) {
    const d = raw.trim().replace(/^@/, "").toLowerCase();
    if (d && !out.includes(d)) out.push(d);
  }
  return out;
}

const DOMAIN = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Checks the form and builds the request body, or says what to fix. */
export function validateSSOForm(f: SSOForm, secretStored: boolean): { body: SSOSettingsInput; error: null } | { body: null; error: string } {
  const fail = (error: string) => ({ body: null, error }) as const;
  let u: URL;
  try {
    u = new URL(f.issuer.trim());
  } catch {
    return fail("Issuer URL: enter the provider's issuer, like https://login.example.com.");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return fail("Issuer URL must start with https://.");
  if (!f.clientId.trim()) return fail("Client ID is required.");
  if (!secretStored && !f.clientSecret) return fail("Client secret is required the first time.");
  const domains = parseDomains(f.domains);
  if (domains.length === 0) return fail("Allowed email domains: enter at least one, like example.com.");
  const bad = domains.find((d) => !DOMAIN.test(d));
  if (bad) return fail(`Allowed email domains: “${bad}” is not a domain like example.com.`);
  const mapping = f.mapping.map((m) => ({ group: m.group.trim(), role: m.role })).filter((m) => m.group !== "");
  const body: SSOSettingsInput = {
    issuer: f.issuer.trim(),
    client_id: f.clientId.trim(),
    allowed_domains: domains,
    role_mapping: mapping,
    default_role: f.defaultRole,
    groups_claim: f.groupsClaim.trim() || "groups",
    enabled: f.enabled,
    required: f.required,
  };
  if (f.clientSecret) body.client_secret = f.clientSecret;
  return { body, error: null };
}

/** Reads "#handoff=...&next=..." from the callback redirect; next only when it is a console path. */
export function parseHandoff(hash: string): { handoff: string | null; next: string | null } {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const next = p.get("next");
  return { handoff: p.get("handoff"), next: next && next.startsWith("/") && !next.startsWith("//") ? next : null };
}
