// The public page of a one-time link: /invite/<token> (join a tenant; a new user
// chooses a password, an existing user signs in as themselves and accepts) and
// /reset/<token> (choose a new password). The token goes to the server in a POST
// body only.

import { useState, useSyncExternalStore, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, session, tenantPath } from "../app";
import { qk } from "../api/endpoints";
import { ApiError, errorMessage } from "../api/errors";
import { navigate } from "../router/router";
import { ROLE_LABEL } from "../roles/permissions";
import type { AcceptLinkResult, LinkSummary } from "../api/types";
import { passwordProblem } from "../auth/password";

function useSignedIn() {
  return useSyncExternalStore(
    (cb) => session.subscribe(cb),
    () => session.status === "authenticated",
  );
}

export function LinkPage({ purpose, token }: { purpose: "invite" | "reset"; token: string }) {
  const summary = useQuery({ queryKey: ["link", token], queryFn: () => api.lookupLink(token), retry: false, staleTime: Infinity });
  return (
    <main className="login">
      <div className="login-card" data-testid="link-page">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" /> Tollgate
        </div>
        {summary.isPending ? (
          <p className="muted" aria-busy="true">
            Checking your link…
          </p>
        ) : summary.isError ? (
          <>
            <h1>This link doesn't work</h1>
            <p role="alert">
              {summary.error instanceof ApiError && summary.error.status === 404
                ? "It is invalid, expired, already used or revoked. Ask whoever sent it for a new one."
                : errorMessage(summary.error)}
            </p>
            <a className="btn btn-block" href="/login">
              Go to sign-in
            </a>
          </>
        ) : summary.data.purpose !== purpose ? (
          <p role="alert">This link is for something else; open it exactly as you received it.</p>
        ) : purpose === "invite" && summary.data.account_exists ? (
          <AcceptAsExisting token={token} link={summary.data} />
        ) : (
          <ChoosePassword token={token} link={summary.data} />
        )}
      </div>
    </main>
  );
}

function Intro({ link }: { link: LinkSummary }) {
  if (link.purpose === "reset")
    return (
      <>
        <h1>Choose a new password</h1>
        <p className="muted">For {link.email}. The link works once.</p>
      </>
    );
  return (
    <>
      <h1>Join {link.tenant_name}</h1>
      <p className="muted">
        {link.invited_by_email} invited <strong>{link.email}</strong> as {link.role ? ROLE_LABEL[link.role] : "a member"}.
      </p>
    </>
  );
}

/** Finishes a link that signed the user in: into the tenant, or the console. */
function useFinish() {
  const qc = useQueryClient();
  return (res: AcceptLinkResult) => {
    if (res.session) {
      qc.clear();
      session.login(res.session);
    } else {
      void qc.invalidateQueries({ queryKey: qk.me });
    }
    navigate(res.tenant_slug ? tenantPath(res.tenant_slug) : "/", { replace: true });
  };
}

function ChoosePassword({ token, link }: { token: string; link: LinkSummary }) {
  const finish = useFinish();
  const [name, setName] = useState("");
  const [pw, setPw] = useState("");
  const [again, setAgain] = useState("");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problem = passwordProblem(pw, again);
    if (problem) {
      setErr(problem);
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      finish(await api.acceptLink(token, { password: pw, name: name.trim() || undefined }));
    } catch (x) {
      setErr(errorMessage(x));
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate>
      <Intro link={link} />
      {link.purpose === "invite" && (
        <div className="field">
          <label htmlFor="link-name">Your name (optional)</label>
          <input id="link-name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
      )}
      <input type="email" autoComplete="username" value={link.email} readOnly hidden />
      <div className="field">
        <label htmlFor="link-password">{link.purpose === "reset" ? "New password" : "Choose a password"}</label>
        <input id="link-password" type="password" autoComplete="new-password" required autoFocus value={pw} onChange={(e) => setPw(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="link-password2">Repeat it</label>
        <input id="link-password2" type="password" autoComplete="new-password" required value={again} onChange={(e) => setAgain(e.target.value)} />
      </div>
      {err && (
        <div className="form-error" role="alert">
          {err}
        </div>
      )}
      <button type="submit" className="btn btn-primary btn-block" disabled={busy || !pw}>
        {busy ? "Saving…" : link.purpose === "reset" ? "Set password and sign in" : "Create account and join"}
      </button>
    </form>
  );
}

function AcceptAsExisting({ token, link }: { token: string; link: LinkSummary }) {
  const signedIn = useSignedIn();
  const me = useQuery({ queryKey: qk.me, queryFn: api.me, enabled: signedIn });
  const finish = useFinish();
  const qc = useQueryClient();
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setErr(null);
    try {
      await fn();
    } catch (x) {
      setErr(x instanceof ApiError && x.status === 401 ? "Email or password is incorrect." : errorMessage(x));
    } finally {
      setBusy(false);
    }
  };
  const signIn = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const pair = await api.login(link.email, password);
      qc.clear();
      session.login(pair);
      setPassword("");
    });
  };
  const accept = () => void run(async () => finish(await api.acceptLink(token, {}, true)));
  const error = err && (
    <div className="form-error" role="alert">
      {err}
    </div>
  );
  if (!signedIn)
    return (
      <form onSubmit={signIn} noValidate>
        <Intro link={link} />
        <p>You already have an account: sign in as {link.email} to accept.</p>
        <input type="email" autoComplete="username" value={link.email} readOnly hidden />
        <div className="field">
          <label htmlFor="link-signin-password">Password</label>
          <input id="link-signin-password" type="password" autoComplete="current-password" required autoFocus value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        {error}
        <button type="submit" className="btn btn-primary btn-block" disabled={busy || !password}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    );
  if (me.isPending) return <p className="muted">Loading…</p>;
  const email = me.data?.user.email ?? "";
  if (email.toLowerCase() !== link.email.toLowerCase())
    return (
      <>
        <Intro link={link} />
        <p role="alert">
          You are signed in as <strong>{email}</strong>, but this invitation is for <strong>{link.email}</strong>. Sign out, then sign in as {link.email}.
        </p>
        <button type="button" className="btn btn-block" onClick={() => session.logout("user")}>
          Sign out
        </button>
      </>
    );
  return (
    <>
      <Intro link={link} />
      {error}
      <button type="button" className="btn btn-primary btn-block" onClick={accept} disabled={busy} autoFocus>
        {busy ? "Joining…" : `Accept and join ${link.tenant_name}`}
      </button>
    </>
  );
}
