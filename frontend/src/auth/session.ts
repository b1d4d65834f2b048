// Session state: who is signed in and with which tokens.
//
// Where the tokens live, and why:
// - The access token (short-lived JWT) lives only in memory: nothing persistent
//   for an injected script to find later, and it vanishes with the page.
// - The refresh token goes to sessionStorage, not localStorage. Both are
//   readable by script, so against XSS neither is better (that is CSP's and
//   the short access-token lifetime's job). But refresh tokens rotate on every
//   use: with localStorage, two tabs would share one token, race to refresh
//   it, and the loser would present an already-rotated token and be logged
//   out (or trip reuse detection). sessionStorage is per tab, so each tab owns
//   its own rotation chain, survives a reload, and is wiped when the tab
//   closes — a sensible default for an admin console. The cost is signing in
//   again in a new tab; an httpOnly cookie would be better still but the
//   contract (docs/admin-api.md) hands tokens to the client in JSON.

/** Tokens returned by POST /auth/login and POST /auth/refresh. */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type?: string;
  /** Access-token lifetime in seconds. */
  expires_in?: number;
}

/** Minimal storage surface (sessionStorage in the browser, a Map in tests). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export type SessionStatus = "anonymous" | "authenticated";

/** Why the session ended, for the login page's message. */
export type LogoutReason = "user" | "expired";

export type SessionEvent = { type: "login" } | { type: "refreshed" } | { type: "logout"; reason: LogoutReason };

/** Exchanges a refresh token for a new pair; throws on failure (any reason). */
export type RefreshFn = (refreshToken: string) => Promise<TokenPair>;

export const REFRESH_KEY = "tollgate.refresh_token";

/**
 * Session holds the tokens and performs at most one refresh at a time: when
 * several requests get a 401 together they all await the same refresh, and a
 * rotated refresh token is used exactly once.
 */
export class Session {
  private access: string | null = null;
  private inflight: Promise<string | null> | null = null;
  private listeners = new Set<(e: SessionEvent) => void>();

  constructor(
    private readonly store: KeyValueStore,
    private refreshFn: RefreshFn,
  ) {}

  /** Replaces the refresh call (the API client is created after the session). */
  setRefreshFn(fn: RefreshFn): void {
    this.refreshFn = fn;
  }

  get accessToken(): string | null {
    return this.access;
  }

  get refreshToken(): string | null {
    return this.store.getItem(REFRESH_KEY);
  }

  get status(): SessionStatus {
    return this.access ? "authenticated" : "anonymous";
  }

  /** True when a stored refresh token could restore the session after a reload. */
  canRestore(): boolean {
    return !this.access && !!this.refreshToken;
  }

  subscribe(fn: (e: SessionEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: SessionEvent) {
    for (const fn of [...this.listeners]) fn(e);
  }

  /** Stores a fresh pair after a successful login. */
  login(pair: TokenPair): void {
    this.setPair(pair);
    this.emit({ type: "login" });
  }

  private setPair(pair: TokenPair) {
    this.access = pair.access_token;
    if (pair.refresh_token) this.store.setItem(REFRESH_KEY, pair.refresh_token);
  }

  /** Forgets both tokens and tells listeners (the app returns to the login page). */
  logout(reason: LogoutReason = "user"): void {
    const had = this.access !== null || this.refreshToken !== null;
    this.access = null;
    this.store.removeItem(REFRESH_KEY);
    if (had || reason === "user") this.emit({ type: "logout", reason });
  }

  /**
   * Gets a new access token with the stored refresh token. Concurrent callers
   * share one request. Resolves to the new access token, or null after logging
   * out when there is no refresh token or the server refused it.
   */
  refresh(): Promise<string | null> {
    if (this.inflight) return this.inflight;
    const rt = this.refreshToken;
    if (!rt) {
      this.logout("expired");
      return Promise.resolve(null);
    }
    this.inflight = this.refreshFn(rt)
      .then((pair) => {
        this.setPair(pair);
        this.emit({ type: "refreshed" });
        return pair.access_token;
      })
      .catch(() => {
        this.logout("expired");
        return null;
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }
}

/** In-memory KeyValueStore, for tests and for browsers with storage disabled. */
export class MemoryStore implements KeyValueStore {
  private m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

/** The URL fragment `tollgate desktop` opens the console with. */
export const DESKTOP_HANDOVER = "desktop_refresh";

/**
 * Takes the desktop tray's sign-in: `tollgate desktop` opens the console at
 * `/#desktop_refresh=<refresh token>` (a fragment, so the token never reaches a
 * server log). The token is stored as if the user had signed in, and the
 * fragment is removed from the address bar and history; the first refresh then
 * rotates the token, so the same link never signs anyone in twice.
 * Returns true when a token was taken.
 */
export function takeDesktopHandover(store: KeyValueStore, hash: string, clearHash: () => void): boolean {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const token = params.get(DESKTOP_HANDOVER);
  if (!token) return false;
  store.setItem(REFRESH_KEY, token);
  clearHash();
  return true;
}
