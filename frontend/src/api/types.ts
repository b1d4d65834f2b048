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
  /** assumed: "active" | "suspended" */
  status?: string;
  suspended?: boolean;
  created_at?: string;
}

export interface Member {
  user_id: string;
  email: string;
  name: string;
  role: Role;
  created_at: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[] | null;
  models: string[] | null;
  expires_at: string | null;
  created_at: string;
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

/** One request in the recent feed (GET usage/events, and live "request" messages). Shape assumed beyond the contract. */
export interface UsageEvent {
  id: string;
  request_id?: string;
  created_at: string;
  model: string;
  key_id?: string;
  key_name?: string;
  member_id?: string;
  input_tokens: number;
  output_tokens: number;
  cost_nano: Nano;
  cost_usd?: string;
  latency_ms?: number;
  status?: number | string;
  route_reason?: string;
}

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
  spent_nano: Nano;
  spent_usd: string;
}

export interface CreateBudgetInput {
  scope: Budget["scope"];
  scope_id: string | null;
  period: Budget["period"];
  /** Decimal dollars as typed, e.g. "250.00" (assumed: string keeps it exact). */
  limit_usd: string;
  hard: boolean;
  alert_at: number[];
  downgrade_at: number | null;
}

/** An alert that fired (GET alerts, live "alert" messages). Shape assumed. */
export interface AlertItem {
  id: string;
  created_at: string;
  budget_id?: string;
  threshold?: number;
  kind?: string;
  message?: string;
  spent_nano?: Nano;
  limit_nano?: Nano;
  delivered?: boolean;
  delivery_status?: string;
}

export interface Webhook {
  url: string;
}

/** Routing policy. The contract names it only; this shape is assumed, and unknown fields are preserved. */
export interface RoutingPolicy {
  default_tier?: string;
  tiers?: RoutingTier[];
  rules?: RoutingRule[];
  premium_allowlist?: string[];
  [extra: string]: unknown;
}

export interface RoutingTier {
  name: string;
  models: string[];
  [extra: string]: unknown;
}

export interface RoutingRule {
  name?: string;
  /** e.g. "prompt_tokens > 2000" or "budget_used_pct >= 80" */
  when: string;
  tier: string;
  [extra: string]: unknown;
}

export interface SimulateResult {
  before_nano: Nano;
  after_nano: Nano;
  before_usd: string;
  after_usd: string;
  /** tier → share (0–1) or request count; normalized for display. */
  tier_mix: Record<string, number> | { tier: string; share?: number; requests?: number }[];
}

/** A catalog model (GET models). Assumed field names; prices per million tokens. */
export interface ModelInfo {
  id: string;
  provider?: string;
  tier?: string;
  enabled?: boolean;
  input_per_million_nano?: Nano;
  output_per_million_nano?: Nano;
  input_per_million_usd?: string;
  output_per_million_usd?: string;
  override?: Partial<Pick<ModelInfo, "input_per_million_nano" | "output_per_million_nano" | "input_per_million_usd" | "output_per_million_usd">> | null;
  overridden?: boolean;
  context_window?: number;
}

export interface Invoice {
  id: string;
  period: string;
  status: string;
  amount_nano: Nano;
  amount_usd: string;
  number: string;
  hosted_url: string | null;
}

export interface SystemInfo {
  tier: number | string | { level?: number; name?: string };
  db: { ok: boolean; [k: string]: unknown };
  redis: { ok: boolean; configured: boolean; [k: string]: unknown };
  queue: Record<string, unknown>;
  [k: string]: unknown;
}

export type LiveMessage =
  | { type: "request"; data: UsageEvent }
  | { type: "spend"; data: { spent_nano?: Nano; period?: string; budget_id?: string; [k: string]: unknown } }
  | { type: "alert"; data: AlertItem }
  | { type: string; data?: unknown };

/** Scopes offered when creating a key. The contract names only read:usage; the rest are assumed. */
export const KEY_SCOPES: { value: string; label: string; hint: string }[] = [
  { value: "chat", label: "Chat completions", hint: "POST /v1/chat/completions" },
  { value: "embeddings", label: "Embeddings", hint: "POST /v1/embeddings" },
  { value: "models", label: "List models", hint: "GET /v1/models" },
  { value: "read:usage", label: "Read usage", hint: "Read-only usage endpoints of this tenant" },
];
