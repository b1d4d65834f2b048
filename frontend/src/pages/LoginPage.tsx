import { useEffect, useRef, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, session } from "../app";
import { qk } from "../api/endpoints";
import { errorMessage, ApiError } from "../api/errors";
import { navigate, useLocation } from "../router/router";
import { parseHandoff } from "../auth/sso";

export function LoginPage() {
  const { search } = useLocation();
  const qc = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [tenant, setTenant] = useState("");
  const [askTenant, setAskTenant] = useState(false);
  const [busy, setBusy] = useState<"password" | "sso" | null>(null);
  const [err, setErr] = useState<string | null>(
    search.get("sso_error") ? `Single sign-on failed: ${search.get("sso_error")}` : search.get("expired") ? "Your session expired. Please sign in again." : null,
  );
  const sso = useQuery({ queryKey: qk.ssoInfo, queryFn: api.ssoInfo, staleTime: 5 * 60_000, retry: false });
  const ssoEnabled = !!sso.data?.enabled;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy("password");
    setErr(null);
    try {
      const pair = await api.login(email.trim(), password);
      qc.clear();
      session.login(pair); // Root re-renders and routes to ?next or the first tenant
    } catch (x) {
      if (x instanceof ApiError && x.code === "sso_required") setErr("Your organisation requires single sign-on. Use “Sign in with SSO” below.");
      else setErr(x instanceof ApiError && x.status === 401 ? "Email or password is incorrect." : errorMessage(x));
      setBusy(null);
    }
  };

  const startSSO = async () => {
    setErr(null);
    if (!email.trim()) {
      setErr("Enter your work email first: it tells Tollgate which identity provider to use.");
      return;
    }
    setBusy("sso");
    try {
      const next = search.get("next");
      const { authorize_url } = await api.ssoStart(email.trim(), tenant.trim(), next && next.startsWith("/") && !next.startsWith("//") ? next : undefined);
      window.location.assign(authorize_url);
    } catch (x) {
      if (x instanceof ApiError && x.code === "sso_ambiguous") setAskTenant(true);
      setErr(errorMessage(x));
      setBusy(null);
    }
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title" noValidate>
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" /> Tollgate
        </div>
        <h1 id="login-title">Sign in to the console</h1>
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" type="email" autoComplete="username" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input id="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        {err && (
          <div className="form-error" role="alert">
            {err}
          </div>
        )}
        <button type="submit" className="btn btn-primary btn-block" disabled={busy !== null || !email || !password}>
          {busy === "password" ? "Signing in…" : "Sign in"}
        </button>
        {ssoEnabled && (
          <>
            <div className="login-or" aria-hidden="true">
              <span>or</span>
            </div>
            {askTenant && (
              <div className="field">
                <label htmlFor="sso-tenant">Tenant</label>
                <input id="sso-tenant" value={tenant} onChange={(e) => setTenant(e.target.value)} placeholder="your-team" spellCheck={false} />
              </div>
            )}
            <button type="button" className="btn btn-block" onClick={startSSO} disabled={busy !== null}>
              {busy === "sso" ? "Redirecting…" : "Sign in with SSO"}
            </button>
            <p className="muted small">With single sign-on, enter your work email and continue at your organisation's identity provider; no password here.</p>
          </>
        )}
        <p className="muted small">Self-hosted? The bootstrap admin's credentials were printed when `tollgate serve` first started.</p>
      </form>
    </main>
  );
}

/** /login/sso: where the server's callback lands; trades the one-time hand-off for a session. */
export function SSOCallbackPage() {
  const qc = useQueryClient();
  const [err, setErr] = useState<string | null>(null);
  // Read once, before the address bar is cleaned; the exchange runs once (the hand-off is single-use).
  const [{ handoff, next }] = useState(() => parseHandoff(window.location.hash));
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    // The hand-off leaves the address bar (and history) at once.
    window.history.replaceState(null, "", "/login/sso");
    if (!handoff) {
      setErr("This sign-in link is incomplete. Start again from the sign-in page.");
      return;
    }
    api
      .ssoExchange(handoff)
      .then((pair) => {
        qc.clear();
        navigate(next ? `/login?next=${encodeURIComponent(next)}` : "/login", { replace: true });
        session.login(pair);
      })
      .catch((x) => setErr(errorMessage(x)));
  }, [qc, handoff, next]);
  return (
    <main className="login">
      <div className="login-card" aria-live="polite">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" /> Tollgate
        </div>
        {err ? (
          <>
            <h1>Single sign-on failed</h1>
            <div className="form-error" role="alert">
              {err}
            </div>
            <a className="btn btn-block" href="/login">
              Back to sign-in
            </a>
          </>
        ) : (
          <h1>Signing you in…</h1>
        )}
      </div>
    </main>
  );
}
