// DTOs of the admin API, derived from api/openapi.json: schema.d.ts is generated
// from it by `npm run gen:api` (openapi-typescript) and checked to be current by
// schema.test.ts. Pages import these names, never the generated file.
// Only what the document does not describe is written here: the page envelope
// (generic), query parameters, the live feed's WebSocket messages and UI lists.

import type { Nano } from "../format/money";
import type { components, paths } from "./schema";

type S = components["schemas"];

/** A page of a list endpoint (the *Page schemas). Empty next_cursor means the last page. */
export interface Page<T> {
  data: T[];
  next_cursor?: string;
}

export type Me = S["Me"];
export type Membership = Me["memberships"][number];
export type Tenant = S["Tenant"];
export type Member = S["Member"];
/** A pending invitation (POST/GET /tenants/{t}/invitations); url only in the answer that creates it. */
export type Invitation = S["Invitation"];
/** What a one-time link is for (POST /links/lookup). */
export type LinkSummary = S["LinkSummary"];
/** The answer of POST /links/accept; session is set when the link set the password. */
export type AcceptLinkResult = S["AcceptLinkResult"];

export type ApiKey = S["APIKey"];
export type CreateKeyInput = S["CreateKeyRequest"];
export type KeyWithSecret = S["KeyWithSecret"];
export type AuditEntry = S["AuditEntry"];

export type UsageTotals = S["UsageTotals"];
export type UsageRow = S["UsagePoint"];
export type UsageReport = S["UsageReport"];
export type GroupBy = "day" | "model" | "key" | "member" | "api";

export interface UsageQuery {
  from: string;
  to: string;
  /** One dimension, or "day,model" (assumed: comma list for day × model). */
  group_by: string;
  model?: string;
  key_id?: string;
  member_id?: string;
  /** Served usage, imported history, or both (the server's default). */
  source?: UsageSource;
}

export type UsageSource = "all" | "served" | "imported";

/** An export format POST usage/import reads. */
export type UsageImportFormat = "openrouter" | "openai";
/** What an import changed (or, dry, would change). */
export type UsageImportResult = S["UsageImportResult"];
/** A past import run (GET usage/imports). */
export type UsageImportRun = S["UsageImportRun"];

/** One request (GET usage/events rows, and live "request" messages, which carry no key_name). */
export type UsageEvent = S["UsageEvent"];

/** A spend projection (GET usage/projection). */
export type Projection = S["Projection"];

/** One request of the explorer, served or refused (GET requests). */
export type RequestRow = S["Request"];

/** The explorer's server-side filters (GET requests); "" or undefined means any. */
export interface RequestQuery {
  from?: string;
  to?: string;
  /** ok, refused, or an HTTP status such as 429. */
  status?: string;
  key_id?: string;
  member_id?: string;
  model?: string;
  route_reason?: string;
  /** Dollars, e.g. "0.01". */
  min_cost?: string;
  max_cost?: string;
  cursor?: string;
}

export type Tier = NonNullable<S["Model"]["tier"]>;
export const TIERS: Tier[] = ["economy", "standard", "premium"];

export type Budget = S["Budget"];
export type CreateBudgetInput = S["SetBudgetRequest"];
/** An alert that fired (GET alerts rows, live "alert" messages). */
export type AlertItem = S["Alert"];
export type Webhook = S["Webhook"];
export type WebhookTestResult = S["WebhookTestResult"];

/** Single sign-on: whether the sign-in page offers it, and a tenant's provider settings. */
export type SSOInfo = S["SSOInfo"];
export type SSOSettings = S["SSOSettings"];
export type SSOSettingsInput = S["SSOSettingsInput"];
export type SSOGroupRole = S["SSOGroupRole"];

/** routing.Policy. Zero values mean the documented defaults; unknown fields are 422. */
export type RoutingPolicy = S["RoutingPolicy"];
export type RoutingRule = NonNullable<RoutingPolicy["rules"]>[number];
export type LadderStep = NonNullable<RoutingPolicy["ladder"]>[number];
export type SimulateResult = S["SimulateResult"];
export type Suggestion = S["Suggestion"];
export type SuggestionList = S["SuggestionList"];
export type AppliedSuggestion = S["AppliedSuggestion"];
/** Feedback on routed requests (POST /v1/feedback) and the threshold calibration. */
export type FeedbackItem = S["Feedback"];
export type FeedbackPage = S["FeedbackPage"];

/** A catalog model (GET models). Prices per million tokens. */
export type ModelInfo = S["Model"];
/** A model's catalog list prices, per million tokens. */
export type ListPrices = NonNullable<ModelInfo["list"]>;
/** A tenant's price for one model, per million tokens (GET models rows' `override`). */
export type PriceOverride = S["PriceOverride"];
export type SetPriceInput = S["SetPriceRequest"];
/** An upstream provider's effective configuration (GET /providers). The key is never returned. */
export type Provider = S["Provider"];
export type SetProviderInput = S["SetProviderRequest"];

export type InvoiceLine = S["InvoiceLine"];
export type Invoice = S["Invoice"];
/** GET invoices/preview: the invoice a run would build for the month from the ledger now. Nothing stored or sent. */
export type InvoicePreview = S["InvoicePreview"];
/** POST budgets/preview: what a budget would mean for this period's spend, before it is saved. */
export type BudgetPreview = S["BudgetPreview"];
/** A background job (GET /jobs, and the answer to invoices/run). */
export type Job = S["Job"];
export type InvoiceRunResult = paths["/api/v1/tenants/{tenant}/invoices/run"]["post"]["responses"][202]["content"]["application/json"];

export type SystemInfo = S["System"];
export type SystemTier = NonNullable<SystemInfo["tier"]>;

/** A user as superadmins manage them (GET /users). */
export type PlatformUser = S["PlatformUser"];

// The live feed (GET /tenants/{t}/live) is a WebSocket; its messages are
// described in prose only, so they are typed here.

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

/** A scope a key may carry. */
export type KeyScope = ApiKey["scopes"][number];

/** Scopes a key may carry (tenants/api_key.go KnownScopes). */
export const KEY_SCOPES: { value: KeyScope; label: string; hint: string }[] = [
  { value: "inference", label: "Inference", hint: "The OpenAI-compatible API: /v1/chat/completions, /v1/embeddings, /v1/models" },
  { value: "read:usage", label: "Read usage", hint: "Read-only usage endpoints of this tenant under /api/v1" },
];

