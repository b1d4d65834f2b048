import { describe, expect, it, vi } from "vitest";
import { MemoryStore, REFRESH_KEY, Session, takeDesktopHandover, type TokenPair } from "./session";
import { createClient } from "../api/client";
import { ApiError } from "../api/errors";

const pair = (n: number): TokenPair => ({ access_token: `a${n}`, refresh_token: `r${n}`, expires_in: 900 });

function json(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("Session", () => {
  it("keeps the access token in memory and the refresh token in the store", () => {
    const store = new MemoryStore();
    const s = new Session(store, async () => pair(2));
    s.login(pair(1));
    expect(s.accessToken).toBe("a1");
    expect(store.getItem(REFRESH_KEY)).toBe("r1");
    const fresh = new Session(store, async () => pair(2)); // a reload
    expect(fresh.accessToken).toBeNull();
    expect(fresh.canRestore()).toBe(true);
  });

  it("shares one refresh among concurrent callers and rotates the token", async () => {
    const store = new MemoryStore();
    const refresh = vi.fn(async (rt: string) => {
      expect(rt).toBe("r1");
      return pair(2);
    });
    const s = new Session(store, refresh);
    s.login(pair(1));
    const [x, y, z] = await Promise.all([s.refresh(), s.refresh(), s.refresh()]);
    expect([x, y, z]).toEqual(["a2", "a2", "a2"]);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(s.refreshToken).toBe("r2");
  });

  it("logs out when refresh fails or there is nothing to refresh", async () => {
    const events: string[] = [];
    const s = new Session(new MemoryStore(), async () => {
      throw new Error("401");
    });
    s.subscribe((e) => events.push(e.type === "logout" ? `logout:${e.reason}` : e.type));
    s.login(pair(1));
    expect(await s.refresh()).toBeNull();
    expect(s.status).toBe("anonymous");
    expect(s.refreshToken).toBeNull();
    expect(await s.refresh()).toBeNull();
    expect(events).toEqual(["login", "logout:expired"]);
  });
});

describe("client refresh on 401", () => {
  it("refreshes once and retries with the new token", async () => {
    const store = new MemoryStore();
    const s = new Session(store, async () => pair(0));
    const seen: string[] = [];
    const fetchFn = vi.fn(async (url: string, init?: RequestInit) => {
      const auth = (init?.headers as Record<string, string>).Authorization ?? "";
      seen.push(`${url} ${auth}`);
      if (url.endsWith("/auth/refresh")) return json(200, pair(2));
      return auth === "Bearer a2" ? json(200, { ok: true }) : json(401, { error: { message: "token expired" } });
    });
    const c = createClient(s, fetchFn);
    s.setRefreshFn(c.refreshTokens);
    s.login(pair(1));
    await expect(c.get("/me")).resolves.toEqual({ ok: true });
    expect(seen).toEqual(["/api/v1/me Bearer a1", "/api/v1/auth/refresh ", "/api/v1/me Bearer a2"]);
  });

  it("goes back to login when the retry is still 401", async () => {
    const s = new Session(new MemoryStore(), async () => pair(0));
    const fetchFn = vi.fn(async (url: string) =>
      url.endsWith("/auth/refresh") ? json(200, pair(2)) : json(401, { error: { message: "nope" } }),
    );
    const c = createClient(s, fetchFn);
    s.setRefreshFn(c.refreshTokens);
    const out: string[] = [];
    s.subscribe((e) => out.push(e.type));
    s.login(pair(1));
    await expect(c.get("/me")).rejects.toMatchObject({ status: 401 });
    expect(fetchFn).toHaveBeenCalledTimes(3); // call, refresh, one retry — no loop
    expect(s.status).toBe("anonymous");
    expect(out).toContain("logout");
  });

  it("does not refresh when the refresh itself is refused", async () => {
    const s = new Session(new MemoryStore(), async () => pair(0));
    const fetchFn = vi.fn(async () => json(401, { error: { message: "refresh token revoked", type: "authentication_error" } }));
    const c = createClient(s, fetchFn);
    s.setRefreshFn(c.refreshTokens);
    s.login(pair(1));
    await expect(c.get("/keys")).rejects.toBeInstanceOf(ApiError);
    expect(fetchFn).toHaveBeenCalledTimes(2); // call + refresh, no retry
    expect(s.status).toBe("anonymous");
  });

  it("surfaces the error envelope and falls back on non-JSON bodies", async () => {
    const s = new Session(new MemoryStore(), async () => pair(0));
    let body: BodyInit = JSON.stringify({ error: { message: "name is required", type: "invalid_request_error", code: "invalid" } });
    const c = createClient(s, async () => new Response(body, { status: 422 }));
    s.login(pair(1));
    await expect(c.post("/tenants/x/keys", {})).rejects.toMatchObject({ status: 422, message: "name is required", code: "invalid" });
    body = "<html>bad gateway</html>";
    await expect(c.get("/me")).rejects.toMatchObject({ status: 422, message: "Some fields are not valid." });
    const down = createClient(s, async () => {
      throw new TypeError("fetch failed");
    });
    await expect(down.get("/me")).rejects.toMatchObject({ status: 0 });
  });
});

describe("takeDesktopHandover", () => {
  it("stores the desktop's refresh token and clears the fragment", () => {
    const store = new MemoryStore();
    let cleared = 0;
    expect(takeDesktopHandover(store, "#desktop_refresh=rt_abc", () => cleared++)).toBe(true);
    expect(store.getItem(REFRESH_KEY)).toBe("rt_abc");
    expect(cleared).toBe(1);
    expect(new Session(store, async () => pair(2)).canRestore()).toBe(true);
  });

  it("ignores other fragments", () => {
    const store = new MemoryStore();
    expect(takeDesktopHandover(store, "#section", () => {})).toBe(false);
    expect(takeDesktopHandover(store, "", () => {})).toBe(false);
    expect(store.getItem(REFRESH_KEY)).toBeNull();
  });
});
