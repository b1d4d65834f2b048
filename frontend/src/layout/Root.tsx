import { lazy, Suspense, useEffect, useState, useSyncExternalStore } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, session, TenantContext, tenantPath, useTenantValue } from "../app";
import { qk } from "../api/endpoints";
import { Link, match, navigate, useLocation } from "../router/router";
import { ApiError } from "../api/errors";
import { LoginPage, SSOCallbackPage } from "../pages/LoginPage";
import { LinkPage } from "../pages/LinkPage";
import { Shell } from "./Shell";
import { LiveProvider } from "../live/LiveProvider";
import { ErrorState, Skeleton } from "../ui/page";
import { PAGES, type PageDef } from "./pages";
import type { Me } from "../api/types";

const TenantsPage = lazy(() => import("../pages/TenantsPage"));
const SystemPage = lazy(() => import("../pages/SystemPage"));
const ProvidersPage = lazy(() => import("../pages/ProvidersPage"));
const UsersPage = lazy(() => import("../pages/UsersPage"));

const LAST_TENANT = "tollgate.last_tenant";

function useSessionStatus() {
  return useSyncExternalStore(
    (cb) => session.subscribe(cb),
    () => session.status,
  );
}

/** Auth gate and top-level routes. */
export function Root() {
  const status = useSessionStatus();
  const [restoring, setRestoring] = useState(() => session.canRestore());
  const { pathname, href } = useLocation();
  const qc = useQueryClient();

  // A reload keeps only the refresh token: trade it for an access token first.
  useEffect(() => {
    if (!restoring) return;
    void session.refresh().finally(() => setRestoring(false));
  }, [restoring]);

  // On logout (by the user, or because refresh failed) drop every cached
  // response and go to the login page, remembering where we were.
  useEffect(
    () =>
      session.subscribe((e) => {
        if (e.type !== "logout") return;
        qc.clear();
        const here = window.location.pathname + window.location.search;
        if (isLinkPath(window.location.pathname)) return; // a one-time link page stays put: sign in as the invitee there
        const next = e.reason === "expired" && !here.startsWith("/login") ? `?next=${encodeURIComponent(here)}&expired=1` : "";
        navigate(`/login${next}`, { replace: true });
      }),
    [qc],
  );

  if (restoring) return <FullPageLoading />;

  // One-time links (invitations, password resets) are public pages.
  const link = match("/invite/:token", pathname) ?? match("/reset/:token", pathname);
  if (link) return <LinkPage key={link.token} purpose={pathname.startsWith("/invite/") ? "invite" : "reset"} token={link.token} />;

  // The single sign-on callback trades its hand-off for a session, signed in or not.
  if (pathname === "/login/sso") return <SSOCallbackPage />;

  if (status === "anonymous") {
    if (!pathname.startsWith("/login")) {
      navigate(`/login?next=${encodeURIComponent(href)}`, { replace: true });
      return null;
    }
    return <LoginPage />;
  }
  return <Authed pathname={pathname} />;
}

function isLinkPath(p: string): boolean {
  return p.startsWith("/invite/") || p.startsWith("/reset/");
}

function FullPageLoading() {
  return (
    <div className="center-page" aria-busy="true">
      <div className="brand-mark" aria-hidden="true" />
      <span className="muted">Loading Tollgate…</span>
    </div>
  );
}

function Authed({ pathname }: { pathname: string }) {
  const me = useQuery({ queryKey: qk.me, queryFn: api.me, staleTime: 5 * 60_000 });
  if (me.isPending) return <FullPageLoading />;
  if (me.isError)
    return (
      <div className="center-page">
        <ErrorState error={me.error} onRetry={() => me.refetch()} />
      </div>
    );
  return <Routes me={me.data} pathname={pathname} />;
}

function defaultTenant(me: Me): string | null {
  const last = localStorage.getItem(LAST_TENANT);
  if (last && me.memberships.some((m) => m.tenant_slug === last)) return last;
  return me.memberships[0]?.tenant_slug ?? null;
}

function Routes({ me, pathname }: { me: Me; pathname: string }) {
  if (pathname === "/" || pathname.startsWith("/login")) {
    const next = new URLSearchParams(window.location.search).get("next");
    const t = defaultTenant(me);
    const target = next && next.startsWith("/") && !next.startsWith("/login") && !next.startsWith("//") ? next : t ? tenantPath(t) : me.user.superadmin ? "/admin/tenants" : "/no-tenant";
    navigate(target, { replace: true });
    return null;
  }
  const admin = match("/admin/:page", pathname);
  if (admin) {
    const pages: Record<string, React.ReactNode> = { system: <SystemPage />, tenants: <TenantsPage />, providers: <ProvidersPage />, users: <UsersPage /> };
    const page = pages[admin.page] ?? null;
    return (
      <TenantScope me={me} tenant={defaultTenant(me)} page={page ? null : undefined}>
        {page}
      </TenantScope>
    );
  }
  const t = match("/t/:tenant/:page", pathname) ?? match("/t/:tenant", pathname);
  if (t) {
    const def = PAGES.find((p) => p.path === (t.page ?? "overview"));
    return <TenantGate me={me} tenant={t.tenant} page={def ?? undefined} />;
  }
  if (pathname === "/no-tenant") {
    return (
      <TenantScope me={me} tenant={null} page={null}>
        <div className="card">
          <h1>No workspace yet</h1>
          <p className="muted">Your account isn't a member of any tenant. Ask an owner or admin of your team to invite {me.user.email}.</p>
        </div>
      </TenantScope>
    );
  }
  return (
    <TenantScope me={me} tenant={defaultTenant(me)} page={undefined}>
      {null}
    </TenantScope>
  );
}

/**
 * Renders a tenant's page only once the tenant is known to exist for this user: a
 * member's tenant at once, another tenant (superadmins) after the API confirms it.
 * An unknown tenant is one "not found" page: no page queries failing one by one, and
 * no live feed retrying a socket the server will never open.
 */
function TenantGate({ me, tenant, page }: { me: Me; tenant: string; page: PageDef | undefined }) {
  const member = me.memberships.some((m) => m.tenant_slug === tenant || m.tenant_id === tenant);
  const info = useQuery({
    queryKey: qk.tenantInfo(tenant),
    queryFn: () => api.tenant(tenant),
    enabled: !member && !!me.user.superadmin,
    retry: false,
    staleTime: 5 * 60_000,
  });
  const known = member || info.isSuccess;
  useEffect(() => {
    if (known) localStorage.setItem(LAST_TENANT, tenant);
  }, [known, tenant]);
  if (known) return <TenantScope me={me} tenant={tenant} page={page} />;
  if (me.user.superadmin && info.isPending)
    return (
      <TenantScope me={me} tenant={null} page={null}>
        <Skeleton lines={6} />
      </TenantScope>
    );
  // A 404, or a tenant this user is not a member of: the same page, so that a
  // non-member learns nothing about which tenants exist.
  if (me.user.superadmin && info.isError && !(info.error instanceof ApiError && (info.error.status === 404 || info.error.status === 403)))
    return (
      <TenantScope me={me} tenant={null} page={null}>
        <ErrorState error={info.error} onRetry={() => info.refetch()} />
      </TenantScope>
    );
  return (
    <TenantScope me={me} tenant={null} page={null}>
      <TenantNotFound tenant={tenant} me={me} />
    </TenantScope>
  );
}

function TenantNotFound({ tenant, me }: { tenant: string; me: Me }) {
  const home = defaultTenant(me);
  return (
    <div className="card" data-testid="tenant-not-found">
      <h1 id="page-title" tabIndex={-1}>
        Tenant not found
      </h1>
      <p className="muted">
        There is no tenant “{tenant}”{me.user.superadmin ? "" : " that you are a member of"}. Check the address, or pick a tenant in the header.
      </p>
      {home ? (
        <Link className="btn" to={tenantPath(home)}>
          Go to {me.memberships.find((m) => m.tenant_slug === home)?.tenant_name ?? home}
        </Link>
      ) : (
        me.user.superadmin && (
          <Link className="btn" to="/admin/tenants">
            All tenants
          </Link>
        )
      )}
    </div>
  );
}

/**
 * page: a PageDef to render, null when children are given, undefined for a 404.
 */
function TenantScope({ me, tenant, page, children }: { me: Me; tenant: string | null; page: PageDef | null | undefined; children?: React.ReactNode }) {
  const ctx = useTenantValue(me, tenant ?? "");
  const content =
    page === undefined ? (
      <NotFound />
    ) : page === null ? (
      children
    ) : !ctx.can(page.action) ? (
      <NoAccess />
    ) : (
      <page.Component />
    );
  const body = (
    <Shell>
      <Suspense fallback={<Skeleton lines={6} />}>{content}</Suspense>
    </Shell>
  );
  const live = !!tenant && (ctx.role !== null || me.user.superadmin);
  return <TenantContext.Provider value={ctx}>{live ? <LiveProvider tenant={tenant!}>{body}</LiveProvider> : body}</TenantContext.Provider>;
}

function NotFound() {
  return (
    <div className="card">
      <h1 id="page-title" tabIndex={-1}>
        Page not found
      </h1>
      <p className="muted">This address doesn't match a console page. Use the navigation to get back on track.</p>
    </div>
  );
}

function NoAccess() {
  return (
    <div className="card">
      <h1 id="page-title" tabIndex={-1}>
        No access
      </h1>
      <p className="muted">Your role in this tenant can't open this page. An owner or admin can change your role.</p>
    </div>
  );
}
