import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, session, tenantPath, useTenant } from "../app";
import { Link, navigate, useLocation } from "../router/router";
import { PAGES } from "./pages";
import { useLive } from "../live/LiveProvider";
import { ROLE_LABEL } from "../roles/permissions";
import type { LiveStatus } from "../live/feed";
import { ConfirmDialog, Dialog, FormError } from "../ui/dialog";
import { Field } from "../ui/controls";
import { useToast } from "../ui/toast";
import { errorMessage } from "../api/errors";
import { listOf, MAX_PAGE, qk } from "../api/endpoints";
import type { Membership, Tenant } from "../api/types";
import { passwordProblem } from "../auth/password";

/** The frame around every signed-in page: nav, tenant switcher, live status, user menu. */
export function Shell({ children }: { children: ReactNode }) {
  const ctx = useTenant();
  const { pathname } = useLocation();
  const [navOpen, setNavOpen] = useState(false);

  // Close the mobile nav and move focus to the new page's heading on navigation,
  // so screen readers announce where they are.
  useEffect(() => {
    setNavOpen(false);
    const t = setTimeout(() => document.getElementById("page-title")?.focus({ preventScroll: true }), 50);
    return () => clearTimeout(t);
  }, [pathname]);

  useEffect(() => {
    const page = PAGES.find((p) => pathname.endsWith(`/${p.path}`));
    const label =
      page?.label ??
      (pathname.includes("/admin/tenants") ? "Tenants" : pathname.includes("/admin/users") ? "Users" : pathname.includes("/admin/providers") ? "Providers" : pathname.includes("/admin/system") ? "System" : "");
    document.title = `${label ? label + " · " : ""}${ctx.membership?.tenant_name ?? "Tollgate"} · Tollgate`;
  }, [pathname, ctx.membership]);

  const visible = ctx.tenant ? PAGES.filter((p) => ctx.can(p.action)) : [];

  return (
    <div className={`shell${navOpen ? " nav-open" : ""}`}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="icon-btn nav-toggle"
          aria-expanded={navOpen}
          aria-controls="sidenav"
          aria-label={navOpen ? "Close navigation" : "Open navigation"}
          onClick={() => setNavOpen((o) => !o)}
        >
          <span aria-hidden="true">{navOpen ? "×" : "☰"}</span>
        </button>
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true" /> Tollgate
        </Link>
        <TenantSwitcher />
        <div className="topbar-right">
          {ctx.tenant && <LiveIndicator />}
          <UserMenu />
        </div>
      </header>
      <nav id="sidenav" className="sidenav" aria-label="Main">
        <ul>
          {visible.map((p) => {
            const to = tenantPath(ctx.tenant, p.path);
            const current = pathname === to || (p.path === "overview" && pathname === `/t/${ctx.tenant}`);
            return (
              <li key={p.path}>
                <Link to={to} aria-current={current ? "page" : undefined}>
                  {p.label}
                </Link>
              </li>
            );
          })}
        </ul>
        {ctx.me.user.superadmin && (
          <>
            <div className="nav-section">Platform</div>
            <ul>
              <li>
                <Link to="/admin/tenants" aria-current={pathname === "/admin/tenants" ? "page" : undefined}>
                  Tenants
                </Link>
              </li>
              <li>
                <Link to="/admin/users" aria-current={pathname === "/admin/users" ? "page" : undefined}>
                  Users
                </Link>
              </li>
              <li>
                <Link to="/admin/providers" aria-current={pathname === "/admin/providers" ? "page" : undefined}>
                  Providers
                </Link>
              </li>
              <li>
                <Link to="/admin/system" aria-current={pathname === "/admin/system" ? "page" : undefined}>
                  System
                </Link>
              </li>
            </ul>
          </>
        )}
      </nav>
      {navOpen && <div className="scrim" onClick={() => setNavOpen(false)} aria-hidden="true" />}
      <main id="main" className="main">
        {children}
      </main>
    </div>
  );
}

/**
 * The tenant switcher: a member of several tenants, and a superadmin (every tenant,
 * member or not), switch here to the same page of another tenant. One tenant and
 * no platform role: just its name.
 */
function TenantSwitcher() {
  const ctx = useTenant();
  const { pathname } = useLocation();
  const superadmin = !!ctx.me.user.superadmin;
  const all = useQuery({
    queryKey: qk.tenantsSwitch,
    queryFn: () => api.tenants({ limit: MAX_PAGE }),
    enabled: superadmin,
    staleTime: 5 * 60_000,
  });
  const options = switchOptions(ctx.me.memberships, superadmin ? listOf(all.data) : []);
  if (options.length === 0) return null;
  const current = options.find((o) => o.slug === ctx.tenant || o.id === ctx.tenant);
  if (options.length === 1 && current) {
    return (
      <span className="tenant-name" title={current.slug}>
        {current.name}
      </span>
    );
  }
  const page = /^\/t\/[^/]+\/([^/]+)/.exec(pathname)?.[1] ?? "overview";
  return (
    <label className="tenant-switch">
      <span className="sr-only">Tenant</span>
      <select value={current?.slug ?? ""} onChange={(e) => e.target.value && navigate(tenantPath(e.target.value, page))} data-testid="tenant-switcher">
        {!current && <option value="">Choose a tenant…</option>}
        {options.map((o) => (
          <option key={o.id} value={o.slug}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

interface SwitchOption {
  id: string;
  slug: string;
  name: string;
  label: string;
}

/** The switcher's choices: the user's tenants with their role, then (superadmins) every other tenant by name. */
function switchOptions(ms: Membership[], tenants: Tenant[]): SwitchOption[] {
  const out: SwitchOption[] = ms.map((m) => ({ id: m.tenant_id, slug: m.tenant_slug, name: m.tenant_name, label: `${m.tenant_name} · ${ROLE_LABEL[m.role] ?? m.role}` }));
  const seen = new Set(out.map((o) => o.id));
  for (const t of [...tenants].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!seen.has(t.id)) out.push({ id: t.id, slug: t.slug, name: t.name, label: t.suspended ? `${t.name} (suspended)` : t.name });
  }
  return out;
}

const LIVE_TEXT: Record<LiveStatus, string> = {
  idle: "Live updates starting",
  connecting: "Connecting to live updates",
  open: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  gone: "Live updates unavailable",
};

function LiveIndicator() {
  const { state } = useLive();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (state.status !== "reconnecting") return;
    const i = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(i);
  }, [state.status]);
  const secs = state.retryAt ? Math.max(0, Math.ceil((state.retryAt - now) / 1000)) : 0;
  const text = state.status === "reconnecting" && secs > 0 ? `Reconnecting in ${secs}s` : LIVE_TEXT[state.status];
  return (
    <span className={`live live-${state.status}`} role="status" aria-live="polite" title={state.status === "open" ? "Receiving live updates" : text}>
      <span className="live-dot" aria-hidden="true" />
      <span className="live-text">{text}</span>
    </span>
  );
}

function UserMenu() {
  const ctx = useTenant();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [changing, setChanging] = useState(false);
  const [everywhere, setEverywhere] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  // Close on a click outside or on Escape, like any menu.
  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    document.addEventListener("pointerdown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);
  const logout = async () => {
    const rt = session.refreshToken;
    session.logout("user");
    qc.clear();
    if (rt) await api.logout(rt).catch(() => undefined); // best effort: the local session is gone either way
  };
  return (
    <div className="usermenu" ref={ref}>
      <button type="button" className="btn btn-ghost" aria-expanded={open} aria-haspopup="true" onClick={() => setOpen((o) => !o)}>
        <span className="avatar" aria-hidden="true">
          {(ctx.me.user.name || ctx.me.user.email).slice(0, 1).toUpperCase()}
        </span>
        <span className="usermenu-name">{ctx.me.user.name || ctx.me.user.email}</span>
      </button>
      {open && (
        <div className="menu">
          <div className="menu-head">
            <div>{ctx.me.user.email}</div>
            <div className="muted">
              {ctx.me.user.superadmin ? "Superadmin" : ""}
              {ctx.role ? `${ctx.me.user.superadmin ? " · " : ""}${ROLE_LABEL[ctx.role]}` : ""}
            </div>
          </div>
          <button type="button" className="menu-item" onClick={() => (setOpen(false), setChanging(true))} autoFocus>
            Change password
          </button>
          <button type="button" className="menu-item" onClick={() => (setOpen(false), setEverywhere(true))}>
            Sign out everywhere
          </button>
          <button type="button" className="menu-item" onClick={logout}>
            Sign out
          </button>
        </div>
      )}
      <ChangePasswordDialog open={changing} onClose={() => setChanging(false)} />
      <ConfirmDialog
        open={everywhere}
        title="Sign out everywhere?"
        body={<p>Every session of {ctx.me.user.email} ends now, on every device and browser, this one included.</p>}
        confirmLabel="Sign out everywhere"
        onClose={() => setEverywhere(false)}
        onConfirm={async () => {
          await api.signOutEverywhere();
          session.logout("user");
          qc.clear();
        }}
      />
    </div>
  );
}

function ChangePasswordDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const id = useId();
  const toast = useToast();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    if (open) {
      setCurrent("");
      setNext("");
      setAgain("");
      setErr(null);
    }
  }, [open]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problem = !current ? "Enter your current password." : passwordProblem(next, again);
    if (problem) {
      setErr(problem);
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      await api.changePassword(current, next);
      toast.success("Password changed", "Your other sessions were signed out.");
      onClose();
    } catch (x) {
      setErr(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onClose={onClose} title="Change password">
      <form onSubmit={submit} noValidate>
        <Field id={`${id}-current`} label="Current password">
          <input id={`${id}-current`} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
        </Field>
        <Field id={`${id}-new`} label="New password" hint="At least 10 characters. Your other sessions are signed out.">
          <input id={`${id}-new`} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
        </Field>
        <Field id={`${id}-again`} label="Repeat the new password">
          <input id={`${id}-again`} type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
        </Field>
        {err && <FormError message={err} />}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Saving…" : "Change password"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
