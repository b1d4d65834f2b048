import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useLocation } from "../router/router";

export interface Toast {
  id: number;
  kind: "success" | "error" | "info" | "warning";
  title: string;
  body?: string;
}

interface ToastApi {
  show: (t: Omit<Toast, "id">) => void;
  success: (title: string, body?: string) => void;
  error: (title: string, body?: string) => void;
}

const Ctx = createContext<ToastApi | null>(null);

export function useToast(): ToastApi {
  const v = useContext(Ctx);
  if (!v) throw new Error("useToast outside ToastProvider");
  return v;
}

let seq = 0;

/**
 * Toasts in two live regions: polite for news, assertive (role=alert) for errors.
 * A toast reports on the page it was raised on, so a navigation clears them all
 * (they never pile up across pages). Where they sit is in styles.css (.toasts):
 * outside the page's content, so they never cover the row or button they report on.
 */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const { pathname } = useLocation();
  useEffect(() => setToasts([]), [pathname]);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);
  const show = useCallback(
    (t: Omit<Toast, "id">) => {
      const id = ++seq;
      setToasts((ts) => [...ts.slice(-3), { ...t, id }]);
      setTimeout(() => dismiss(id), t.kind === "error" ? 9000 : 5000);
    },
    [dismiss],
  );
  const api = useMemo<ToastApi>(
    () => ({
      show,
      success: (title, body) => show({ kind: "success", title, body }),
      error: (title, body) => show({ kind: "error", title, body }),
    }),
    [show],
  );
  const render = (list: Toast[]) =>
    list.map((t) => (
      <div key={t.id} className={`toast toast-${t.kind}`}>
        <div>
          <strong>{t.title}</strong>
          {t.body && <div className="toast-body">{t.body}</div>}
        </div>
        <button type="button" className="icon-btn" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>
          ×
        </button>
      </div>
    ));
  return (
    <Ctx.Provider value={api}>
      {children}
      <div className="toasts">
        <div aria-live="polite" role="status">
          {render(toasts.filter((t) => t.kind !== "error"))}
        </div>
        <div aria-live="assertive" role="alert">
          {render(toasts.filter((t) => t.kind === "error"))}
        </div>
      </div>
    </Ctx.Provider>
  );
}
