import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, session } from "../app";
import { errorMessage, ApiError } from "../api/errors";
import { useLocation } from "../router/router";

export function LoginPage() {
  const { search } = useLocation();
  const qc = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(search.get("expired") ? "Your session expired. Please sign in again." : null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const pair = await api.login(email.trim(), password);
      qc.clear();
      session.login(pair); // Root re-renders and routes to ?next or the first tenant
    } catch (x) {
      setErr(x instanceof ApiError && x.status === 401 ? "Email or password is incorrect." : errorMessage(x));
      setBusy(false);
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
        <button type="submit" className="btn btn-primary btn-block" disabled={busy || !email || !password}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="muted small">Self-hosted? The bootstrap admin's credentials were printed when `tollgate serve` first started.</p>
      </form>
    </main>
  );
}
