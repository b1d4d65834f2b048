// The live-feed WebSocket with reconnect. It is deliberately plain: it reports
// lifecycle and messages to a dispatch function (feed.ts's reducer) and to an
// onMessage callback (cache invalidation), and owns nothing else.

import { backoffDelay, parseLiveMessage, type LiveAction } from "./feed";
import type { LiveMessage } from "../api/types";
import { API_BASE } from "../api/client";

export interface LiveOptions {
  tenant: string;
  /** Current access token (may change after refresh). */
  getToken: () => string | null;
  /** Called when the socket fails before opening: maybe the token expired. */
  refreshToken: () => Promise<string | null>;
  dispatch: (a: LiveAction) => void;
  onMessage: (m: LiveMessage) => void;
  /**
   * Asked after FAILS_BEFORE_PROBE failures in a row before the socket opened (a
   * token refresh included): can the feed still open, i.e. does the tenant exist and
   * may this user read it? False stops the reconnect loop for good ("gone"): the
   * server refuses the upgrade with a status the browser never shows the socket.
   */
  canOpen?: () => Promise<boolean>;
  /** Injected in tests. */
  createSocket?: (url: string) => WebSocket;
  random?: () => number;
}

export function liveUrl(tenant: string, token: string, loc: { protocol: string; host: string } = window.location): string {
  const proto = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${loc.host}${API_BASE}/tenants/${encodeURIComponent(tenant)}/live?access_token=${encodeURIComponent(token)}`;
}

/** Failures before open, in a row, after which LiveOptions.canOpen is asked. */
export const FAILS_BEFORE_PROBE = 3;

/** Starts the connection; returns a stop function. */
export function startLive(opts: LiveOptions): () => void {
  let ws: WebSocket | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let attempt = 0;
  let stopped = false;
  let failedBeforeOpen = 0;
  let failsInRow = 0; // unlike failedBeforeOpen, not reset by a token refresh

  const make = opts.createSocket ?? ((u: string) => new WebSocket(u));

  const schedule = () => {
    if (stopped) return;
    attempt++;
    const delay = backoffDelay(attempt, { random: opts.random });
    opts.dispatch({ type: "closed", retryAt: Date.now() + delay });
    timer = setTimeout(connect, delay);
  };

  async function connect() {
    timer = null;
    if (stopped) return;
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      opts.dispatch({ type: "offline" });
      return; // the "online" listener below resumes
    }
    let token = opts.getToken();
    // After two failures before open, the token is the likely culprit (expired): refresh.
    if (!token || failedBeforeOpen >= 2) {
      token = await opts.refreshToken();
      failedBeforeOpen = 0;
      if (!token || stopped) return; // logged out
    }
    opts.dispatch({ type: "connecting" });
    let opened = false;
    try {
      ws = make(liveUrl(opts.tenant, token));
    } catch {
      schedule();
      return;
    }
    ws.onopen = () => {
      opened = true;
      attempt = 0;
      failedBeforeOpen = 0;
      failsInRow = 0;
      opts.dispatch({ type: "open" });
    };
    ws.onmessage = (ev) => {
      const m = parseLiveMessage(ev.data);
      if (!m) return;
      opts.dispatch({ type: "message", msg: m });
      opts.onMessage(m);
    };
    ws.onclose = (ev) => {
      ws = null;
      if (stopped) return;
      if (!opened) {
        failedBeforeOpen++;
        failsInRow++;
      }
      if (ev.code === 4401 || ev.code === 1008) failedBeforeOpen = 2; // auth: refresh first
      if (opts.canOpen && failsInRow >= FAILS_BEFORE_PROBE && failsInRow % FAILS_BEFORE_PROBE === 0) {
        void opts.canOpen().then(
          (ok) => {
            if (stopped) return;
            if (ok) schedule();
            else {
              stopped = true;
              opts.dispatch({ type: "gone" });
            }
          },
          () => schedule(), // the probe itself failed (offline): keep trying
        );
        return;
      }
      schedule();
    };
  }

  const online = () => {
    if (!ws && !timer && !stopped) {
      attempt = 0;
      void connect();
    }
  };
  window.addEventListener("online", online);
  void connect();

  return () => {
    stopped = true;
    window.removeEventListener("online", online);
    if (timer) clearTimeout(timer);
    if (ws) {
      ws.onclose = null;
      ws.close(1000, "leaving");
    }
  };
}
