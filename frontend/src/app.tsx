// App-wide context: the session, the API, the signed-in user and the current
// tenant with the caller's role in it.

import { createContext, useContext, useMemo } from "react";
import { Session, MemoryStore, takeDesktopHandover, type KeyValueStore } from "./auth/session";
import { createClient, type ApiClient } from "./api/client";
import { endpoints, type Endpoints } from "./api/endpoints";
import type { Me, Membership } from "./api/types";
import { can, type Action, type Principal, type Role } from "./roles/permissions";

function browserStore(): KeyValueStore {
  try {
    const k = "__tollgate_probe";
    window.sessionStorage.setItem(k, "1");
    window.sessionStorage.removeItem(k);
    return window.sessionStorage;
  } catch {
    return new MemoryStore(); // storage disabled: session lasts until reload
  }
}

const store = browserStore();
if (typeof window !== "undefined") {
  takeDesktopHandover(store, window.location.hash, () =>
    window.history.replaceState(null, "", window.location.pathname + window.location.search),
  );
}

export const session = new Session(store, () => Promise.reject(new Error("not ready")));
export const client: ApiClient = createClient(session);
session.setRefreshFn(client.refreshTokens);
export const api: Endpoints = endpoints(client);

export interface TenantCtx {
  me: Me;
  /** Tenant slug (or id) from the URL. */
  tenant: string;
  membership: Membership | null;
  role: Role | null;
  principal: Principal;
  can: (a: Action) => boolean;
}

export const TenantContext = createContext<TenantCtx | null>(null);

export function useTenant(): TenantCtx {
  const v = useContext(TenantContext);
  if (!v) throw new Error("useTenant outside a tenant page");
  return v;
}

export function useTenantValue(me: Me, tenant: string): TenantCtx {
  return useMemo(() => {
    const membership = me.memberships.find((m) => m.tenant_slug === tenant || m.tenant_id === tenant) ?? null;
    const principal: Principal = { role: membership?.role ?? null, superadmin: !!me.user.superadmin };
    return { me, tenant, membership, role: principal.role, principal, can: (a: Action) => can(principal, a) };
  }, [me, tenant]);
}

/** Path of a tenant page: tenantPath("acme", "keys") → "/t/acme/keys". */
export function tenantPath(tenant: string, page = "overview"): string {
  return `/t/${encodeURIComponent(tenant)}/${page}`;
}
