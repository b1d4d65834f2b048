// The one HTTP client for the admin API (docs/admin-api.md). Every call goes
// through request(): it adds the bearer token, turns the error envelope into
// ApiError, and on a 401 refreshes the session once and retries once; if that
// fails too, the session logs out and the app shows the login page.

import { ApiError, errorFromBody } from "./errors";
import type { Session, TokenPair } from "../auth/session";

export const API_BASE = "/api/v1";

export type Query = Record<string, string | number | boolean | null | undefined | string[]>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Query;
  body?: unknown;
  /** Skip the bearer token and the refresh-on-401 (login, refresh). */
  anonymous?: boolean;
  /** Read the body as text (CSV) instead of JSON. */
  raw?: boolean;
  /** Send this text as the body as it is (an uploaded export), with contentType. */
  text?: string;
  contentType?: string;
  signal?: AbortSignal;
}

/** Builds "/api/v1/path?x=1" skipping empty values; arrays repeat the key. */
export function buildUrl(path: string, query?: Query): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => qs.append(k, x));
    else qs.set(k, String(v));
  }
  const s = qs.toString();
  return `${API_BASE}${path}${s ? "?" + s : ""}`;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClient {
  request<T>(path: string, opts?: RequestOptions): Promise<T>;
  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body?: unknown): Promise<T>;
  patch<T>(path: string, body?: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
  /** Raw refresh call used by the Session (no token, no retry). */
  refreshTokens(refreshToken: string): Promise<TokenPair>;
}

export function createClient(session: Session, fetchFn: FetchLike = (i, init) => fetch(i, init)): ApiClient {
  async function once(path: string, opts: RequestOptions, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: opts.raw ? "text/csv, */*" : "application/json" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (opts.text !== undefined) headers["Content-Type"] = opts.contentType ?? "text/plain";
    if (token && !opts.anonymous) headers.Authorization = `Bearer ${token}`;
    try {
      return await fetchFn(buildUrl(path, opts.query), {
        method: opts.method ?? "GET",
        headers,
        body: opts.text ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
        signal: opts.signal,
      });
    } catch (e) {
      if ((e as Error)?.name === "AbortError") throw e;
      throw new ApiError(0, "Can't reach the Tollgate server. Check your connection and try again.");
    }
  }

  async function parse<T>(res: Response, raw: boolean | undefined): Promise<T> {
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (!res.ok) {
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON (e.g. a proxy's HTML page): fall back to a generic message */
      }
      throw errorFromBody(res.status, body);
    }
    if (raw) return text as T;
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, "The server sent a response the console could not read.");
    }
  }

  async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    let res = await once(path, opts, session.accessToken);
    if (res.status === 401 && !opts.anonymous) {
      const fresh = await session.refresh(); // single-flight; logs out on failure
      if (!fresh) throw errorFromBody(401, null);
      res = await once(path, opts, fresh);
      if (res.status === 401) {
        session.logout("expired");
      }
    }
    return parse<T>(res, opts.raw);
  }

  const client: ApiClient = {
    request,
    get: (p, query, signal) => request(p, { query, signal }),
    post: (p, body) => request(p, { method: "POST", body }),
    put: (p, body) => request(p, { method: "PUT", body }),
    patch: (p, body) => request(p, { method: "PATCH", body }),
    del: (p) => request(p, { method: "DELETE" }),
    refreshTokens: (refresh_token) =>
      request<TokenPair>("/auth/refresh", { method: "POST", body: { refresh_token }, anonymous: true }),
  };
  return client;
}
