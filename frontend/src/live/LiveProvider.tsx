import { createContext, useContext, useEffect, useReducer, useRef, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { initialLiveState, liveReducer, type LiveState, type LiveAction } from "./feed";
import { startLive } from "./connection";
import { api, session } from "../app";
import { ApiError } from "../api/errors";
import { qk } from "../api/endpoints";
import { useToast } from "../ui/toast";
import { formatUsd } from "../format/money";
import type { AlertItem, LiveMessage } from "../api/types";

const LiveContext = createContext<{ state: LiveState; dispatch: (a: LiveAction) => void }>({
  state: initialLiveState,
  dispatch: () => {},
});

export function useLive() {
  return useContext(LiveContext);
}

/** Opens the tenant's live feed and keeps the TanStack Query caches fresh from it. */
export function LiveProvider({ tenant, children }: { tenant: string; children: ReactNode }) {
  const [state, dispatch] = useReducer(liveReducer, initialLiveState);
  const qc = useQueryClient();
  const toast = useToast();
  const pending = useRef<Set<string>>(new Set());
  const flushTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    dispatch({ type: "reset" });
    // Aggregates (usage totals, budgets, key last-used) are refetched at most
    // every 3 s however fast requests stream in; the feed list is patched directly.
    const invalidateSoon = (...keys: string[]) => {
      keys.forEach((k) => pending.current.add(k));
      if (flushTimer.current) return;
      flushTimer.current = setTimeout(() => {
        flushTimer.current = null;
        for (const k of pending.current) void qc.invalidateQueries({ queryKey: ["t", tenant, k] });
        pending.current.clear();
      }, 3000);
    };
    const onMessage = (m: LiveMessage) => {
      if (m.type === "request") invalidateSoon("usage", "keys", "budgets");
      else if (m.type === "spend") invalidateSoon("usage", "budgets");
      else if (m.type === "alert") {
        const a = m.data as AlertItem;
        void qc.invalidateQueries({ queryKey: qk.alerts(tenant) });
        invalidateSoon("budgets");
        toast.show({
          kind: "warning",
          title: "Budget alert",
          body:
            a.message ??
            `Spend reached ${a.threshold ?? "?"}% of a budget${a.limit_nano !== undefined ? ` (${formatUsd(a.limit_nano)})` : ""}.`,
        });
      }
    };
    const stop = startLive({
      tenant,
      getToken: () => session.accessToken,
      refreshToken: () => session.refresh(),
      dispatch,
      onMessage,
      // The tenant deleted, or this user's access to it removed, while the page is open.
      canOpen: () =>
        api.tenant(tenant).then(
          () => true,
          (e) => !(e instanceof ApiError && (e.status === 404 || e.status === 403)),
        ),
    });
    return () => {
      stop();
      if (flushTimer.current) clearTimeout(flushTimer.current);
      flushTimer.current = null;
      pending.current.clear();
    };
  }, [tenant, qc, toast]);

  return <LiveContext.Provider value={{ state, dispatch }}>{children}</LiveContext.Provider>;
}
