// Pure state for the live feed (GET /tenants/{t}/live, a WebSocket): the
// connection state shown in the header, the recent-requests list on the
// overview, and the reconnect backoff. The socket itself is in connection.ts.

import type { UsageEvent, AlertItem, LiveMessage, LiveSpend } from "../api/types";

/** "gone": the feed can never open (the tenant is gone or no longer readable): no more retries. */
export type LiveStatus = "idle" | "connecting" | "open" | "reconnecting" | "offline" | "gone";

export interface LiveState {
  status: LiveStatus;
  /** Failed connection attempts since the last successful open. */
  attempt: number;
  /** When the next reconnect is due (epoch ms), while reconnecting. */
  retryAt: number | null;
  /** Newest first, de-duplicated by id, at most MAX_RECENT. */
  recent: UsageEvent[];
  /** Newest first, at most MAX_ALERTS. */
  alerts: AlertItem[];
  /** The tenant's month-to-date spend from the last "spend" message (sent on connect, then ≤ 1/s). */
  spend: LiveSpend | null;
  /** Messages received since the socket opened (for "live" hints). */
  received: number;
}

export const MAX_RECENT = 50;
export const MAX_ALERTS = 20;

export const initialLiveState: LiveState = {
  status: "idle",
  attempt: 0,
  retryAt: null,
  recent: [],
  alerts: [],
  spend: null,
  received: 0,
};

export type LiveAction =
  | { type: "connecting" }
  | { type: "open" }
  | { type: "closed"; retryAt: number | null }
  | { type: "offline" }
  | { type: "gone" }
  | { type: "message"; msg: LiveMessage }
  | { type: "seed"; events: UsageEvent[] }
  | { type: "reset" };

/** Merges events newest-first by created_at, dropping duplicate ids, capped at `max`. */
export function mergeEvents(current: UsageEvent[], incoming: UsageEvent[], max = MAX_RECENT): UsageEvent[] {
  const seen = new Set<string>();
  const all = [...incoming, ...current].filter((e) => {
    const id = String(e.id ?? e.request_id ?? "");
    if (!id) return true;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  // Timestamps differ in fractional digits between the API and the live feed: compare instants.
  const at = (e: UsageEvent) => Date.parse(e.created_at) || 0;
  all.sort((a, b) => at(b) - at(a));
  return all.slice(0, max);
}

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case "connecting":
      return { ...state, status: state.attempt > 0 ? "reconnecting" : "connecting", retryAt: null };
    case "open":
      return { ...state, status: "open", attempt: 0, retryAt: null, received: 0 };
    case "closed":
      return { ...state, status: "reconnecting", attempt: state.attempt + 1, retryAt: action.retryAt };
    case "offline":
      return { ...state, status: "offline", retryAt: null };
    case "gone":
      return { ...state, status: "gone", retryAt: null };
    case "seed":
      return { ...state, recent: mergeEvents(state.recent, action.events) };
    case "reset":
      return initialLiveState;
    case "message": {
      const { msg } = action;
      const received = state.received + 1;
      if (msg.type === "request" && msg.data) {
        return { ...state, received, recent: mergeEvents(state.recent, [msg.data as UsageEvent]) };
      }
      if (msg.type === "spend" && msg.data) {
        return { ...state, received, spend: msg.data as LiveSpend };
      }
      if (msg.type === "alert" && msg.data) {
        return { ...state, received, alerts: [msg.data as AlertItem, ...state.alerts].slice(0, MAX_ALERTS) };
      }
      return { ...state, received };
    }
  }
}

/** The live month-to-date spend when it is about `month` ("YYYY-MM"), else null. */
export function liveMonthSpend(state: Pick<LiveState, "spend">, month: string): LiveSpend | null {
  const s = state.spend;
  if (!s || (s.period_kind && s.period_kind !== "month") || s.period !== month) return null;
  return s;
}

export interface BackoffOptions {
  /** First delay, ms. Default 500. */
  baseMs?: number;
  /** Cap, ms. Default 30 000. */
  maxMs?: number;
  /** Random source in [0,1); injected in tests. */
  random?: () => number;
}

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential from baseMs,
 * capped at maxMs, with "equal jitter" (between half and all of it) so that
 * every console tab does not reconnect in the same instant after a server restart.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 500;
  const max = opts.maxMs ?? 30_000;
  const rnd = opts.random ?? Math.random;
  const exp = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * rnd());
}

/** Parses one WebSocket text frame; anything malformed yields null (and is ignored). */
export function parseLiveMessage(text: unknown): LiveMessage | null {
  if (typeof text !== "string") return null;
  try {
    const m = JSON.parse(text);
    if (m && typeof m === "object" && typeof m.type === "string") return m as LiveMessage;
  } catch {
    /* ignore */
  }
  return null;
}
