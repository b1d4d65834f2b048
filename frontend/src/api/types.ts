// DTOs of the admin API (docs/admin-api.md). Fields the contract leaves open
// are marked "assumed" and read defensively by the pages.

import type { Role } from "../roles/permissions";
import type { Nano } from "../format/money";

/** A page of a list endpoint. Empty next_cursor means the last page. */
export interface Page<T> {
  data: T[];
  next_cursor?: string;
}

export interface Me {
  user: { id: string; email: string; name: string; superadmin: boolean };
  memberships: Membership[];
}

export interface Membership {
  tenant_id: string;
  tenant_slug: string;
  tenant_name: string;
  role: Role;
}

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  status?: "active" | "suspended" | string;
  suspended?: boolean;
  created_at?: string;
}

export interface Member {
  user_id: string;
  email: string;
  name: string;
  role: Role;
  created_at: string;
  /** Working API keys this member created: revoked when they are removed, unless kept. */
  live_keys?: number;
}

/** A pending invitation (POST/GET /tenants/{t}/invitations). */
export interface Invitation {
  id: string;
  email: string;
  role: Role;
  invited_by_email: string;
  created_at: string;
  expires_at: string;
  /** The one-time link: only in the answer that creates the invitation, shown once. */
  url?: string;
}

/** What a one-time link is for (POST /links/lookup). */
export interface LinkSummary {
  purpose: "invite" | "reset";
  email: string;
  role?: Role;
  tenant_slug?: string;
  tenant_name?: string;
  invited_by_email: string;
  expires_at: string;
  /** An account exists: sign in as it and accept; otherwise choose a password. */
  account_exists: boolean;
}

/** The answer of POST /links/accept; session is set when the link set the password. */
export interface AcceptLinkResult {
  purpose: "invite" | "reset";
  email: string;
  tenant_slug?: string;
  role?: Role;
  session?: { access_token: string; refresh_token: string; token_type?: string; expires_in?: number };
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[] | null;
  models: string[] | null;
  expires_at: string | null;
  created_at: string;
  created_by?: string;
  last_used_at: string | null;
  revoked_at: string | null;
  /** Requests per minute; 0/null = no limit. */
  rpm_limit: number | null;
  /** Tokens per minute; 0/null = no limit. */
  tpm_limit: number | null;
}

export interface CreateKeyInput {
  name: string;
  scopes: string[];
  models: string[];
  expires_at: string | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
}

export interface KeyWithSecret {
  key: ApiKey;
  secret: string;
}

export interface AuditEntry {
  id: string;
  actor_id: string;
  actor_email: string;
  action: string;
  target: string;
  ip: string;
  created_at: string;
  details?: unknown;
}

export interface UsageTotals {
  requests: number;
  input_tokens: number;
  cached_tokens?: number;
  output_tokens: number;
  cost_nano: Nano;
  cost_usd: string;
}

export interface UsageRow extends UsageTotals {
  day?: string;
  model?: string;
  key_id?: string;
  member_id?: string;
}

export interface UsageReport {
  totals: UsageTotals;
  series: UsageRow[];
}

export type GroupBy = "day" | "model" | "key" | "member";

export interface UsageQuery {
  from: string;
  to: string;
  /** One dimension, or "day,model" (assumed: comma list for day × model). */
  group_by: string;
  model?: string;
  key_id?: string;
  member_id?: string;
}

/** One request (GET usage/events rows, and live "request" messages, which carry no key_name). */
export interface UsageEvent {
  id: string;
  request_id?: string;
  /** The X-Request-Id the client sent, if any (correlation only; request_id is what was billed). */
  client_request_id?: string;
  created_at: string;
  model: string;
  model_requested?: string;
  provider?: string;
  key_id?: string;
  /** Only in GET usage/events, for callers that may read keys. */
  key_name?: string;
  member_id?: string;
  input_tokens: number;
  cached_tokens?: number;
  output_tokens: number;
  cost_nano: Nano;
  cost_usd?: string;
  latency_ms?: number;
  status?: "ok" | "aborted" | "error" | string;
  route_reason?: string;
}

export type Tier = "economy" | "standard" | "premium";
export const TIERS: Tier[] = ["economy", "standard", "premium"];

export interface Budget {
  id: string;
  scope: "tenant" | "key" | "member";
  scope_id: string | null;
  period: "day" | "month";
  limit_nano: Nano;
  limit_usd: string;
  hard: boolean;
  /** Alert thresholds in percent of the limit. */
  alert_at: number[] | null;
  /** Percent of the limit at which routing downgrades to a cheaper tier; null = never. */
  downgrade_at: number | null;
  /** The current period, e.g. "2026-11" or "2026-11-26". */
  period_key?: string;
  /** Settled spend of the current period. */
  spent_nano: Nano;
  spent_usd: string;
  /** Held by requests in flight. */
  reserved_nano?: Nano;
  reserved_usd?: string;
  /** "meter" (live counters) or "ledger" (when the meter cannot answer). */
  spent_source?: string;
  created_at?: string;
  updated_at?: string;
}

export interface CreateBudgetInput {
  scope: Budget["scope"];
  scope_id: string | null;
  period: Budget["period"];
  /** Decimal dollars as typed, e.g. "250.00": a string, parsed exactly by the server. */
  limit_usd: string;
  hard: boolean;
  alert_at: number[];
  downgrade_at: number | null;
}

/** An alert that fired (GET alerts rows, live "alert" messages). */
export interface AlertItem {
  id: string;
  created_at: string;
  budget_id?: string;
  period_key?: string;
  threshold?: number;
  spent_nano?: Nano;
  spent_usd?: string;
  limit_nano?: Nano;
  limit_usd?: string;
  scope?: string;
  scope_id?: string;
  period?: string;
  message?: string;
  delivered?: boolean;
  delivered_at?: string | null;
  delivery_status?: "pending" | "delivered" | "failed" | string;
  attempts?: number;
  last_error?: string;
}

export interface Webhook {
  /** "" when none is configured. */
  url: string;
  configured: boolean;
  created_at?: string;
  /** Only in the answer to PUT: the signing secret, shown once. */
  secret?: string;
  signature_header?: string;
}

export interface WebhookTestResult {
  ok: boolean;
  url?: string;
  status_code: number;
  error?: string;
  duration_ms: number;
  delivery_id: string;
}

/** routing.Policy (routing/policy.go). Zero values mean the documented defaults; unknown fields are 422. */
export interface RoutingPolicy {
  tiers: Partial<Record<Tier, string[]>>;
  /** "" = economy */
  simple_tier?: Tier | "";
  /** "" = standard */
  complex_tier?: Tier | "";
  /** 0 = 3 */
  complex_score?: number;
  rules?: RoutingRule[];
  /** "" = premium */
  max_tier?: Tier | "";
  premium_allowlist?: string[];
  refuse_denied?: boolean;
  ladder?: LadderStep[];
  ladder_explicit?: boolean;
  /** 0 = 20, negative disables pacing */
  pace_tolerance_percent?: number;
  session_affinity?: boolean;
  /** 0 = 2, negative = none */
  max_fallbacks?: number;
  fallback_explicit?: boolean;
}

export interface RoutingRule {
  name: string;
  keywords?: string[];
  min_prompt_tokens?: number;
  tools?: boolean;
  images?: boolean;
  min_code_blocks?: number;
  tier: Tier;
}

export interface LadderStep {
  at_percent: number;
  max_tier: Tier;
}

export interface SimulateResult {
  requests: number;
  skipped: number;
  from: string;
  to: string;
  days: number;
  truncated: boolean;
  force_auto: boolean;
  before_nano: Nano;
  before_usd: string;
  after_nano: Nano;
  after_usd: string;
  savings_nano: Nano;
  savings_usd: string;
  savings_percent: number;
  /** tier → request count, after (= tier_mix_after). */
  tier_mix: Record<string, number>;
  tier_mix_before: Record<string, number>;
  tier_mix_after?: Record<string, number>;
  models_before: Record<string, number>;
  models_after: Record<string, number>;
  reasons?: Record<string, number>;
}

/** A catalog model (GET models). Prices per million tokens. */
export interface ModelInfo {
  id: string;
  provider: string;
  tier: Tier | string;
  /** A configured provider serves it. */
  enabled: boolean;
  input_per_million_nano: Nano;
  input_per_million_usd: string;
  cached_input_per_million_nano?: Nano;
  cached_input_per_million_usd?: string;
  output_per_million_nano: Nano;
  output_per_million_usd: string;
  context_window?: number;
  max_output_tokens?: number;
  capabilities?: { tools?: boolean; vision?: boolean; json?: boolean };
  embedding?: boolean;
  /** The tenant's negotiated prices (the prices above already include them); null = catalog prices. */
  override: PriceOverride | null;
  overridden?: boolean;
  /** The catalog's list prices when an override replaces them; null otherwise. */
  list?: ListPrices | null;
}

/** A model's catalog list prices, per million tokens. */
export interface ListPrices {
  input_per_million_nano: Nano;
  input_per_million_usd: string;
  cached_input_per_million_nano: Nano;
  cached_input_per_million_usd: string;
  output_per_million_nano: Nano;
  output_per_million_usd: string;
}

/** A tenant's price for one model, per million tokens (GET models rows' `override`). */
export interface PriceOverride {
  input_per_million_nano: Nano;
  input_per_million_usd: string;
  /** Equals the input price when no cached price was set. */
  cached_input_per_million_nano: Nano;
  cached_input_per_million_usd: string;
  output_per_million_nano: Nano;
  output_per_million_usd: string;
  updated_at: string;
}

/** PUT models/{model}/price: decimal USD per million tokens, parsed exactly by the server. */
export interface SetPriceInput {
  input_per_million_usd: string;
  /** Omitted (or "0") bills cached input tokens at the input price. */
  cached_input_per_million_usd?: string;
  output_per_million_usd: string;
}

/** An upstream provider's effective configuration (GET /providers). The key is never returned. */
export interface Provider {
  name: "anthropic" | "openai" | "openrouter" | string;
  /** A key is set (environment or stored). */
  enabled: boolean;
  /** The effective API root (the public default when none is set). */
  base_url: string;
  base_url_source: "env" | "stored" | "default" | string;
  key_set: boolean;
  /** Where the effective key comes from: the environment wins over stored values. */
  key_source: "env" | "stored" | "" | string;
  /** Credentials are stored (sealed) for it; the environment may still override them. */
  stored: boolean;
  /** Why stored credentials cannot be used (e.g. a different TOLLGATE_MASTER_KEY). */
  stored_error?: string;
  updated_at: string | null;
  /** Only in answers to PUT/DELETE: when the change takes effect. */
  applied?: string;
}

/** PUT /providers/{name}: omit api_key to keep the stored key; empty base_url = the public default. */
export interface SetProviderInput {
  api_key?: string;
  base_url: string;
}

export interface InvoiceLine {
  line_id: string;
  kind: string;
  model?: string;
  description: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_nano: Nano;
  charge_nano: Nano;
  amount_cents: number;
  rounding_nano: Nano;
}

export interface Invoice {
  id: string;
  period: string;
  /** draft → items_added → finalized, then paid | payment_failed | voided; empty when it bills 0 cents. */
  status: string;
  amount_nano: Nano;
  amount_usd: string;
  amount_cents: number;
  cost_nano: Nano;
  cost_usd: string;
  charge_nano: Nano;
  rounding_nano: Nano;
  number: string;
  hosted_url: string;
  stripe_invoice_id: string;
  lines: InvoiceLine[];
  created_at: string;
  updated_at: string;
}

/** GET invoices/preview: the invoice a run would build for the month from the ledger now. Nothing stored or sent. */
export interface InvoicePreview extends Invoice {
  /** When the ledger was read; a running month grows after it. */
  as_of: string;
  /** True for a month that has ended. */
  final: boolean;
  /** The plan's markup on provider cost, basis points (2500 = 25%). */
  markup_basis_points: number;
  platform_fee_nano: Nano;
  /** Exact charge before rounding, decimal USD. */
  charge_usd: string;
  /** What rounding each line half-up to cents added (negative: dropped), decimal USD. */
  rounding_usd: string;
  /** False in self-host mode or without STRIPE_API_KEY: no run will send it. */
  billing_enabled: boolean;
}

/** POST budgets/preview: what a budget would mean for this period's spend, before it is saved. */
export interface BudgetPreview {
  period_key: string;
  limit_nano: Nano;
  limit_usd: string;
  hard: boolean;
  spent_nano: Nano;
  spent_usd: string;
  /** spent / limit × 100, one decimal. */
  percent: number;
  /** The scope's requests this period. */
  requests: number;
  /** This period's requests a hard limit of this size would refuse. */
  refused_requests: number;
  refused_nano: Nano;
  refused_usd: string;
  /** A hard limit that would refuse requests, or that the spend fills to 90% or more. */
  warn: boolean;
}

/** A background job (GET /jobs, and the answer to invoices/run). */
export interface Job {
  id: number;
  kind: string;
  state: string;
  queue?: string;
  attempt?: number;
  max_attempts?: number;
  args?: Record<string, unknown>;
  output?: unknown;
  errors?: { at?: string; attempt?: number; error?: string }[] | null;
  created_at: string;
  scheduled_at?: string;
  attempted_at?: string | null;
  finalized_at?: string | null;
}

export interface InvoiceRunResult {
  job: Job;
  duplicate: boolean;
}

export interface SystemTier {
  level: number;
  name: string;
  reasons?: string[];
  knobs?: Record<string, number | string>;
  deployment_mode?: string;
}

export interface SystemInfo {
  mode: string;
  tier: SystemTier;
  db: { ok: boolean; driver?: string; error?: string };
  meter: { ok: boolean; state: "ok" | "degraded" | "unavailable" | string; detail?: string; since?: string };
  redis: { ok: boolean; configured: boolean; state?: string };
  ledger?: { appended: number; inserted: number; replayed: number; flush_failures: number; pending: number; last_error?: string };
  live?: { tenants: number; subscribers: number; sent: number; dropped: number };
  queue?: Record<string, unknown>;
  errors?: string[];
}

/** The tenant's month-to-date spend, sent on connect and at most once a second after changes. */
export interface LiveSpend {
  period: string;
  period_kind: "month" | string;
  spent_nano: Nano;
  spent_usd: string;
}

export type LiveMessage =
  | { type: "request"; data: UsageEvent }
  | { type: "spend"; data: LiveSpend }
  | { type: "alert"; data: AlertItem }
  | { type: string; data?: unknown };

/** Scopes a key may carry (tenants/api_key.go KnownScopes). */
export const KEY_SCOPES: { value: string; label: string; hint: string }[] = [
  { value: "inference", label: "Inference", hint: "The OpenAI-compatible API: /v1/chat/completions, /v1/embeddings, /v1/models" },
  { value: "read:usage", label: "Read usage", hint: "Read-only usage endpoints of this tenant under /api/v1" },
];

/** A user as superadmins manage them (GET /users). */
export interface PlatformUser {
  id: string;
  email: string;
  name: string;
  superadmin: boolean;
  created_at: string;
  disabled_at: string | null;
}
