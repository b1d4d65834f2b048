import { describe, expect, it } from "vitest";
import { backoffDelay, initialLiveState, liveMonthSpend, liveReducer, mergeEvents, parseLiveMessage, MAX_RECENT, type LiveState } from "./feed";
import type { UsageEvent } from "../api/types";

const ev = (id: string, at: string): UsageEvent => ({ id, request_id: `req_${id}`, created_at: at, model: "sim-small", input_tokens: 10, cached_tokens: 0, cache_write_tokens: 0, output_tokens: 5, cost_nano: 42, cost_usd: "0.000000042", cache_saved_nano: 0, cache_saved_usd: "0.000000000", latency_ms: 12, status: "ok" });

describe("liveReducer", () => {
  it("keeps the latest month-to-date spend and orders events by instant", () => {
    let s = liveReducer(initialLiveState, { type: "message", msg: { type: "spend", data: { period: "2026-11", period_kind: "month", spent_nano: 5, spent_usd: "0.000000005" } } });
    s = liveReducer(s, { type: "message", msg: { type: "spend", data: { period: "2026-11", period_kind: "month", spent_nano: 9, spent_usd: "0.000000009" } } });
    expect(liveMonthSpend(s, "2026-11")?.spent_nano).toBe(9);
    expect(liveMonthSpend(s, "2026-12")).toBeNull();
    expect(liveMonthSpend(initialLiveState, "2026-11")).toBeNull();
    // "…:01.5Z" is later than "…:01Z" though it sorts first as a string.
    expect(mergeEvents([], [ev("a", "2025-01-01T00:00:01Z"), ev("b", "2025-01-01T00:00:01.5Z")]).map((e) => e.id)).toEqual(["b", "a"]);
  });

  it("tracks the connection lifecycle and resets attempts on open", () => {
    let s: LiveState = liveReducer(initialLiveState, { type: "connecting" });
    expect(s.status).toBe("connecting");
    s = liveReducer(s, { type: "closed", retryAt: 1000 });
    expect(s).toMatchObject({ status: "reconnecting", attempt: 1, retryAt: 1000 });
    s = liveReducer(s, { type: "connecting" });
    expect(s.status).toBe("reconnecting");
    s = liveReducer(s, { type: "closed", retryAt: 3000 });
    expect(s.attempt).toBe(2);
    s = liveReducer(s, { type: "open" });
    expect(s).toMatchObject({ status: "open", attempt: 0, retryAt: null });
  });

  it("prepends live requests, newest first, without duplicates, capped", () => {
    let s = liveReducer(initialLiveState, { type: "seed", events: [ev("a", "2025-01-01T00:00:01Z"), ev("b", "2025-01-01T00:00:02Z")] });
    expect(s.recent.map((e) => e.id)).toEqual(["b", "a"]);
    s = liveReducer(s, { type: "message", msg: { type: "request", data: ev("c", "2025-01-01T00:00:03Z") } });
    s = liveReducer(s, { type: "message", msg: { type: "request", data: ev("c", "2025-01-01T00:00:03Z") } });
    expect(s.recent.map((e) => e.id)).toEqual(["c", "b", "a"]);
    expect(s.received).toBe(2);
    const many = Array.from({ length: 80 }, (_, i) => ev(`x${i}`, `2025-01-02T00:00:${String(i % 60).padStart(2, "0")}Z`));
    expect(mergeEvents([], many)).toHaveLength(MAX_RECENT);
  });

  it("keeps alerts and ignores unknown messages", () => {
    let s = liveReducer(initialLiveState, { type: "message", msg: { type: "alert", data: { id: "al1", created_at: "2025-01-01T00:00:00Z", threshold: 80 } } });
    expect(s.alerts).toHaveLength(1);
    s = liveReducer(s, { type: "message", msg: { type: "something-new", data: {} } });
    expect(s.alerts).toHaveLength(1);
    expect(s.recent).toHaveLength(0);
  });

  it("parses frames defensively", () => {
    expect(parseLiveMessage('{"type":"spend","data":{"spent_nano":5}}')).toEqual({ type: "spend", data: { spent_nano: 5 } });
    expect(parseLiveMessage("not json")).toBeNull();
    expect(parseLiveMessage('{"data":1}')).toBeNull();
    expect(parseLiveMessage(new ArrayBuffer(2))).toBeNull();
  });
});

describe("backoffDelay", () => {
  it("grows exponentially with equal jitter and a cap", () => {
    const lo = { random: () => 0 };
    const hi = { random: () => 0.999999 };
    expect(backoffDelay(1, lo)).toBe(250);
    expect(backoffDelay(1, hi)).toBe(500);
    expect(backoffDelay(2, hi)).toBe(1000);
    expect(backoffDelay(4, hi)).toBe(4000);
    expect(backoffDelay(20, hi)).toBe(30000);
    expect(backoffDelay(20, lo)).toBe(15000);
    for (let a = 1; a < 30; a++) {
      const d = backoffDelay(a);
      expect(d).toBeGreaterThanOrEqual(Math.min(30000, 500 * 2 ** (a - 1)) / 2);
      expect(d).toBeLessThanOrEqual(30000);
    }
  });
});
