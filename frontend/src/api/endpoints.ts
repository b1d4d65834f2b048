// One typed function per admin API endpoint (docs/admin-api.md), and the
// TanStack Query keys they are cached under. Pages use only these.

import type { ApiClient } from "./client";
import type * as T from "./types";
import type { TokenPair } from "../auth/session";
import type { Role } from "../roles/permissions";

const enc = encodeURIComponent;
const tp = (t: string) => `/tenants/${enc(t)}`;

/** Query keys: everything of a tenant sits under ["t", tenant] so one switch can drop it. */
export const qk = {
  me: ["me"] as const,
  tenants: (q = "", cursor = "") => ["tenants", { q, cursor }] as const,
  tenantsAll: ["tenants"] as const,
  /** One tenant by slug or id (does it exist, its name): the tenant gate and switcher. */
  tenantInfo: (t: string) => ["tenants", "one", t] as const,
  /** Every tenant a superadmin can switch to (one page of the maximum size). */
  tenantsSwitch: ["tenants", "switch"] as const,
  system: ["system"] as const,
  providers: ["providers"] as const,
  users: (q = "", cursor = "") => ["users", { q, cursor }] as const,
  usersAll: ["users"] as const,
  tenant: (t: string) => ["t", t] as const,
  members: (t: string, q = "", cursor = "") => ["t", t, "members", { q, cursor }] as const,
  membersAll: (t: string) => ["t", t, "members"] as const,
  invitations: (t: string) => ["t", t, "invitations"] as const,
  /** The members pickers and name lookups read (one page of the maximum size). */
  membersLookup: (t: string) => ["t", t, "members", "lookup"] as const,
  keys: (t: string, q = "", cursor = "") => ["t", t, "keys", { q, cursor }] as const,
  keysAll: (t: string) => ["t", t, "keys"] as const,
  keyNames: (t: string) => ["t", t, "keys", "names"] as const,
  audit: (t: string, q = "", cursor = "") => ["t", t, "audit", { q, cursor }] as const,
  usage: (t: string, q?: T.UsageQuery) => (q ? (["t", t, "usage", q] as const) : (["t", t, "usage"] as const)),
  events: (t: string) => ["t", t, "events"] as const,
  requests: (t: string, q: T.RequestQuery) => ["t", t, "requests", q] as const,
  projection: (t: string, users: string) => ["t", t, "usage", "projection", users] as const,
  usageImports: (t: string) => ["t", t, "usage", "imports"] as const,
  request: (t: string, id: string) => ["t", t, "requests", "one", id] as const,
  budgets: (t: string) => ["t", t, "budgets"] as const,
  alerts: (t: string) => ["t", t, "alerts"] as const,
  webhook: (t: string) => ["t", t, "webhook"] as const,
  sso: (t: string) => ["t", t, "sso"] as const,
  ssoInfo: ["sso-info"] as const,
  routing: (t: string) => ["t", t, "routing"] as const,
  routingFeedback: (t: string) => ["t", t, "routing", "feedback"] as const,
  suggestions: (t: string) => ["t", t, "suggestions"] as const,
  models: (t: string) => ["t", t, "models"] as const,
  invoices: (t: string) => ["t", t, "invoices"] as const,
  invoicePreview: (t: string) => ["t", t, "invoices", "preview"] as const,
  jobs: ["jobs"] as const,
};

/** Search and keyset paging of a list endpoint (docs/admin-api.md "Lists"). */
export interface PageQuery {
  q?: string;
  cursor?: string;
  limit?: number;
}

/** Rows per page of the paged lists (keys, members, tenants). */
export const PAGE_SIZE = 25;
/** The server's largest page (limit 1..200), for pickers that need "everyone". */
export const MAX_PAGE = 200;

/** Lists may come back as {data:[...]} or (defensively) a bare array. */
export function listOf<X>(v: T.Page<X> | X[] | undefined | null): X[] {
  if (!v) return [];
  return Array.isArray(v) ? v : (v.data ?? []);
}

export function endpoints(c: ApiClient) {
  return {
    login: (email: string, password: string) =>
      c.request<TokenPair>("/auth/login", { method: "POST", body: { email, password }, anonymous: true }),
    logout: (refresh_token: string) =>
      c.request<void>("/auth/logout", { method: "POST", body: { refresh_token }, anonymous: true }),
    ssoInfo: () => c.request<T.SSOInfo>("/auth/sso", { anonymous: true }),
    /** Starts single sign-on; the server sets the cookie binding it to this browser. */
    ssoStart: (email: string, tenant?: string, return_to?: string) =>
      c.request<{ authorize_url: string }>("/auth/sso/start", { method: "POST", body: { email, tenant: tenant || undefined, return_to }, anonymous: true }),
    ssoExchange: (handoff: string) => c.request<TokenPair>("/auth/sso/exchange", { method: "POST", body: { handoff }, anonymous: true }),
    me: () => c.get<T.Me>("/me"),
    changePassword: (current_password: string, new_password: string) => c.post<void>("/me/password", { current_password, new_password }),
    signOutEverywhere: () => c.post<void>("/me/sign-out-everywhere"),
    lookupLink: (token: string) => c.request<T.LinkSummary>("/links/lookup", { method: "POST", body: { token }, anonymous: true }),
    /** With signedIn, the current session accepts (an existing account); otherwise the password creates or resets it. */
    acceptLink: (token: string, input: { password?: string; name?: string }, signedIn = false) =>
      c.request<T.AcceptLinkResult>("/links/accept", { method: "POST", body: { token, ...input }, anonymous: !signedIn }),

    tenants: (q: PageQuery = {}) => c.get<T.Page<T.Tenant>>("/tenants", { limit: q.limit ?? PAGE_SIZE, cursor: q.cursor, q: q.q }),
    tenant: (t: string) => c.get<T.Tenant>(tp(t)),
    createTenant: (name: string) => c.post<T.Tenant>("/tenants", { name }),
    suspendTenant: (t: string) => c.post<void>(`${tp(t)}/suspend`),
    resumeTenant: (t: string) => c.post<void>(`${tp(t)}/resume`),

    members: (t: string, q: PageQuery = {}) => c.get<T.Page<T.Member>>(`${tp(t)}/members`, { limit: q.limit ?? PAGE_SIZE, cursor: q.cursor, q: q.q }),
    invitations: (t: string) => c.get<T.Page<T.Invitation>>(`${tp(t)}/invitations`),
    invite: (t: string, email: string, role: Role) => c.post<T.Invitation>(`${tp(t)}/invitations`, { email, role }),
    revokeInvitation: (t: string, id: string) => c.del<void>(`${tp(t)}/invitations/${enc(id)}`),
    changeRole: (t: string, userId: string, role: Role) => c.patch<T.Member>(`${tp(t)}/members/${enc(userId)}`, { role }),
    /** Revokes the API keys the member created unless keepKeys. */
    removeMember: (t: string, userId: string, keepKeys = false) =>
      c.request<void>(`${tp(t)}/members/${enc(userId)}`, { method: "DELETE", query: { keep_keys: keepKeys ? "true" : undefined } }),

    keys: (t: string, q: PageQuery) => c.get<T.Page<T.ApiKey>>(`${tp(t)}/keys`, { limit: q.limit ?? PAGE_SIZE, cursor: q.cursor, q: q.q }),
    createKey: (t: string, input: T.CreateKeyInput) => c.post<T.KeyWithSecret>(`${tp(t)}/keys`, input),
    revokeKey: (t: string, id: string) => c.post<void>(`${tp(t)}/keys/${enc(id)}/revoke`),
    rotateKey: (t: string, id: string, grace_seconds: number) =>
      c.post<T.KeyWithSecret>(`${tp(t)}/keys/${enc(id)}/rotate`, { grace_seconds }),

    audit: (t: string, q: { q?: string; cursor?: string }) =>
      c.get<T.Page<T.AuditEntry>>(`${tp(t)}/audit`, { limit: 50, cursor: q.cursor, q: q.q }),

    usage: (t: string, q: T.UsageQuery, signal?: AbortSignal) => c.get<T.UsageReport>(`${tp(t)}/usage`, { ...q }, signal),
    events: (t: string, cursor?: string) => c.get<T.Page<T.UsageEvent>>(`${tp(t)}/usage/events`, { cursor, limit: 50 }),
    projection: (t: string, users: string) => c.get<T.Projection>(`${tp(t)}/usage/projection`, { users }),
    requests: (t: string, q: T.RequestQuery) => c.get<T.Page<T.RequestRow>>(`${tp(t)}/requests`, { ...q, limit: 50 }),
    request: (t: string, id: string) => c.get<T.RequestRow>(`${tp(t)}/requests/${enc(id)}`),
    usageCsv: (t: string, q: T.UsageQuery) => c.request<string>(`${tp(t)}/usage.csv`, { query: { ...q }, raw: true }),
    /** Imports an export file's text as usage history (docs/usage-import.md); dryRun only counts. */
    importUsage: (t: string, format: T.UsageImportFormat, text: string, dryRun = false, fileName?: string) =>
      c.request<T.UsageImportResult>(`${tp(t)}/usage/import`, {
        method: "POST",
        query: { format, dry_run: dryRun ? "true" : undefined, file_name: fileName },
        text,
        contentType: format === "openai" ? "application/json" : "text/csv",
      }),
    usageImports: (t: string) => c.get<T.Page<T.UsageImportRun>>(`${tp(t)}/usage/imports`, { limit: 20 }),

    budgets: (t: string) => c.get<T.Page<T.Budget>>(`${tp(t)}/budgets`),
    createBudget: (t: string, input: T.CreateBudgetInput) => c.post<T.Budget>(`${tp(t)}/budgets`, input),
    previewBudget: (t: string, input: T.CreateBudgetInput) => c.post<T.BudgetPreview>(`${tp(t)}/budgets/preview`, input),
    deleteBudget: (t: string, id: string) => c.del<void>(`${tp(t)}/budgets/${enc(id)}`),
    alerts: (t: string) => c.get<T.Page<T.AlertItem>>(`${tp(t)}/alerts`),
    webhook: (t: string) => c.get<T.Webhook>(`${tp(t)}/webhook`),
    setWebhook: (t: string, url: string) => c.put<T.Webhook>(`${tp(t)}/webhook`, { url }),
    testWebhook: (t: string) => c.post<T.WebhookTestResult>(`${tp(t)}/webhook/test`),
    sso: (t: string) => c.get<T.SSOSettings>(`${tp(t)}/sso`),
    setSSO: (t: string, input: T.SSOSettingsInput) => c.put<T.SSOSettings>(`${tp(t)}/sso`, input),
    deleteSSO: (t: string) => c.del<void>(`${tp(t)}/sso`),

    routing: (t: string) => c.get<T.RoutingPolicy>(`${tp(t)}/routing`),
    setRouting: (t: string, policy: T.RoutingPolicy) => c.put<T.RoutingPolicy>(`${tp(t)}/routing`, policy),
    routingFeedback: (t: string) => c.get<T.FeedbackPage>(`${tp(t)}/routing/feedback?limit=50`),
    suggestions: (t: string) => c.get<T.SuggestionList>(`${tp(t)}/suggestions`),
    applySuggestion: (t: string, id: string) => c.post<T.AppliedSuggestion>(`${tp(t)}/suggestions/${enc(id)}/apply`),
    simulate: (t: string, policy: T.RoutingPolicy, opts: { force_auto?: boolean; days?: number } = {}) =>
      c.post<T.SimulateResult>(`${tp(t)}/routing/simulate`, { policy, ...opts }),

    models: (t: string) => c.get<T.Page<T.ModelInfo>>(`${tp(t)}/models`),
    // Model ids may hold a slash (synced OpenRouter ids): encoded, the server routes on the raw path.
    setModelPrice: (t: string, model: string, input: T.SetPriceInput) => c.put<T.ModelInfo>(`${tp(t)}/models/${enc(model)}/price`, input),
    deleteModelPrice: (t: string, model: string) => c.del<void>(`${tp(t)}/models/${enc(model)}/price`),
    invoices: (t: string) => c.get<T.Page<T.Invoice>>(`${tp(t)}/invoices`),
    invoicePreview: (t: string) => c.get<T.InvoicePreview>(`${tp(t)}/invoices/preview`),
    runInvoice: (t: string, period?: string) => c.post<T.InvoiceRunResult>(`${tp(t)}/invoices/run`, period ? { period } : {}),
    users: (q: PageQuery = {}) => c.get<T.Page<T.PlatformUser>>("/users", { limit: q.limit ?? PAGE_SIZE, cursor: q.cursor, q: q.q }),
    disableUser: (id: string) => c.post<T.PlatformUser>(`/users/${enc(id)}/disable`),
    enableUser: (id: string) => c.post<T.PlatformUser>(`/users/${enc(id)}/enable`),
    signOutUser: (id: string) => c.post<void>(`/users/${enc(id)}/sign-out`),
    setSuperadmin: (id: string, on: boolean) => c.request<void>(`/users/${enc(id)}/superadmin`, { method: on ? "PUT" : "DELETE" }),
    /** Revokes the API keys the user created unless keepKeys. */
    deleteUser: (id: string, keepKeys = false) => c.request<void>(`/users/${enc(id)}`, { method: "DELETE", query: { keep_keys: keepKeys ? "true" : undefined } }),
    system: () => c.get<T.SystemInfo>("/system"),
    providers: () => c.get<T.Page<T.Provider>>("/providers"),
    setProvider: (name: string, input: T.SetProviderInput) => c.put<T.Provider>(`/providers/${enc(name)}`, input),
    deleteProvider: (name: string) => c.del<T.Provider>(`/providers/${enc(name)}`),
    jobs: (q: { state?: string; kind?: string; limit?: number } = {}) => c.get<T.Page<T.Job>>("/jobs", { limit: q.limit ?? 20, state: q.state, kind: q.kind }),
  };
}

export type Endpoints = ReturnType<typeof endpoints>;
