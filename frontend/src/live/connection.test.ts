// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FAILS_BEFORE_PROBE, startLive } from "./connection";
import type { LiveAction } from "./feed";

/** A socket the server refuses: it closes (1006) without ever opening. */
function refusedSockets() {
  const made: string[] = [];
  const createSocket = (url: string) => {
    made.push(url);
    const s = { onopen: null, onmessage: null, onclose: null as null | ((e: { code: number }) => void), close: () => {} };
    setTimeout(() => s.onclose?.({ code: 1006 }), 0);
    return s as unknown as WebSocket;
  };
  return { made, createSocket };
}

describe("startLive against a feed that never opens", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const run = (canOpen: () => Promise<boolean>) => {
    const { made, createSocket } = refusedSockets();
    const actions: LiveAction[] = [];
    const stop = startLive({
      tenant: "gone-co",
      getToken: () => "tok",
      refreshToken: async () => "tok",
      dispatch: (a) => actions.push(a),
      onMessage: () => {},
      canOpen,
      createSocket,
      random: () => 0,
    });
    return { made, actions, stop };
  };

  it("stops for good once the API says the tenant is gone", async () => {
    const canOpen = vi.fn(async () => false);
    const { made, actions, stop } = run(canOpen);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(canOpen).toHaveBeenCalledTimes(1);
    expect(made).toHaveLength(FAILS_BEFORE_PROBE);
    expect(actions.at(-1)).toEqual({ type: "gone" });
    stop();
  });

  it("keeps retrying while the tenant is there", async () => {
    const canOpen = vi.fn(async () => true);
    const { made, actions, stop } = run(canOpen);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(made.length).toBeGreaterThan(2 * FAILS_BEFORE_PROBE);
    expect(canOpen.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(actions.some((a) => a.type === "gone")).toBe(false);
    stop();
  });
});
