#!/usr/bin/env node
// End-to-end runner for the Tollgate console, on playwright-core + the system Chromium.
//
//   TOLLGATE_E2E_URL=http://127.0.0.1:8080 \
//   TOLLGATE_E2E_EMAIL=admin@example.com TOLLGATE_E2E_PASSWORD=... \
//   npm run e2e            # or: node e2e/run.mjs
//
// It signs in through the login form, visits every page at 1280 px and 390 px,
// writes a screenshot of each to e2e/out/ (git-ignored), measures the overview's
// time to interactive (navigation start → KPI cards rendered with data), and
// fails (exit 1) on a page that does not render, shows an error state, or logs
// a console error. Results also go to e2e/out/report.json.
//
// Optional env:
//   TOLLGATE_E2E_TENANT    tenant slug to test (default: the one login lands on)
//   TOLLGATE_E2E_CHROMIUM  browser binary (default /usr/bin/chromium)
//   TOLLGATE_E2E_OUT       output folder (default e2e/out)
//   TOLLGATE_E2E_FLOWS     comma-separated flows to run before the page tour, or "all"
//                          (see FLOWS below: keys, explorer, live, webhook, budget, hardwarning, invoice, revoke, routing, savings, viewer,
//                          members, accounts, prices, providers, sso, tenants, mobile, import; they need the real backend, in this order)
//   TOLLGATE_E2E_ENV_BASE_URL_PROVIDER
//                          a provider whose base URL the server has from its environment
//                          (scripts/e2e.sh sets ANTHROPIC_BASE_URL): the providers flow checks it says so
//   TOLLGATE_E2E_VIEWER_EMAIL / TOLLGATE_E2E_VIEWER_PASSWORD
//                          a viewer of the same tenant: the viewer flow and a viewer tour
//   TOLLGATE_E2E_SSO_EMAIL / _USERNAME / _PASSWORD / _ROLE
//                          a person at the server's OpenID provider (scripts/e2e.sh runs one): the sso
//                          flow signs them in through its login form and checks the member it creates
//   TOLLGATE_E2E_TTI_RUNS  overview loads to measure (default 3; the median is reported)
//   TOLLGATE_E2E_HEADFUL=1 show the browser (needs a display)

import { chromium } from "playwright-core";
import OpenAI from "openai";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const BASE = (env.TOLLGATE_E2E_URL ?? "").replace(/\/+$/, "");
const EMAIL = env.TOLLGATE_E2E_EMAIL ?? "";
const PASSWORD = env.TOLLGATE_E2E_PASSWORD ?? "";
const OUT = path.resolve(env.TOLLGATE_E2E_OUT ?? path.join(here, "out"));
const CHROMIUM = env.TOLLGATE_E2E_CHROMIUM ?? "/usr/bin/chromium";
const TTI_RUNS = Math.max(1, Number(env.TOLLGATE_E2E_TTI_RUNS ?? 3));
const VIEWER = env.TOLLGATE_E2E_VIEWER_EMAIL ? { email: env.TOLLGATE_E2E_VIEWER_EMAIL, password: env.TOLLGATE_E2E_VIEWER_PASSWORD ?? "" } : null;
const ADMIN = { email: EMAIL, password: PASSWORD };

const VIEWPORTS = [
  { name: "1280", width: 1280, height: 800 },
  { name: "390", width: 390, height: 844, isMobile: true },
];

/**
 * Pages with something to wait for or a name of their own. The tour visits every page
 * the navigation lists (so a page added to src/layout/pages.ts is screenshotted
 * without an edit here); these entries only add a ready selector.
 */
const PAGES = [
  { name: "overview", path: "overview", ready: '[data-testid="kpi-cards"][data-state="ready"]' },
  { name: "usage", path: "usage" },
  { name: "import", path: "import" },
  { name: "requests", path: "requests" },
  { name: "keys", path: "keys" },
  { name: "members", path: "members" },
  { name: "budgets", path: "budgets" },
  { name: "savings", path: "savings" },
  { name: "routing", path: "routing" },
  { name: "models", path: "models" },
  { name: "invoices", path: "invoices" },
  { name: "audit", path: "audit" },
  { name: "sso", path: "sso" },
  { name: "tenants", abs: "/admin/tenants", superadmin: true },
  { name: "users", abs: "/admin/users", superadmin: true },
  { name: "providers", abs: "/admin/providers", superadmin: true },
  { name: "system", abs: "/admin/system", superadmin: true },
];

const LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"];

function die(msg) {
  console.error(`e2e: ${msg}`);
  process.exit(2);
}

if (!BASE) die("set TOLLGATE_E2E_URL to the console's base URL, e.g. http://127.0.0.1:8080");
if (!EMAIL || !PASSWORD) die("set TOLLGATE_E2E_EMAIL and TOLLGATE_E2E_PASSWORD to a console user");

// Recorded in the page before any script runs: the moment the overview's KPI
// cards first carry data (performance.now() = ms since navigation start).
const KPI_PROBE = `(() => {
  const check = () => {
    if (window.__tgKpiReady) return;
    if (document.querySelector('[data-testid="kpi-cards"][data-state="ready"]')) window.__tgKpiReady = performance.now();
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
})();`;

/** Collects console errors and uncaught exceptions of a page, per step. */
function watchErrors(page) {
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return {
    take() {
      return errors.splice(0, errors.length);
    },
  };
}

async function login(page, who = ADMIN) {
  await page.goto(`${BASE}/login`, { waitUntil: "domcontentloaded" });
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 15_000 }).catch(async () => {
    const msg = await page.locator(".form-error").textContent().catch(() => null);
    throw new Error(`login failed${msg ? `: ${msg}` : ""}`);
  });
  await page.waitForSelector("main h1", { timeout: 15_000 });
}

async function currentTenant(page) {
  if (env.TOLLGATE_E2E_TENANT) return env.TOLLGATE_E2E_TENANT;
  const m = /^\/t\/([^/]+)/.exec(new URL(page.url()).pathname);
  return m ? decodeURIComponent(m[1]) : null;
}

async function isSuperadmin(page) {
  return (await page.locator('nav[aria-label="Main"] >> text=Platform').count()) > 0;
}

/** Waits until a page has its heading, no skeletons and no "loading" regions. */
async function settle(page, readySelector) {
  await page.waitForSelector("main h1", { timeout: 15_000 });
  if (readySelector) await page.waitForSelector(readySelector, { timeout: 15_000 });
  await page
    .waitForFunction(() => !document.querySelector("main [aria-busy='true'], main .skeleton"), null, { timeout: 10_000 })
    .catch(() => {}); // a chart still loading is reported by the screenshot, not failed
}

async function tour(browser, vp, report, who = ADMIN, prefix = "") {
  const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height }, isMobile: !!vp.isMobile, hasTouch: !!vp.isMobile, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errs = watchErrors(page);
  if (!prefix) {
    // The sign-in page, before signing in.
    await page.goto(`${BASE}/login`, { waitUntil: "domcontentloaded" });
    await page.getByLabel("Email").waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(OUT, `login-${vp.name}.png`), fullPage: true });
  }
  await login(page, who);
  const tenant = await currentTenant(page);
  const superadmin = await isSuperadmin(page);
  // A member of several tenants may land on another one: tour the one asked for.
  if (tenant && !new URL(page.url()).pathname.startsWith(`/t/${encodeURIComponent(tenant)}/`) && !new URL(page.url()).pathname.startsWith("/admin/")) {
    await page.goto(`${BASE}/t/${encodeURIComponent(tenant)}/overview`, { waitUntil: "domcontentloaded" });
    await page.waitForSelector("main h1", { timeout: 15_000 });
  }
  if (!tenant && !superadmin) throw new Error("login landed on no tenant; set TOLLGATE_E2E_TENANT");
  // The nav lists only pages the user's role may open: those are the pages of the tour.
  const navHrefs = await page.locator("#sidenav a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  errs.take();
  const tenantPrefix = tenant ? `/t/${encodeURIComponent(tenant)}/` : null;
  const pages = navHrefs.map((rel) => {
    const known = PAGES.find((p) => rel === (p.abs ?? (tenantPrefix && `${tenantPrefix}${p.path}`)));
    return known ? { ...known, rel } : { name: rel.split("/").filter(Boolean).pop(), rel };
  });
  for (const p of PAGES) {
    if (!pages.some((x) => x.name === p.name) && (!p.superadmin || superadmin)) console.log(`skip ${vp.name.padStart(4)} ${(prefix + p.name).padEnd(16)} (not in this role's navigation)`);
  }
  for (const p of pages) {
    const rel = p.rel;
    const url = `${BASE}${rel}`;
    const entry = { page: `${prefix}${p.name}`, viewport: vp.name, url, ok: true, problems: [] };
    const t0 = Date.now();
    try {
      await page.goto(url, { waitUntil: "domcontentloaded" });
      await settle(page, p.ready);
      const errorStates = await page.locator("main .error-state").allTextContents();
      if (errorStates.length) entry.problems.push(...errorStates.map((t) => `error state: ${t.trim()}`));
      const noAccess = await page.locator("main h1", { hasText: /No access|Page not found/ }).count();
      if (noAccess) entry.problems.push("page says no access / not found");
      // Every page fits the viewport's width: wide tables scroll inside their card.
      const overflow = (await page.evaluate(() => document.documentElement.scrollWidth)) - vp.width;
      if (overflow > 1) entry.problems.push(`page is ${overflow}px wider than the ${vp.name}px viewport`);
      // On a phone every row action of every table lies inside the viewport.
      if (vp.isMobile) entry.problems.push(...(await outsideViewport(page, "main table button")));
    } catch (e) {
      entry.problems.push(String(e.message ?? e));
    }
    entry.problems.push(...errs.take());
    entry.ok = entry.problems.length === 0;
    entry.ms = Date.now() - t0;
    const file = path.join(OUT, `${prefix}${p.name}-${vp.name}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch((e) => entry.problems.push(`screenshot: ${e.message}`));
    entry.screenshot = path.relative(process.cwd(), file);
    report.pages.push(entry);
    console.log(`${entry.ok ? "ok  " : "FAIL"} ${vp.name.padStart(4)} ${entry.page.padEnd(16)} ${String(entry.ms).padStart(5)} ms${entry.ok ? "" : "  " + entry.problems.join(" | ")}`);
  }
  if (vp.isMobile) {
    // The collapsed navigation, opened.
    await page.getByRole("button", { name: "Open navigation" }).click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(OUT, `${prefix}nav-open-${vp.name}.png`) });
  }
  await context.close();
  return { tenant, superadmin };
}

/**
 * Scrolls to each visible element of selector (vertically only: a table that
 * scrolls sideways must not be scrolled into view for the test) and reports those
 * whose bounding box does not lie wholly inside the viewport. Empty means all fit.
 */
async function outsideViewport(page, selector) {
  const vp = page.viewportSize();
  const out = [];
  const all = page.locator(selector);
  const n = await all.count();
  for (let i = 0; i < n; i++) {
    const el = all.nth(i);
    if (!(await el.isVisible())) continue;
    let box = await el.boundingBox();
    if (!box) continue;
    await page.evaluate((dy) => window.scrollBy(0, dy), box.y - vp.height / 2);
    box = await el.boundingBox();
    const name = ((await el.getAttribute("aria-label")) || (await el.innerText())).trim();
    if (box.x < 0 || box.y < 0 || box.x + box.width > vp.width + 0.5 || box.y + box.height > vp.height + 0.5) {
      out.push(`"${name}" lies outside the ${vp.width}×${vp.height} viewport (x ${Math.round(box.x)}–${Math.round(box.x + box.width)}, y ${Math.round(box.y)})`);
    }
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  return out;
}

async function measureTti(browser, tenant, report) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(KPI_PROBE);
  const page = await context.newPage();
  await login(page);
  const samples = [];
  for (let i = 0; i < TTI_RUNS; i++) {
    // A full reload: the refresh token in sessionStorage is traded for an access
    // token, then /me, then the overview's queries — what a returning user sees.
    await page.goto(`${BASE}/t/${encodeURIComponent(tenant)}/overview`, { waitUntil: "commit" });
    const ms = await page.waitForFunction(() => window.__tgKpiReady, null, { timeout: 20_000, polling: 50 }).then((h) => h.jsonValue());
    samples.push(Math.round(ms));
  }
  samples.sort((a, b) => a - b);
  report.tti = { page: "overview", samples_ms: samples, median_ms: samples[Math.floor(samples.length / 2)] };
  console.log(`tti  overview median ${report.tti.median_ms} ms (samples ${samples.join(", ")})`);
  await context.close();
}


/** Sizes of the console as the server sends it: what the overview loads first, and every chunk. */
async function measureBundle(report) {
  const gz = (buf) => gzipSync(buf, { level: 9 }).length;
  const html = await (await fetch(`${BASE}/`)).text();
  const initial = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  let raw = Buffer.byteLength(html);
  let zipped = gz(Buffer.from(html));
  for (const a of initial) {
    const res = await fetch(`${BASE}${a}`);
    if (!res.ok) throw new Error(`bundle: ${a} → HTTP ${res.status}`);
    const b = Buffer.from(await res.arrayBuffer());
    raw += b.length;
    zipped += gz(b);
  }
  const out = { initial_files: initial.length + 1, initial_raw_bytes: raw, initial_gzip_bytes: zipped };
  // Every chunk (lazy pages, the chart library) from the build the binary embeds.
  const dir = path.join(here, "..", "dist", "assets");
  try {
    let all = 0;
    let largest = { name: "", gzip: 0 };
    for (const f of await readdir(dir)) {
      const n = gz(await readFile(path.join(dir, f)));
      all += n;
      if (n > largest.gzip) largest = { name: f, gzip: n };
    }
    Object.assign(out, { all_chunks_gzip_bytes: all, largest_chunk: largest });
  } catch {
    /* no local dist: the initial figure stands alone */
  }
  report.bundle = out;
  const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
  console.log(
    `bundle  initial load (index.html + ${initial.length} assets) ${kb(zipped)} gzipped (${kb(raw)} raw)` +
      (out.all_chunks_gzip_bytes ? `; all chunks ${kb(out.all_chunks_gzip_bytes)} gzipped, largest ${out.largest_chunk.name} ${kb(out.largest_chunk.gzip)} (lazy)` : ""),
  );
}

const tenantUrl = (tenant, page) => `${BASE}/t/${encodeURIComponent(tenant)}/${page}`;
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value or the time is up; returns the last value. */
async function until(fn, ms, every = 250) {
  const end = Date.now() + ms;
  let v;
  while (!(v = await fn()) && Date.now() < end) await sleep(every);
  return v;
}

/** An OpenAI client for the key, as an app would use it (no retries: we want to see each answer). */
const openai = (secret) => new OpenAI({ apiKey: secret, baseURL: `${BASE}/v1`, maxRetries: 0, timeout: 15_000 });

/** Logs in through the API (not the UI), for checks of what the server allows. */
async function apiToken(who) {
  const res = await fetch(`${BASE}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(who) });
  if (!res.ok) throw new Error(`API login as ${who.email}: HTTP ${res.status}`);
  return (await res.json()).access_token;
}

/** Adds a member through the API the only way there is: an invitation, accepted by the invitee with their own password. */
async function addMember(token, tenant, email, role = "viewer", password = "e2e member password") {
  const res = await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/invitations`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ email, role }),
  });
  if (res.status !== 201) throw new Error(`invite ${email} through the API: HTTP ${res.status}`);
  const inv = await res.json();
  if (JSON.stringify(inv).toLowerCase().includes("password")) throw new Error("the invitation answer mentions a password");
  const accept = await fetch(`${BASE}/api/v1/links/accept`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: inv.url.slice(inv.url.lastIndexOf("/") + 1), password }),
  });
  if (accept.status !== 200) throw new Error(`accept the invitation of ${email}: HTTP ${accept.status}`);
}

/** The admin's browser page, shared by the flows (one login). */
async function adminPage(browser, shared) {
  if (shared.page) return shared.page;
  shared.context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await shared.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
  shared.page = await shared.context.newPage();
  shared.errors = watchErrors(shared.page);
  await login(shared.page);
  return shared.page;
}

async function needKey(shared) {
  if (!shared.secret) throw new Error("needs the key of the keys flow");
}

// Flows: multi-step scenarios against the real backend, run in this order. Each
// gets { browser, tenant, log, shared } and throws on failure.
const FLOWS = {
  /** Create a key in the UI: the secret is shown once, with a working copy button. */
  async keys({ browser, tenant, log, shared }) {
    const page = await adminPage(browser, shared);
    await page.goto(tenantUrl(tenant, "keys"));
    await page.getByRole("button", { name: /Create (your first )?key/ }).first().click();
    const name = `e2e-${Date.now()}`;
    await page.getByLabel("Name").fill(name);
    if (!(await page.getByRole("checkbox", { name: /Inference/ }).isChecked())) throw new Error("scope inference is not the default");
    await page.getByRole("button", { name: "Create key" }).last().click();
    const secret = (await page.getByTestId("key-secret").locator("code").textContent({ timeout: 10_000 }))?.trim() ?? "";
    if (!/^tg_[0-9A-Za-z]{43}$/.test(secret)) throw new Error(`no key secret shown (got "${secret.slice(0, 12)}…")`);
    await page.getByTestId("key-secret").getByRole("button", { name: "Copy secret" }).click();
    await page.getByTestId("key-secret").getByRole("button", { name: /Copied/ }).waitFor({ timeout: 3000 });
    const copied = await page.evaluate(() => navigator.clipboard.readText()).catch((e) => `(clipboard unreadable: ${e.message})`);
    if (copied !== secret) throw new Error(`copy button put "${String(copied).slice(0, 20)}…" on the clipboard, not the secret`);
    log(`created key ${name}; secret shown, copied to the clipboard`);
    // The gate: nothing closes the dialog before the user says the secret is stored.
    const dialog = page.getByRole("dialog");
    if (await page.getByRole("button", { name: "Done" }).isEnabled()) throw new Error("Done is enabled before the user confirms storing the secret");
    if (await dialog.getByRole("button", { name: "Close" }).isEnabled()) throw new Error("the dialog's × is enabled before the user confirms storing the secret");
    await page.keyboard.press("Escape");
    await page.mouse.click(5, 5); // the backdrop
    if (!(await page.getByTestId("key-secret").isVisible())) throw new Error("Escape or a backdrop click closed the dialog before the secret was confirmed stored");
    log("Done and × disabled, Escape and the backdrop ignored until the secret is confirmed stored");
    // The snippet wraps inside the dialog and has its own copy button.
    const snippet = page.getByTestId("key-snippet");
    const fits = await snippet.evaluate((el) => el.scrollWidth <= el.clientWidth + 1);
    if (!fits) throw new Error("the example request does not wrap: it scrolls sideways");
    await dialog.getByRole("button", { name: "Copy snippet" }).click();
    const copiedSnippet = await page.evaluate(() => navigator.clipboard.readText());
    if (!copiedSnippet.includes(`Bearer ${secret}`) || !copiedSnippet.includes("/v1/chat/completions")) throw new Error("Copy snippet did not copy the example request");
    log("the example request wraps and its copy button copies it");
    // Try this key: one request with model auto, its answer, route reason and cost.
    await dialog.getByText("Try this key").click();
    await dialog.getByRole("button", { name: "Send" }).click();
    const result = page.getByTestId("playground-result");
    await result.waitFor({ timeout: 15_000 });
    const reason = (await page.getByTestId("playground-route-reason").innerText()).trim();
    const cost = (await page.getByTestId("playground-cost").innerText()).trim();
    const answer = (await result.locator("blockquote").innerText()).trim();
    if (!/^auto_/.test(reason)) throw new Error(`the playground shows no auto route reason: "${reason}"`);
    if (!/^\$\d/.test(cost)) throw new Error(`the playground shows no cost: "${cost}"`);
    if (!answer || /empty answer/.test(answer)) throw new Error("the playground shows no answer");
    log(`playground: answer "${answer.slice(0, 40)}", route reason "${reason.slice(0, 60)}", cost ${cost}`);
    await dialog.screenshot({ path: path.join(OUT, "flow-key-created-dialog-1280.png") });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(OUT, "flow-key-created-dialog-390.png"), fullPage: true });
    const dialogBox = await dialog.boundingBox();
    await page.setViewportSize({ width: 1280, height: 800 });
    if (!dialogBox || dialogBox.x < 0 || dialogBox.x + dialogBox.width > 390.5) throw new Error("the key dialog is wider than a 390 px screen");
    await page.getByLabel(/I have stored the secret/).check();
    await dialog.getByRole("button", { name: "Close" }).click();
    await page.getByTestId("key-secret").waitFor({ state: "detached", timeout: 5000 });
    log("× closes the dialog once the secret is confirmed stored");
    await page.reload();
    await page.getByRole("cell", { name: new RegExp(name) }).first().waitFor({ timeout: 10_000 });
    if ((await page.getByText(secret).count()) > 0) throw new Error("the secret is shown again after closing the dialog");
    log("secret gone after Done and reload (shown once)");
    Object.assign(shared, { secret, keyName: name });
  },

  /** Use the key through the OpenAI client and see the request appear on the overview without a reload. */
  /** The request explorer: a refused request (400, no content) is listed under "Refused" and opens in the detail drawer. */
  async explorer({ browser, tenant, log, shared }) {
    await needKey(shared);
    const r = await fetch(`${BASE}/v1/chat/completions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${shared.secret}`, "Content-Type": "application/json" },
      body: '{"model":',
    });
    if (r.status !== 400) throw new Error(`a malformed body got ${r.status}, not 400`);
    const page = await adminPage(browser, shared);
    await page.goto(tenantUrl(tenant, "requests"));
    await page.getByLabel("Status").selectOption("refused");
    const row = page.locator('[data-testid="requests-table"] tr[data-status="400"]').first();
    await until(async () => {
      if (await row.count()) return true;
      await page.reload();
      await page.getByLabel("Status").selectOption("refused");
      return false;
    }, 15_000, 1000);
    await row.getByRole("button", { name: "Details" }).click();
    await page.getByTestId("request-detail").waitFor({ timeout: 5000 });
    if (!/invalid_request_error/.test((await page.getByTestId("request-detail").textContent()) ?? "")) throw new Error("the detail does not show the refusal's error");
    await page.screenshot({ path: path.join(OUT, "flow-explorer-detail-1280.png") });
    log("a 400 refusal is listed under Refused and opens in the detail drawer");
  },

  async live({ browser, tenant, log, shared }) {
    await needKey(shared);
    const page = await adminPage(browser, shared);
    await page.goto(tenantUrl(tenant, "overview"));
    await settle(page, '[data-testid="kpi-cards"][data-state="ready"]');
    await page.getByText("Updates live").waitFor({ timeout: 10_000 });
    let navigations = 0;
    const onNav = (f) => f === page.mainFrame() && navigations++;
    page.on("framenavigated", onNav);
    const client = openai(shared.secret);
    const { data, response } = await client.chat.completions
      .create({ model: "auto", max_tokens: 16, messages: [{ role: "user", content: "ping from the e2e suite" }] })
      .withResponse();
    const reqId = response.headers.get("x-tollgate-request-id");
    if (!data.choices?.[0]?.message) throw new Error("chat completion without a message");
    log(`chat via the openai client: ${data.model}, ${data.usage?.total_tokens} tokens, ${reqId}`);
    await page.locator(`section[aria-labelledby=recent] tr[data-request-id="${reqId}"]`).waitFor({ timeout: 10_000 });
    const stream = await client.chat.completions.create({ model: "auto", max_tokens: 16, stream: true, messages: [{ role: "user", content: "stream please" }] });
    let chunks = 0;
    for await (const c of stream) chunks += c.choices?.[0]?.delta?.content ? 1 : 0;
    if (chunks === 0) throw new Error("streamed completion had no content");
    await until(async () => (await page.locator("section[aria-labelledby=recent] tbody tr").count()) >= 2, 10_000);
    page.off("framenavigated", onNav);
    if (navigations) throw new Error(`the overview navigated ${navigations} time(s): not live`);
    log(`request ${reqId} and a streamed one (${chunks} chunks) appeared live, no reload`);
  },

  /** Point the alert webhook at a local sink: the secret is shown once, and "Send test" delivers a signed event. */
  async webhook({ browser, tenant, log, shared }) {
    const got = [];
    const sink = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        got.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise((r) => sink.listen(0, "127.0.0.1", r));
    shared.sink = { server: sink, got };
    const url = `http://127.0.0.1:${sink.address().port}/hook`;
    const page = await adminPage(browser, shared);
    await page.goto(tenantUrl(tenant, "budgets"));
    await page.getByLabel("Webhook URL").fill(url);
    await page.getByRole("button", { name: /^(Save|Update)$/ }).click();
    const secret = (await page.getByTestId("webhook-secret").locator("code").textContent({ timeout: 10_000 }))?.trim() ?? "";
    if (!secret.startsWith("whsec_")) throw new Error(`no signing secret shown (got "${secret.slice(0, 10)}…")`);
    await page.getByTestId("webhook-secret").getByRole("button", { name: "Copy secret" }).waitFor();
    await page.getByRole("button", { name: "I have stored it" }).click();
    await page.getByRole("button", { name: "Send test" }).click();
    await page.getByTestId("webhook-test-result").waitFor({ timeout: 10_000 });
    const result = (await page.getByTestId("webhook-test-result").innerText()).replace(/\s+/g, " ").trim();
    if (!result.startsWith("Delivered")) throw new Error(`test delivery: ${result}`);
    const hit = await until(() => got.find((g) => g.headers["x-tollgate-signature"]), 3000);
    if (!hit) throw new Error("the sink received no signed request");
    const [, t, v1] = /t=(\d+),v1=([0-9a-f]+)/.exec(hit.headers["x-tollgate-signature"]) ?? [];
    const want = createHmac("sha256", secret).update(`${t}.${hit.body}`).digest("hex");
    if (v1 !== want) throw new Error("the test delivery's signature does not verify with the secret shown");
    await page.reload();
    if ((await page.getByText(secret).count()) > 0) throw new Error("the webhook secret is shown again after reload");
    log(`webhook saved, secret shown once, test delivered (${result.trim()}), signature verified`);
  },

  /** A tiny hard budget set in the UI: requests are refused with budget_exceeded and the alert appears. */
  async budget({ browser, tenant, log, shared }) {
    await needKey(shared);
    const page = await adminPage(browser, shared);
    await page.goto(tenantUrl(tenant, "budgets"));
    await page.getByRole("button", { name: /^(Set|Add) budget$/ }).first().click();
    await page.getByLabel("Limit (USD)").fill("0.0001");
    // New budgets start soft (as the CLI's do): hard is chosen explicitly.
    if (!(await page.getByRole("radio", { name: /Soft: allow, but alert/ }).isChecked())) throw new Error("a new budget does not default to soft");
    await page.getByRole("radio", { name: /Hard: refuse requests/ }).check();
    await page.getByLabel("Alert at (% of limit)").fill("50, 100");
    await page.getByRole("button", { name: /^(Save|Replace) budget$/ }).click();
    // This month may already have spent more than $0.0001: then the console asks first.
    const warned = await page
      .getByTestId("hard-budget-warning")
      .waitFor({ timeout: 3000 })
      .then(() => true)
      .catch(() => false);
    if (warned) await page.getByRole("button", { name: "Save hard limit anyway" }).click();
    await page.getByTestId("budget-spend").first().waitFor({ timeout: 10_000 });
    log("hard budget $0.0001/month with alerts at 50% and 100% set in the UI");
    await page.goto(tenantUrl(tenant, "overview"));
    await settle(page, '[data-testid="kpi-cards"][data-state="ready"]');
    await page.getByText("Updates live").waitFor({ timeout: 10_000 });
    const client = openai(shared.secret);
    let ok = 0;
    let refused = null;
    for (let i = 0; i < 60 && !refused; i++) {
      try {
        await client.chat.completions.create({ model: "sim-small", max_tokens: 16, messages: [{ role: "user", content: `budget ${i}` }] });
        ok++;
      } catch (e) {
        if (e?.status === 429) refused = e;
        else throw e;
      }
    }
    if (!refused) throw new Error(`60 requests under a $0.0001 hard budget, none refused`);
    if (refused.code !== "budget_exceeded" || refused.type !== "insufficient_quota") throw new Error(`429 but ${refused.type}/${refused.code}`);
    log(`${ok} requests served, then 429 insufficient_quota/budget_exceeded`);
    const toast = await page
      .getByText("Budget alert")
      .first()
      .waitFor({ timeout: 8000 })
      .then(() => true)
      .catch(() => false);
    await page.goto(tenantUrl(tenant, "budgets"));
    const alert = page.getByTestId("alert-history").locator("li", { hasText: /Whole tenant, monthly budget reached 50%: \$/ });
    await alert.first().waitFor({ timeout: 10_000 });
    const alertText = (await alert.first().innerText()).replace(/\s+/g, " ");
    if (/pending/.test(alertText) && !shared.sink) throw new Error(`alert says the webhook is pending with none configured: ${alertText}`);
    if (!shared.sink && !/no webhook configured/.test(alertText)) throw new Error(`alert does not say no webhook is configured: ${alertText}`);
    log(`alert ${toast ? "shown live as a notification and " : ""}listed in the alert history: "${alertText.trim()}"`);
    if (shared.sink) {
      const delivered = await until(() => shared.sink.got.find((g) => g.headers["x-tollgate-event"] === "budget.alert"), 15_000, 500);
      log(delivered ? "alert delivered to the webhook sink" : "alert not delivered to the webhook within 15 s (delivery is queued)");
    }
    await page.getByRole("button", { name: "Delete budget Whole tenant" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete budget" }).click();
    await page.getByText("Budget deleted").first().waitFor({ timeout: 10_000 });
    log("budget deleted in the UI");
    // The toast sits outside the page (in the navigation's column), and a navigation clears it.
    const toastBox = await page.locator(".toast").first().boundingBox();
    const mainBox = await page.locator("main").boundingBox();
    if (!toastBox || !mainBox || toastBox.x + toastBox.width > mainBox.x) throw new Error(`the toast covers the page: toast ${JSON.stringify(toastBox)}, main ${JSON.stringify(mainBox)}`);
    await page.locator("#sidenav").getByRole("link", { name: "Overview" }).click();
    await page.waitForURL((u) => u.pathname.endsWith("/overview"));
    if (await page.locator(".toast").count()) throw new Error("a toast of the budgets page is still shown on the overview");
    log("the toast stayed beside the page, and the next page cleared it");
  },

  /** A hard limit below this month's spend: the console warns with the number of requests it would refuse, before saving. */
  async hardwarning({ browser, tenant, log, shared }) {
    const page = await adminPage(browser, shared);
    const token = await apiToken(ADMIN);
    const body = { scope: "tenant", scope_id: null, period: "month", limit_usd: "0.00002", hard: true, alert_at: [100], downgrade_at: null };
    const pre = await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/budgets/preview`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (pre.status !== 200) throw new Error(`budgets/preview: HTTP ${pre.status}`);
    const want = await pre.json();
    if (!(want.refused_requests > 0)) throw new Error(`the month has no spend above $0.00002 to warn about: ${JSON.stringify(want)}`);
    await page.goto(tenantUrl(tenant, "budgets"));
    await page.getByRole("button", { name: /^(Set|Add) budget$/ }).first().click();
    await page.getByLabel("Limit (USD)").fill(body.limit_usd);
    await page.getByRole("radio", { name: /Hard: refuse requests/ }).check();
    await page.getByLabel("Alert at (% of limit)").fill("100");
    await page.getByRole("button", { name: /^(Save|Replace) budget$/ }).click();
    const warning = page.getByTestId("hard-budget-warning");
    await warning.waitFor({ timeout: 10_000 });
    const shown = Number((await page.getByTestId("hard-budget-refused").innerText()).replace(/[^0-9]/g, ""));
    if (shown !== want.refused_requests) throw new Error(`warning says ${shown} refused, the API ${want.refused_requests}`);
    const text = (await warning.innerText()).replace(/\s+/g, " ");
    if (!text.includes("$0.00002")) throw new Error(`warning does not show the limit as currency: ${text}`);
    const budgetsBefore = await (await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/budgets`, { headers: { Authorization: `Bearer ${token}` } })).json();
    if (budgetsBefore.data.length !== 0) throw new Error("the budget was saved before the warning was confirmed");
    await page.getByRole("dialog").screenshot({ path: path.join(OUT, "flow-hard-budget-warning-1280.png") });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(OUT, "flow-hard-budget-warning-390.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    log(`hard $0.00002/month: warned before saving, ${shown} of ${want.requests} requests this month would be refused (${want.spent_usd} spent, ${want.percent}%)`);
    await page.getByRole("button", { name: "Save hard limit anyway" }).click();
    await page.getByText("Budget added").first().waitFor({ timeout: 10_000 });
    await page.getByRole("button", { name: "Delete budget Whole tenant" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete budget" }).click();
    await page.getByText("Budget deleted").first().waitFor({ timeout: 10_000 });
    log("saved after confirming, then deleted");
  },

  /** The upcoming invoice on the invoices page: lines and total as the API previews them, which add up to the usage page's month; billing off said once. */
  async invoice({ browser, tenant, log, shared }) {
    const page = await adminPage(browser, shared);
    const token = await apiToken(ADMIN);
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    const t = encodeURIComponent(tenant);
    const preview = await (await fetch(`${BASE}/api/v1/tenants/${t}/invoices/preview`, auth)).json();
    if (!preview.lines?.length) throw new Error(`no invoice lines this month: ${JSON.stringify(preview)}`);
    const [y, m] = preview.period.split("-").map(Number);
    const last = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
    const usage = await (await fetch(`${BASE}/api/v1/tenants/${t}/usage?from=${preview.period}-01&to=${last}&group_by=model&source=served`, auth)).json();
    // Each model's cost rounded half-up to cents, as the invoice rounds each line.
    const usageCents = usage.series.reduce((sum, p) => sum + (BigInt(p.cost_nano) + 5_000_000n) / 10_000_000n, 0n);
    const lineCents = preview.lines.reduce((sum, l) => sum + BigInt(l.amount_cents), 0n);
    if (usageCents !== lineCents || lineCents !== BigInt(preview.amount_cents)) {
      throw new Error(`invoice ${lineCents} cents (total ${preview.amount_cents}) vs usage page ${usageCents} cents`);
    }
    await page.goto(tenantUrl(tenant, "invoices"));
    const card = page.getByTestId("invoice-preview");
    await card.getByTestId("invoice-preview-total").waitFor({ timeout: 10_000 });
    const total = (await card.getByTestId("invoice-preview-total").innerText()).trim();
    const wantTotal = `$${(preview.amount_cents / 100).toFixed(2)}`;
    if (total !== wantTotal) throw new Error(`preview total ${total}, the API says ${wantTotal}`);
    for (const l of preview.lines) {
      if (l.model && (await card.getByText(l.model, { exact: false }).count()) === 0) throw new Error(`line ${l.model} not shown`);
    }
    if (!preview.billing_enabled) {
      const notices = await page.getByText(/billing is off/i).count();
      if (notices !== 1) throw new Error(`"billing is off" shown ${notices} times, want once`);
      if ((await page.getByRole("button", { name: "Invoice a month now" }).count()) > 0) throw new Error("a run is offered with billing off");
    }
    await page.screenshot({ path: path.join(OUT, "flow-invoice-preview-1280.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(OUT, "flow-invoice-preview-390.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    log(`upcoming invoice ${preview.period}: ${preview.lines.length} line(s), total ${total} = usage page ${usageCents} cents; billing ${preview.billing_enabled ? "on" : "off, said once, no run offered"}`);
  },

  /** Revoke the key in the UI: /v1 refuses it (401) within a second or two. */
  async revoke({ browser, tenant, log, shared }) {
    await needKey(shared);
    const page = await adminPage(browser, shared);
    await page.goto(tenantUrl(tenant, "keys"));
    await page.getByRole("button", { name: `Revoke key ${shared.keyName}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
    await page.getByText("Key revoked").first().waitFor({ timeout: 10_000 });
    const t0 = Date.now();
    const client = openai(shared.secret);
    let last = "";
    const refused = await until(async () => {
      try {
        await client.models.list();
        last = "200";
        return false;
      } catch (e) {
        last = String(e?.status ?? e?.message);
        return e?.status === 401;
      }
    }, 3000, 200);
    if (!refused) throw new Error(`revoked key still answered (${last}) after 3 s`);
    log(`revoked in the UI; /v1 answers 401 after ${Date.now() - t0} ms`);
  },

  /** Edit the routing policy in the form (a rule, model order), save it, and run a what-if over the traffic so far. */
  async routing({ browser, tenant, log, shared }) {
    // Some premium-priced traffic to replay: two requests naming sim-large, with a key made through the API.
    const token = await apiToken(ADMIN);
    const made = await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/keys`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "e2e-routing" }),
    });
    if (made.status !== 201) throw new Error(`create key through the API: HTTP ${made.status}`);
    const client = openai((await made.json()).secret);
    for (let i = 0; i < 2; i++) await client.chat.completions.create({ model: "sim-large", max_tokens: 16, messages: [{ role: "user", content: `hello ${i}` }] });
    const page = await adminPage(browser, shared);
    await page.goto(tenantUrl(tenant, "routing"));
    await settle(page);
    await page.getByRole("button", { name: "Move sim-small up" }).click();
    await page.getByRole("button", { name: "Add rule" }).click();
    await page.getByPlaceholder("e.g. refactor, stack trace").last().fill("refactor, stack trace");
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByText("Routing policy saved").first().waitFor({ timeout: 10_000 });
    const saved = await (await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/routing`, { headers: { Authorization: `Bearer ${token}` } })).json();
    const eco = saved.tiers?.economy ?? [];
    if (eco.indexOf("sim-small") !== eco.length - 2) throw new Error(`economy order not saved: ${eco.join(", ")}`);
    if (saved.rules?.[0]?.keywords?.join(",") !== "refactor,stack trace" || saved.rules[0].tier !== "standard") throw new Error(`rule not saved: ${JSON.stringify(saved.rules)}`);
    log("model order and a keyword rule saved through the form (server answered 200, GET shows them)");
    await page.getByRole("button", { name: "Edit as JSON (advanced)" }).click();
    const text = await page.getByLabel("Policy JSON").inputValue();
    if (JSON.parse(text).rules?.length !== 1) throw new Error("JSON editor does not show the saved policy");
    await page.getByRole("button", { name: /Back to the form/ }).click();
    await page.getByLabel(/Route every request as if it asked for/).check();
    await page.getByTestId("whatif").getByRole("button", { name: /Run what-if|Run again/ }).click();
    await page.getByTestId("cost-diff").waitFor({ timeout: 15_000 });
    const before = await page.getByTestId("cost-before").innerText();
    const after = await page.getByTestId("cost-after").innerText();
    const diff = (await page.getByTestId("cost-diff").innerText()).replace(/\s+/g, " ");
    if (!/^\$/.test(before) || !/^\$/.test(after)) throw new Error(`what-if costs not shown: ${before} / ${after}`);
    if (!/^[−+]?\$/.test(diff)) throw new Error(`what-if difference not shown: ${diff}`);
    // The tenant's ledger also holds other flows' traffic (short test prompts the classifier
    // may send up a tier), so the total's sign is not this flow's to assert; the replay must
    // cover this flow's sim-large requests and decide every request it replays.
    const sim = await (await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/routing/simulate`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ policy: saved, force_auto: true }),
    })).json();
    const count = (m) => Object.values(m ?? {}).reduce((a, b) => a + b, 0);
    if (!((sim.models_before?.["sim-large"] ?? 0) >= 2 && count(sim.models_after) > 0)) {
      throw new Error(`the what-if did not replay the traffic: ${JSON.stringify({ before: sim.models_before, after: sim.models_after })}`);
    }
    log(`what-if (force auto): before ${before}, after ${after}, difference ${diff}`);
    // A bad rule is reported at the rule, not as a JSON path at the top.
    await page.getByRole("button", { name: "Add rule" }).click();
    await page.getByRole("button", { name: "Save policy" }).click();
    const ruleError = page.locator('fieldset[data-rule="1"] .rule-error');
    await ruleError.waitFor({ timeout: 5000 });
    const atRule = (await ruleError.innerText()).trim();
    const top = (await page.locator("main .form-error").first().innerText()).trim();
    if (!/set at least one condition/.test(atRule)) throw new Error(`rule 2 does not say what is wrong: "${atRule}"`);
    if (/rules\[/.test(top)) throw new Error(`the top of the page still shows a JSON path: "${top}"`);
    await page.locator('fieldset[data-rule="1"]').screenshot({ path: path.join(OUT, "flow-routing-rule-error-1280.png") });
    await page.getByRole("button", { name: "Discard changes" }).click();
    log(`a rule with no condition: "${atRule}" shown at the rule; the top says "${top}"`);
  },

  /**
   * Savings: a key of its own names sim-large for easy and hard prompts; the Savings page offers to
   * route that key's sim-large traffic as auto, Apply (after a confirmation) changes the policy, and
   * the same prompts sent again are answered by the models the suggestion predicted. Other flows'
   * traffic is on other keys, so this flow's suggestion and prediction are its own.
   */
  async savings({ browser, tenant, log, shared }) {
    const token = await apiToken(ADMIN);
    const t = encodeURIComponent(tenant);
    const made = await fetch(`${BASE}/api/v1/tenants/${t}/keys`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      // Short: the usage page's key picker is as wide as its longest key name.
      body: JSON.stringify({ name: `e2e-sav-${Date.now() % 1e7}` }),
    });
    if (made.status !== 201) throw new Error(`create key through the API: HTTP ${made.status}`);
    const key = await made.json();
    const prompts = ["hello there", "thanks, that helps", "good morning", "say hi to Bob", "ok, bye", "what is the capital of Spain?",
      "Prove step by step that the square root of 2 is irrational.",
      "Analyze step by step the time complexity of merge sort and prove it is optimal among comparison sorts.",
      "Design a distributed rate limiter, reason step by step about consistency, and prove it never admits more than N requests."];
    const send = async (content) => {
      const r = await fetch(`${BASE}/v1/chat/completions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${key.secret}`, "Content-Type": "application/json" },
        body: JSON.stringify({ model: "sim-large", max_tokens: 16, messages: [{ role: "user", content }] }),
      });
      if (r.status !== 200) throw new Error(`chat through the savings key: HTTP ${r.status}`);
      await r.arrayBuffer();
      return { model: r.headers.get("x-tollgate-model"), reason: r.headers.get("x-tollgate-route-reason") ?? "" };
    };
    for (const p of prompts) await send(p);
    const list = async () =>
      (await (await fetch(`${BASE}/api/v1/tenants/${t}/suggestions`, { headers: { Authorization: `Bearer ${token}` } })).json()).data ?? [];
    // The ledger is written in batches: wait until the suggestion covers every request of the key.
    const mine = await until(async () => (await list()).find((s) => s.kind === "route_auto" && s.key_id === key.key.id && s.requests === prompts.length), 15_000, 500);
    if (!mine) throw new Error("no route-as-auto suggestion for the savings key");
    const predicted = mine.predicted_models;
    const page = await adminPage(browser, shared);
    await page.goto(tenantUrl(tenant, "savings"));
    const card = page.locator(`[data-testid="suggestion"][data-id="${mine.id}"]`);
    await card.waitFor({ timeout: 15_000 });
    const shown = (await card.innerText()).replace(/\s+/g, " ");
    if (!shown.includes("a month") || !/risk/.test(shown)) throw new Error(`the card shows no monthly saving or risk: ${shown}`);
    await page.screenshot({ path: path.join(OUT, "flow-savings-1280.png") });
    await card.getByRole("button", { name: "Apply" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Apply" }).click();
    await page.getByText("Suggestion applied").first().waitFor({ timeout: 10_000 });
    await page.getByTestId("applied-suggestions").waitFor({ timeout: 5000 });
    const got = {};
    for (const p of prompts) {
      const { model, reason } = await send(p);
      if (!reason.includes("key routes sim-large as auto")) throw new Error(`the route reason does not show the applied change: ${reason}`);
      got[model] = (got[model] ?? 0) + 1;
    }
    const norm = (m) => JSON.stringify(Object.fromEntries(Object.entries(m).sort()));
    if (norm(got) !== norm(predicted)) throw new Error(`live routing ${norm(got)} is not the predicted ${norm(predicted)}`);
    log(`applied "${mine.title}" (saves $${mine.monthly_savings_usd}/month, risk ${mine.risk}); live routing answered ${norm(got)} as predicted`);
    // The explorer's detail of one of these requests: the latency split and the fallbacks tried.
    await page.goto(tenantUrl(tenant, "requests"));
    await page.getByLabel("Key id").fill(key.key.id);
    const row = page.locator('[data-testid="requests-table"] tr[data-status="ok"]').first();
    await until(async () => (await row.count()) > 0, 15_000, 500);
    await row.getByRole("button", { name: "Details" }).click();
    const split = (await page.getByTestId("latency-split").innerText({ timeout: 5000 })).replace(/\s+/g, " ");
    if (!/Tollgate \d+ ms · upstream first byte \d+ ms · total \d+ ms/.test(split)) throw new Error(`no latency split in the detail: ${split}`);
    // Lower-cased: the drawer's labels are capitalised by CSS, which innerText follows.
    const detail = (await page.getByTestId("request-detail").innerText()).replace(/\s+/g, " ").toLowerCase();
    if (!detail.includes("fallbacks tried none") || !detail.includes("output limit 16 tokens")) throw new Error(`the detail lacks fallbacks or the output limit: ${detail}`);
    log(`the explorer's detail shows ${split}, no fallbacks, a 16-token limit`);
  },

  /** A viewer sees no "Create key" and the server refuses the viewer's create-key call (403). */
  async viewer({ browser, tenant, log }) {
    if (!VIEWER) throw new Error("set TOLLGATE_E2E_VIEWER_EMAIL and TOLLGATE_E2E_VIEWER_PASSWORD");
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    try {
      await login(page, VIEWER);
      await page.goto(tenantUrl(tenant, "keys"));
      await settle(page);
      await page.locator("main table, main .empty").first().waitFor({ timeout: 10_000 });
      const hidden = async (what) => {
        if ((await page.getByRole("button", { name: what }).count()) > 0) throw new Error(`viewer sees "${what}" on ${new URL(page.url()).pathname}`);
      };
      await hidden(/Create (your first )?key/);
      await hidden(/^Revoke/);
      await page.goto(tenantUrl(tenant, "usage"));
      await settle(page);
      await hidden("Export CSV");
      await page.goto(tenantUrl(tenant, "budgets"));
      await settle(page);
      await hidden(/^(Set|Add) budget$/);
      if ((await page.getByText("Alert webhook").count()) > 0) throw new Error("viewer sees the webhook card");
      await page.goto(tenantUrl(tenant, "models"));
      await settle(page);
      await page.locator("main table").first().waitFor({ timeout: 10_000 });
      await hidden(/^(Set|Edit) price/);
      log("no Create key, Revoke, Export CSV, Set budget, webhook or price editing for the viewer");
      const token = await apiToken(VIEWER);
      const res = await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/keys`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name: "viewer-should-not" }),
      });
      if (res.status !== 403) throw new Error(`viewer create-key: HTTP ${res.status}, want 403`);
      const csv = await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/usage.csv`, { headers: { Authorization: `Bearer ${token}` } });
      if (csv.status !== 403) throw new Error(`viewer usage.csv: HTTP ${csv.status}, want 403`);
      const price = await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/models/sim-small/price`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ input_per_million_usd: "1", output_per_million_usd: "1" }),
      });
      if (price.status !== 403) throw new Error(`viewer PUT price: HTTP ${price.status}, want 403`);
      log("viewer's POST keys → 403, usage.csv → 403, PUT models/sim-small/price → 403");
    } catch (e) {
      await page.screenshot({ path: path.join(OUT, "flow-viewer-failed.png"), fullPage: true }).catch(() => {});
      throw e;
    } finally {
      await context.close();
    }
  },

  /** Members and tenants are searched on the server: a debounced search finds one member, nonsense shows the empty state. */
  async members({ browser, tenant, log, shared }) {
    const token = await apiToken(ADMIN);
    const tag = `e2e${Date.now().toString(36)}`;
    const emails = [`${tag}-alice@e2e.example.com`, `${tag}-bob@e2e.example.com`];
    for (const email of emails) await addMember(token, tenant, email);
    const page = await adminPage(browser, shared);
    const searched = [];
    const onReq = (r) => {
      const u = new URL(r.url());
      if (u.pathname.endsWith("/members") && r.method() === "GET") searched.push(u.searchParams.get("q") ?? "");
    };
    page.on("request", onReq);
    await page.goto(tenantUrl(tenant, "members"));
    await settle(page);
    const search = page.getByRole("searchbox", { name: "Search members" });
    await search.pressSequentially(`${tag}-ali`, { delay: 20 });
    const rows = page.locator("main table tbody tr");
    const one = await until(async () => (await rows.count()) === 1 && (await rows.first().innerText()).includes(emails[0]), 10_000);
    if (!one) throw new Error(`search "${tag}-ali" did not narrow the table to ${emails[0]} (rows: ${await rows.count()})`);
    page.off("request", onReq);
    const typed = searched.filter((q) => q.startsWith(tag));
    if (typed.length === 0) throw new Error("the search never reached the server (no GET members?q=)");
    if (typed.length > 3) throw new Error(`search not debounced: ${typed.length} requests for one typed word (${typed.join(", ")})`);
    log(`members search "${tag}-ali" → 1 row from the server (${typed.length} request${typed.length > 1 ? "s" : ""} while typing)`);
    await search.fill(`${tag}-bob`);
    await page.locator("main table tbody tr", { hasText: emails[1] }).waitFor({ timeout: 10_000 });
    await search.fill(`${tag}-nobody`);
    await page.getByRole("heading", { name: `No members match “${tag}-nobody”` }).waitFor({ timeout: 10_000 });
    log("another search finds bob; a search with no match shows the empty state");
    // Paging: more members with the tag than one page (25) holds; Next and Previous follow next_cursor.
    const extra = 26;
    for (let i = 0; i < extra; i += 4)
      await Promise.all(
        Array.from({ length: Math.min(4, extra - i) }, (_, j) => addMember(token, tenant, `${tag}-p${String(i + j).padStart(2, "0")}@e2e.example.com`)),
      );
    const total = extra + emails.length;
    await search.fill(tag);
    const pager = page.getByRole("navigation", { name: "Pagination" });
    await pager.getByRole("button", { name: /Next/ }).waitFor({ timeout: 10_000 });
    await until(async () => (await rows.count()) === 25, 10_000);
    const first = await rows.first().innerText();
    await pager.getByRole("button", { name: /Next/ }).click();
    const rest = await until(async () => (await rows.count()) === total - 25 && (await rows.first().innerText()) !== first, 10_000);
    if (!rest) throw new Error(`page 2 has ${await rows.count()} rows, want ${total - 25}`);
    if (await pager.getByRole("button", { name: /Next/ }).isEnabled()) throw new Error("Next is enabled on the last page");
    await pager.getByRole("button", { name: /Previous/ }).click();
    if (!(await until(async () => (await rows.count()) === 25 && (await rows.first().innerText()) === first, 10_000))) throw new Error("Previous did not return to the first page");
    log(`${total} matching members: 25 on page 1, ${total - 25} after Next, back with Previous`);
    await page.goto(`${BASE}/admin/tenants`);
    await settle(page);
    const tsearch = page.getByRole("searchbox", { name: "Search tenants" });
    await tsearch.fill(tenant);
    await page.locator("main table tbody tr", { hasText: tenant }).first().waitFor({ timeout: 10_000 });
    await tsearch.fill(`${tag}-no-such-tenant`);
    await page.getByRole("heading", { name: `No tenants match “${tag}-no-such-tenant”` }).waitFor({ timeout: 10_000 });
    log(`tenants search finds "${tenant}"; no match shows the empty state`);
  },

  /**
   * Accounts: an admin invites an email in the UI and gets a one-time link (no password);
   * the invitee opens it in a fresh browser, chooses a password, lands in the tenant, and
   * signs in with it later; they change their password in the user menu (old one refused);
   * a revoked invitation's link no longer works.
   */
  async accounts({ browser, tenant, log, shared }) {
    const page = await adminPage(browser, shared);
    const tag = `e2e${Date.now().toString(36)}`;
    const invitee = { email: `${tag}-invitee@e2e.example.com`, password: "invitee chose this" };
    const invite = async (email) => {
      await page.goto(tenantUrl(tenant, "members"));
      await settle(page);
      await page.getByRole("button", { name: "Invite member" }).first().click();
      const dialog = page.getByRole("dialog");
      await dialog.getByLabel("Email").fill(email);
      await dialog.getByLabel("Role").selectOption("developer");
      await dialog.getByRole("button", { name: "Create invitation link" }).click();
      const url = ((await page.getByTestId("invite-link").locator("code").textContent({ timeout: 10_000 })) ?? "").trim();
      if (!new RegExp(`^${escapeRe(BASE)}/invite/tgl_[0-9A-Za-z]{43}$`).test(url)) throw new Error(`no invitation link shown (got "${url.slice(0, 40)}…")`);
      if (/temporary password/i.test(await page.getByTestId("invite-link").innerText())) throw new Error("the invite dialog hands out a password");
      await dialog.getByRole("button", { name: "Done" }).click();
      await page.getByTestId("pending-invitations").getByText(email).waitFor({ timeout: 10_000 });
      return url;
    };
    const link = await invite(invitee.email);
    log(`invited ${invitee.email} in the UI: one-time link shown once, listed as pending`);

    // The invitee, in a browser of their own, chooses a password and lands in the tenant.
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const p = await fresh.newPage();
      const errors = watchErrors(p);
      await p.goto(link);
      await p.getByRole("heading", { name: /^Join / }).waitFor({ timeout: 10_000 });
      await p.screenshot({ path: path.join(OUT, "flow-accounts-accept-invite.png") });
      await p.getByLabel("Choose a password").fill(invitee.password);
      await p.getByLabel("Repeat it").fill(invitee.password);
      await p.getByRole("button", { name: "Create account and join" }).click();
      await p.waitForURL((u) => u.pathname.startsWith(`/t/${tenant}`), { timeout: 15_000 });
      await p.waitForSelector("main h1", { timeout: 15_000 });
      log("the invitee set their own password through the link and landed in the tenant");
      // The link is spent.
      await p.goto(link);
      await p.getByRole("heading", { name: "This link doesn't work" }).waitFor({ timeout: 10_000 });
      // Signing in with the chosen password works in another fresh browser.
      const again = await browser.newContext();
      try {
        await login(await again.newPage(), invitee);
      } finally {
        await again.close();
      }
      log("the link works once; the invitee signs in with the password they chose");

      // Change password from the user menu; the old one stops working.
      await p.goto(tenantUrl(tenant, "overview"));
      await settle(p);
      await p.getByRole("button", { name: new RegExp(escapeRe(invitee.email)) }).click();
      await p.getByRole("button", { name: "Change password" }).click();
      const dialog = p.getByRole("dialog");
      const changed = "a changed password 42";
      await dialog.getByLabel("Current password").fill(invitee.password);
      await dialog.getByLabel("New password", { exact: true }).fill(changed);
      await dialog.getByLabel("Repeat the new password").fill(changed);
      await dialog.getByRole("button", { name: "Change password" }).click();
      await p.getByText("Password changed").first().waitFor({ timeout: 10_000 });
      const oldLogin = await fetch(`${BASE}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(invitee) });
      if (oldLogin.status !== 401) throw new Error(`the old password still signs in: HTTP ${oldLogin.status}`);
      invitee.token = await apiToken({ email: invitee.email, password: changed });
      const errs = errors.take().filter((e) => !/401|404/.test(e)); // the spent link's lookup answers 404 by design
      if (errs.length) throw new Error(errs.join(" | "));
      log("changed the password in the user menu: the new one signs in, the old one is refused");
    } finally {
      await fresh.close();
    }

    // Removing the invitee: the dialog counts the API keys they created and revokes them by default.
    const created = await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/keys`, {
      method: "POST",
      headers: { Authorization: `Bearer ${invitee.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: `${tag}-invitee-key`, scopes: ["inference"] }),
    });
    if (created.status !== 201) throw new Error(`the invitee could not create a key: HTTP ${created.status}`);
    const key = (await created.json()).secret;
    const models = async () => (await fetch(`${BASE}/v1/models`, { headers: { Authorization: `Bearer ${key}` } })).status;
    if ((await models()) !== 200) throw new Error("the invitee's key does not work before the removal");
    await page.goto(tenantUrl(tenant, "members"));
    await settle(page);
    await page.getByRole("searchbox", { name: "Search members" }).fill(invitee.email);
    await page.getByRole("button", { name: `Remove ${invitee.email}` }).click();
    const removal = page.getByRole("dialog");
    const keyChoice = removal.getByTestId("revoke-keys");
    if (!/revoke the 1 API key/.test(await keyChoice.innerText({ timeout: 10_000 }))) throw new Error(`the removal dialog does not count the key: "${await keyChoice.innerText()}"`);
    if (!(await keyChoice.getByRole("checkbox").isChecked())) throw new Error("revoking the member's keys is not the default");
    await removal.getByRole("button", { name: "Remove member" }).click();
    await page.getByText("Member removed").first().waitFor({ timeout: 10_000 });
    if (!(await until(async () => (await models()) === 401, 5_000))) throw new Error("the removed member's key still works");
    log("removing the invitee: the dialog counted their 1 API key, revoked by default; /v1 answers 401 with it");

    // On the platform's Users page, a superadmin disables the (now tenant-less) invitee, then enables them.
    await page.goto(`${BASE}/admin/users`);
    await settle(page);
    await page.getByRole("searchbox", { name: "Search users" }).fill(invitee.email);
    const tryLogin = async () =>
      (await fetch(`${BASE}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: invitee.email, password: "a changed password 42" }) })).status;
    await page.getByRole("button", { name: `Disable: ${invitee.email}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Disable user" }).click();
    await page.getByText("User disabled").first().waitFor({ timeout: 10_000 });
    if ((await tryLogin()) !== 401) throw new Error("a disabled user can still sign in");
    await page.getByRole("button", { name: `Enable: ${invitee.email}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Enable user" }).click();
    await page.getByText("User enabled").first().waitFor({ timeout: 10_000 });
    if ((await tryLogin()) !== 200) throw new Error("an enabled user cannot sign in");
    log("Users page: disabled (sign-in refused), enabled again (sign-in works)");

    // A revoked invitation's link stops working.
    const revokedEmail = `${tag}-revoked@e2e.example.com`;
    const revoked = await invite(revokedEmail);
    await page.getByRole("button", { name: `Revoke the invitation of ${revokedEmail}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke invitation" }).click();
    await page.getByText("Invitation revoked").first().waitFor({ timeout: 10_000 });
    const ctx = await browser.newContext();
    try {
      const p = await ctx.newPage();
      await p.goto(revoked);
      await p.getByRole("heading", { name: "This link doesn't work" }).waitFor({ timeout: 10_000 });
    } finally {
      await ctx.close();
    }
    log("a revoked invitation's link shows \"This link doesn't work\"");
  },

  /** A negotiated price set in the UI (the form refuses a price finer than $0.001/M first), seen on the models page and in the API; then removed after a confirmation. */
  async prices({ browser, tenant, log, shared }) {
    const model = "sim-small";
    const token = await apiToken(ADMIN);
    const read = async () => {
      const res = await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/models`, { headers: { Authorization: `Bearer ${token}` } });
      return (await res.json()).data.find((m) => m.id === model);
    };
    if ((await read())?.override) throw new Error(`${model} already has an override; use a fresh tenant`);
    const page = await adminPage(browser, shared);
    await page.goto(tenantUrl(tenant, "models"));
    await settle(page);
    const row = page.locator(`main tr[data-model="${model}"]`);
    if ((await row.getAttribute("data-price")) !== "list") throw new Error(`${model} does not show the list price`);
    await page.getByRole("button", { name: `Edit price of ${model}` }).click();
    const dialog = page.getByRole("dialog");
    const input = dialog.getByLabel("Input", { exact: true });
    if (!(await input.evaluate((el) => el === document.activeElement))) throw new Error("the price dialog did not focus its first field");
    await input.fill("0.5");
    // The form starts from the list price, cached input included; emptied, it follows input.
    await dialog.getByLabel("Cached input", { exact: true }).fill("");
    await dialog.getByLabel("Output", { exact: true }).fill("1.0001");
    await dialog.getByRole("button", { name: "Save price" }).click();
    await dialog.getByText(/round “1.0001” to 3 decimals/).waitFor({ timeout: 5000 });
    log("the form refuses $1.0001/M (finer than $0.001/M) before sending");
    await dialog.getByLabel("Output", { exact: true }).fill("1.2");
    await dialog.getByRole("button", { name: "Save price" }).click();
    await page.getByText("Price saved").first().waitFor({ timeout: 10_000 });
    await until(async () => (await row.getAttribute("data-price")) === "tenant", 10_000);
    const cells = (await row.innerText()).replace(/\s+/g, " ");
    if (!cells.includes("$0.50") || !cells.includes("$1.20")) throw new Error(`models page row after save: ${cells}`);
    const after = await read();
    if (after?.override?.input_per_million_usd !== "0.500000000" || after.override.output_per_million_usd !== "1.200000000") throw new Error(`API override after save: ${JSON.stringify(after?.override)}`);
    if (after.cached_input_per_million_usd !== "0.500000000") throw new Error(`cached input should follow input when left empty, got ${after.cached_input_per_million_usd}`);
    log(`override $0.50 in / $1.20 out per 1M saved; the models page shows it as the tenant's price and the API agrees`);
    await page.reload();
    await settle(page);
    await page.getByRole("button", { name: `Edit price of ${model}` }).click();
    await dialog.getByRole("button", { name: "Remove override…" }).click();
    await dialog.getByTestId("confirm-remove-price").waitFor({ timeout: 5000 });
    const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
    if (focused !== "Keep the negotiated price") throw new Error(`the remove confirmation focused "${focused}", not the safe choice`);
    await dialog.getByRole("button", { name: "Remove override", exact: true }).click();
    await page.getByText("Override removed").first().waitFor({ timeout: 10_000 });
    await until(async () => (await row.getAttribute("data-price")) === "list", 10_000);
    const cleared = await read();
    if (cleared?.override !== null || cleared.input_per_million_usd !== "0.150000000") throw new Error(`API after removal: ${JSON.stringify(cleared)}`);
    log("removed after a confirmation (focus on Keep); the models page and the API show the list price $0.15/M again");
  },

  /** The superadmin's providers page shows where each key and base URL come from; a key stored in the UI is never echoed; removed again. */
  async providers({ browser, log, shared }) {
    const token = await apiToken(ADMIN);
    const list = async () => (await (await fetch(`${BASE}/api/v1/providers`, { headers: { Authorization: `Bearer ${token}` } })).json()).data;
    const before = await list();
    const page = await adminPage(browser, shared);
    await page.goto(`${BASE}/admin/providers`);
    await settle(page);
    await page.getByText("Environment variables win.").waitFor({ timeout: 10_000 });
    const word = { env: "environment", stored: "stored", default: "default" };
    for (const p of before) {
      const card = page.getByTestId(`provider-${p.name}`);
      const key = (await card.getByTestId("key-source").innerText()).trim();
      const want = p.key_set ? `set · ${word[p.key_source]}` : "not set";
      if (key !== want) throw new Error(`${p.name}: key shows "${key}", the API says ${JSON.stringify({ key_set: p.key_set, key_source: p.key_source })}`);
      if (!(await card.innerText()).includes(p.base_url)) throw new Error(`${p.name}: base URL ${p.base_url} not shown`);
    }
    const envName = env.TOLLGATE_E2E_ENV_BASE_URL_PROVIDER;
    if (envName) {
      const p = before.find((x) => x.name === envName);
      if (p?.base_url_source !== "env") throw new Error(`${envName}: the API says base_url_source ${p?.base_url_source}, want env`);
      if (!(await page.getByTestId(`provider-${envName}`).innerText()).includes("environment")) throw new Error(`${envName}: the page does not say its base URL comes from the environment`);
    }
    log(`${before.length} providers match the API (${before.map((p) => `${p.name}: key ${p.key_set ? p.key_source : "unset"}, url ${p.base_url_source}`).join("; ")})`);
    // Store a key for a provider without one (the env-URL one when there is one: it points nowhere, so nothing can reach a real upstream).
    const target = before.find((p) => p.name === envName && !p.key_set && !p.stored) ?? before.find((p) => !p.key_set && !p.stored && p.name !== "openrouter");
    if (!target) {
      log("every provider already has a key: store/remove skipped");
      return;
    }
    const secret = `sk-e2e-${Date.now().toString(36)}-do-not-echo`;
    await page.getByTestId(`provider-${target.name}`).getByRole("button", { name: /^Configure/ }).click();
    const dialog = page.getByRole("dialog");
    const keyField = dialog.getByLabel("API key");
    if ((await keyField.getAttribute("type")) !== "password") throw new Error("the API key field is not a password field");
    if ((await keyField.inputValue()) !== "") throw new Error("the API key field is prefilled");
    await keyField.fill(secret);
    await dialog.getByRole("button", { name: "Save" }).click();
    await page.getByText(/saved$/).first().waitFor({ timeout: 10_000 });
    const card = page.getByTestId(`provider-${target.name}`);
    await until(async () => (await card.getByTestId("key-source").innerText()).trim() === "set · stored", 10_000);
    const raw = await (await fetch(`${BASE}/api/v1/providers`, { headers: { Authorization: `Bearer ${token}` } })).text();
    if (raw.includes(secret)) throw new Error("GET /providers echoes the stored key");
    await page.reload();
    await settle(page);
    if ((await page.content()).includes(secret)) throw new Error("the providers page shows the stored key after reload");
    await card.getByRole("button", { name: /^Change/ }).click();
    if ((await dialog.getByLabel("API key").inputValue()) !== "") throw new Error("the API key field is prefilled with the stored key");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    log(`${target.name}: key stored in the UI shows "set · stored", enabled; never echoed by the API or the page`);
    await card.getByRole("button", { name: /^Remove stored settings/ }).click();
    await dialog.getByRole("button", { name: "Remove stored settings" }).click();
    await page.getByText("Stored settings removed").first().waitFor({ timeout: 10_000 });
    await until(async () => (await card.getByTestId("key-source").innerText()).trim() === "not set", 10_000);
    const after = (await list()).find((p) => p.name === target.name);
    if (after.stored || after.key_set) throw new Error(`${target.name} after removal: ${JSON.stringify(after)}`);
    log(`${target.name}: stored settings removed in the UI (after a confirmation); key not set again`);
  },

  /** Single sign-on: "Sign in with SSO" with a work email, the provider's own login form, back signed in as a new member. */
  async sso({ browser, tenant, log, shared }) {
    const who = { email: env.TOLLGATE_E2E_SSO_EMAIL, username: env.TOLLGATE_E2E_SSO_USERNAME, password: env.TOLLGATE_E2E_SSO_PASSWORD };
    if (!who.email) {
      log("TOLLGATE_E2E_SSO_EMAIL unset: skipped");
      return;
    }
    const token = await apiToken(ADMIN);
    const members = async () => {
      const r = await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/members?q=${encodeURIComponent(who.email)}`, { headers: { Authorization: `Bearer ${token}` } });
      return (await r.json()).data ?? [];
    };
    if ((await members()).length) throw new Error(`${who.email} is a member before signing in`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      // The console's errors only: the provider's own page (its missing favicon) is not ours.
      const consoleErrors = [];
      page.on("console", (m) => {
        if (m.type() === "error" && (m.location()?.url ?? "").startsWith(BASE)) consoleErrors.push(`console: ${m.text()}`);
      });
      page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
      const errs = { take: () => consoleErrors.splice(0, consoleErrors.length) };
      await page.goto(`${BASE}/login`, { waitUntil: "domcontentloaded" });
      await page.getByLabel("Email").fill(who.email);
      await page.getByRole("button", { name: "Sign in with SSO" }).click();
      // The identity provider's own login form, on its own origin.
      await page.waitForURL((u) => u.origin !== BASE, { timeout: 15_000 });
      const op = new URL(page.url()).origin;
      await page.locator("#username").fill(who.username);
      await page.locator("#password").fill(who.password);
      await page.getByRole("button", { name: "Login" }).click();
      await page.waitForURL((u) => u.origin === BASE && !u.pathname.startsWith("/login"), { timeout: 20_000 }).catch(async () => {
        const msg = await page.locator(".form-error").textContent().catch(() => null);
        throw new Error(`SSO sign-in did not land in the console (at ${page.url()})${msg ? `: ${msg}` : ""}`);
      });
      await page.waitForSelector("main h1", { timeout: 15_000 });
      if (page.url().includes("handoff")) throw new Error("the hand-off is still in the address bar");
      log(`signed in through the provider at ${op}; landed on ${new URL(page.url()).pathname}`);
      const m = (await members()).find((x) => x.email === who.email);
      if (!m) throw new Error(`${who.email} is not a member after SSO`);
      if (env.TOLLGATE_E2E_SSO_ROLE && m.role !== env.TOLLGATE_E2E_SSO_ROLE) throw new Error(`member role ${m.role}, want ${env.TOLLGATE_E2E_SSO_ROLE} (group mapping)`);
      const audit = await (await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(tenant)}/audit?q=joined_sso`, { headers: { Authorization: `Bearer ${token}` } })).text();
      if (!audit.includes(who.email)) throw new Error("no member.joined_sso audit entry");
      log(`member created with role ${m.role} from the group mapping; audited`);
      // A reload keeps the session (the same refresh mechanism as password sign-in).
      await page.reload();
      await page.waitForSelector("main h1", { timeout: 15_000 });
      if (new URL(page.url()).pathname.startsWith("/login")) throw new Error("the SSO session did not survive a reload");
      const e = errs.take();
      if (e.length) throw new Error(e.join(" | "));
    } finally {
      await context.close();
    }
    // The admin sees the provider on the settings page, from the environment.
    const page = await adminPage(browser, shared);
    await page.goto(tenantUrl(tenant, "sso"));
    await settle(page);
    const status = await page.getByTestId("sso-status").innerText();
    if (!status.includes("environment") || !status.includes("Enabled")) throw new Error(`SSO page status: ${status.replace(/\s+/g, " ")}`);
    if (!(await page.getByTestId("sso-redirect").innerText()).endsWith("/api/v1/auth/sso/callback")) throw new Error("SSO page shows no redirect URL");
    log("SSO settings page shows the environment's provider, enabled, with its redirect URL");
  },

  /**
   * The tenant switcher and an unknown tenant: an unknown tenant is one "Tenant not
   * found" page, with no error boxes and no live-feed socket (so no reconnect loop); a
   * superadmin switches to a tenant it is not a member of and back; a member of two
   * tenants sees both, with their roles, and switches.
   */
  async tenants({ browser, tenant, log, shared }) {
    const token = await apiToken(ADMIN);
    const tag = Date.now().toString(36);
    const made = await fetch(`${BASE}/api/v1/tenants`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: `E2E Second ${tag}` }),
    });
    if (made.status !== 201) throw new Error(`create a second tenant through the API: HTTP ${made.status}`);
    const second = await made.json();
    const page = await adminPage(browser, shared);
    const sockets = [];
    const onSocket = (ws) => sockets.push(ws.url());
    page.on("websocket", onSocket);
    try {
      const unknown = `no-such-tenant-${tag}`;
      await page.goto(tenantUrl(unknown, "keys"));
      await page.getByRole("heading", { name: "Tenant not found" }).waitFor({ timeout: 10_000 });
      await sleep(3000); // long enough for a failing live feed to have retried
      const boxes = await page.locator("main .error-state").count();
      const headings = await page.locator("main h1").count();
      const tried = sockets.filter((u) => u.includes(`/tenants/${unknown}/`)).length;
      if (boxes) throw new Error(`the unknown tenant shows ${boxes} error boxes`);
      if (headings !== 1) throw new Error(`the unknown tenant shows ${headings} headings, want one "Tenant not found"`);
      if (tried) throw new Error(`the live feed opened ${tried} socket(s) for the unknown tenant`);
      if (await page.locator(".live").count()) throw new Error("the live indicator shows for an unknown tenant");
      // The browser logs the one lookup that found no tenant (HTTP 404) as a console
      // error: that one is expected, any other is not.
      const unexpected = (shared.errors?.take() ?? []).filter((e) => !/status of 404/.test(e));
      if (unexpected.length) throw new Error(unexpected.join(" | "));
      await page.screenshot({ path: path.join(OUT, "tenant-not-found-1280.png"), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: path.join(OUT, "tenant-not-found-390.png"), fullPage: true });
      await page.setViewportSize({ width: 1280, height: 800 });
      log(`/t/${unknown}/keys: one "Tenant not found" page, no error boxes, no live-feed socket in 3 s`);

      await page.goto(tenantUrl(tenant, "keys"));
      await settle(page);
      const switcher = page.getByTestId("tenant-switcher");
      const options = await switcher.locator("option").allTextContents();
      if (!options.some((o) => o.includes(second.name))) throw new Error(`the superadmin's switcher does not list ${second.name}: ${options.join(" | ")}`);
      await switcher.selectOption(second.slug);
      await page.waitForURL((u) => u.pathname === `/t/${second.slug}/keys`, { timeout: 10_000 });
      await page.getByRole("heading", { name: "API keys", exact: true }).waitFor({ timeout: 10_000 });
      await settle(page);
      if (await page.locator("main .error-state").count()) throw new Error(`the keys page of ${second.slug} shows an error`);
      await page.screenshot({ path: path.join(OUT, "tenant-switcher-1280.png") });
      await page.getByTestId("tenant-switcher").selectOption(tenant);
      await page.waitForURL((u) => u.pathname === `/t/${tenant}/keys`, { timeout: 10_000 });
      log(`superadmin: the switcher lists ${options.length} tenants; switched to ${second.slug}'s keys (not a member) and back`);
    } finally {
      page.off("websocket", onSocket);
    }

    if (!VIEWER) {
      log("no viewer: the member-of-two-tenants check is skipped");
      return;
    }
    // The viewer joins the second tenant as a developer (an invitation accepted while signed in).
    const inv = await fetch(`${BASE}/api/v1/tenants/${encodeURIComponent(second.slug)}/invitations`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ email: VIEWER.email, role: "developer" }),
    });
    if (inv.status !== 201) throw new Error(`invite the viewer to ${second.slug}: HTTP ${inv.status}`);
    const link = (await inv.json()).url;
    const accepted = await fetch(`${BASE}/api/v1/links/accept`, {
      method: "POST",
      headers: { Authorization: `Bearer ${await apiToken(VIEWER)}`, "Content-Type": "application/json" },
      body: JSON.stringify({ token: link.slice(link.lastIndexOf("/") + 1) }),
    });
    if (accepted.status !== 200) throw new Error(`the viewer accepts the invitation: HTTP ${accepted.status}`);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const vpage = await context.newPage();
      await login(vpage, VIEWER);
      await vpage.goto(tenantUrl(tenant, "overview"));
      await settle(vpage);
      const switcher = vpage.getByTestId("tenant-switcher");
      const options = (await switcher.locator("option").allTextContents()).map((o) => o.trim());
      if (options.length !== 2 || !options.some((o) => o.includes(second.name) && o.includes("Developer")) || !options.some((o) => o.includes("Viewer")))
        throw new Error(`the member's switcher shows ${options.join(" | ")}, want both tenants with their roles`);
      const box = await switcher.boundingBox();
      if (!box || box.x < 0 || box.x + box.width > 390.5) throw new Error("the switcher lies outside a 390 px screen");
      await switcher.selectOption(second.slug);
      await vpage.waitForURL((u) => u.pathname === `/t/${second.slug}/overview`, { timeout: 10_000 });
      await vpage.getByRole("heading", { name: "Overview", exact: true }).waitFor({ timeout: 10_000 });
      await vpage.screenshot({ path: path.join(OUT, "tenant-switcher-member-390.png") });
      log(`a member of two tenants: the switcher shows ${options.join(" | ")} and switches`);
    } finally {
      await context.close();
    }
  },

  /**
   * Phones (390 px): on the keys and budgets pages every row action (Rotate, Revoke,
   * Edit, Delete) and every cell lies inside the viewport (the flow fails on any
   * bounding box outside it), and a budget's bar stays inside its card.
   */
  async mobile({ browser, tenant, log }) {
    const token = await apiToken(ADMIN);
    const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    const t = encodeURIComponent(tenant);
    const made = await fetch(`${BASE}/api/v1/tenants/${t}/keys`, { method: "POST", headers, body: JSON.stringify({ name: "e2e-mobile key with a rather long name" }) });
    if (made.status !== 201) throw new Error(`create a key through the API: HTTP ${made.status}`);
    const key = (await made.json()).key;
    const budget = await fetch(`${BASE}/api/v1/tenants/${t}/budgets`, {
      method: "POST",
      headers,
      body: JSON.stringify({ scope: "key", scope_id: key.id, period: "month", limit_usd: "1000", hard: false, alert_at: [50, 80, 100], downgrade_at: null }),
    });
    if (budget.status !== 201 && budget.status !== 200) throw new Error(`set a soft key budget through the API: HTTP ${budget.status}`);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
    try {
      const page = await context.newPage();
      await login(page);
      for (const [name, actions] of [
        ["keys", ["Rotate", "Revoke"]],
        ["budgets", ["Edit", "Delete"]],
      ]) {
        await page.goto(tenantUrl(tenant, name));
        await settle(page);
        await page.locator("main table tbody tr").first().waitFor({ timeout: 10_000 });
        const counts = [];
        for (const a of actions) {
          const n = await page.locator("main table").getByRole("button", { name: new RegExp(`^${a}\\b`) }).count();
          if (n === 0) throw new Error(`no ${a} button on the ${name} page to check`);
          counts.push(`${n} ${a}`);
        }
        const outside = [...(await outsideViewport(page, "main table button")), ...(await outsideViewport(page, "main table tbody td"))];
        if (outside.length) throw new Error(`${name} at 390 px: ${outside.slice(0, 5).join("; ")}`);
        await page.screenshot({ path: path.join(OUT, `flow-mobile-${name}-390.png`), fullPage: true });
        log(`${name}: ${counts.join(", ")} and every cell inside the 390 px viewport`);
      }
      const bars = await page.evaluate(() =>
        [...document.querySelectorAll('[data-testid="budget-spend"] .meter')].map((m) => {
          const r = m.getBoundingClientRect();
          const card = m.closest(".card").getBoundingClientRect();
          return { left: r.left - card.left, right: card.right - r.right, width: r.width };
        }),
      );
      if (bars.length === 0) throw new Error("no budget bar to check");
      const bad = bars.filter((b) => b.left < 0 || b.right < 0 || b.width < 40);
      if (bad.length) throw new Error(`budget bars outside their cards: ${JSON.stringify(bad)}`);
      log(`${bars.length} budget bar(s) inside their cards`);
      // A toast on a phone covers the top bar, never the page, and the next page clears it.
      await page.goto(tenantUrl(tenant, "keys"));
      await settle(page);
      await page.getByRole("button", { name: `Revoke key ${key.name}` }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
      const toast = page.locator(".toast", { hasText: "Key revoked" });
      await toast.waitFor({ timeout: 10_000 });
      const tb = await toast.boundingBox();
      const bar = await page.locator("header.topbar").boundingBox();
      if (!tb || tb.y + tb.height > bar.y + bar.height + 0.5) throw new Error(`the toast reaches below the top bar into the page: ${JSON.stringify(tb)} vs ${JSON.stringify(bar)}`);
      await page.screenshot({ path: path.join(OUT, "flow-mobile-toast-390.png") });
      await page.getByRole("button", { name: "Open navigation" }).click();
      await page.locator("#sidenav").getByRole("link", { name: "Budgets & alerts" }).click();
      await page.waitForURL((u) => u.pathname.endsWith("/budgets"));
      if (await page.locator(".toast").count()) throw new Error("the keys page's toast is still shown on the budgets page");
      log("the toast covered only the top bar, and the next page cleared it");
    } finally {
      await context.close();
    }
  },

  /**
   * Bring your history: an OpenRouter activity export with a malformed row in the middle is refused
   * row by row and imports nothing; the good file is checked (dry run), imported, shown with what
   * Tollgate would have cost, and seen in the usage analytics marked "imported". Its days lie 40
   * days back, apart from this month's served traffic other flows compare against invoices.
   */
  async import({ browser, tenant, log, shared }) {
    const token = await apiToken(ADMIN);
    const t = encodeURIComponent(tenant);
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    const runsBefore = (await (await fetch(`${BASE}/api/v1/tenants/${t}/usage/imports`, auth)).json()).data.length;
    const day = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
    const run = Date.now();
    const header = "generation_id,created_at,cost_total,tokens_prompt,tokens_completion,tokens_cached,model_permaslug,user,api_key_name";
    const rows = [0, 1, 2, 3, 4].map(
      (i) => `gen-e2e-${run}-${i},${day} 1${i}:00:00.000,0.00${i + 1}5,${1000 + i},${100 + i},0,openai/gpt-4o${i % 2 ? "-mini" : ""},e2e-user-${i % 2},e2e-app`,
    );
    const wantCost = 0.0015 + 0.0025 + 0.0035 + 0.0045 + 0.0055; // $0.0175, 17,500,000 nano
    const good = [header, ...rows].join("\n") + "\n";
    const bad = [header, rows[0], rows[1], `gen-e2e-${run}-bad,${day} 12:30:00,0.001,many,1,0,openai/gpt-4o,u,e2e-app`, rows[2]].join("\n") + "\n";

    const page = await adminPage(browser, shared);
    await page.goto(tenantUrl(tenant, "usage"));
    await settle(page);
    await page.getByRole("link", { name: "Import history" }).click();
    await page.getByRole("heading", { name: "Import usage history" }).waitFor({ timeout: 10_000 });
    const file = (text) => ({ name: "openrouter-activity.csv", mimeType: "text/csv", buffer: Buffer.from(text) });

    // A malformed row in the middle: refused, every bad row by line, nothing imported.
    await page.getByLabel("Export file").setInputFiles(file(bad));
    await page.getByRole("button", { name: "Import", exact: true }).click();
    const refused = page.getByRole("alert", { name: "Import refused" });
    await refused.waitFor({ timeout: 10_000 });
    const lines = await refused.getByRole("listitem").allInnerTexts();
    if (lines.length !== 1 || !lines[0].startsWith("line 4: tokens_prompt \"many\"")) throw new Error(`malformed rows listed as ${JSON.stringify(lines)}`);
    // The browser logs the refusal's 422 as a failed resource: expected here, and the only error allowed.
    const unexpected = (shared.errors?.take() ?? []).filter((e) => !/status of 422/.test(e));
    if (unexpected.length) throw new Error(unexpected.join(" | "));
    const runsAfterBad = (await (await fetch(`${BASE}/api/v1/tenants/${t}/usage/imports`, auth)).json()).data.length;
    if (runsAfterBad !== runsBefore) throw new Error("a refused file left an import run behind");
    log(`malformed file refused: "${lines[0]}"; nothing imported`);

    // The good file: checked without writing, then imported.
    await page.getByLabel("Export file").setInputFiles(file(good));
    await page.getByRole("button", { name: "Check file" }).click();
    const status = page.getByRole("status", { name: "Import result" });
    await status.filter({ hasText: "Checked, nothing written" }).waitFor({ timeout: 10_000 });
    if (!(await status.innerText()).includes("5 new")) throw new Error(`dry run: ${await status.innerText()}`);
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await status.filter({ hasText: "Imported:" }).waitFor({ timeout: 10_000 });
    const done = (await status.innerText()).replace(/\s+/g, " ");
    if (!done.includes("5 new") || !done.includes("$0.0175")) throw new Error(`import result: ${done}`);
    const whatIf = page.getByRole("region", { name: "What Tollgate would have cost" });
    await whatIf.waitFor({ timeout: 15_000 });
    const whatIfText = (await whatIf.innerText()).replace(/\s+/g, " ");
    if (!/of them imported/.test(whatIfText)) throw new Error(`what-if: ${whatIfText}`);
    const listed = await page.getByRole("region", { name: "Past imports" }).getByRole("row").filter({ hasText: "openrouter-activity.csv" }).count();
    if (listed !== 1) throw new Error(`past imports list the file ${listed} times`);
    await page.screenshot({ path: path.join(OUT, "flow-import-1280.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(OUT, "flow-import-390.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    log(`imported: ${done}; what-if: ${whatIfText}`);

    // The same file again counts nothing twice.
    const again = await (await fetch(`${BASE}/api/v1/tenants/${t}/usage/import?format=openrouter`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "text/csv" }, body: good })).json();
    if (again.new !== 0 || again.unchanged !== 5) throw new Error(`re-import: ${JSON.stringify(again)}`);

    // Analytics: the usage page over those days shows the rows, marked imported, at the export's cost.
    await page.getByRole("link", { name: "See it in Usage" }).click();
    await page.waitForURL((u) => u.pathname.endsWith("/usage"), { timeout: 10_000 });
    await settle(page);
    const row = page.getByRole("region", { name: "Usage table" }).getByRole("row").filter({ hasText: "imported" });
    await row.first().waitFor({ timeout: 10_000 });
    const cells = (await row.first().innerText()).replace(/\s+/g, " ");
    if (!cells.includes("$0.0175")) throw new Error(`usage row of imported history: ${cells}`);
    const imported = await (await fetch(`${BASE}/api/v1/tenants/${t}/usage?from=${day}&to=${day}&source=imported`, auth)).json();
    if (imported.totals.requests !== 5 || imported.totals.cost_nano !== 17_500_000) throw new Error(`usage?source=imported: ${JSON.stringify(imported.totals)}`);
    const served = await (await fetch(`${BASE}/api/v1/tenants/${t}/usage?from=${day}&to=${day}&source=served`, auth)).json();
    if (served.totals.requests !== 0) throw new Error(`imported rows counted as served: ${JSON.stringify(served.totals)}`);
    await page.screenshot({ path: path.join(OUT, "flow-import-usage-1280.png"), fullPage: true });
    log(`usage page ${day}: "${cells}" (source=imported: 5 requests, $${wantCost.toFixed(4)}; served: 0)`);
  },
};

async function main() {
  await mkdir(OUT, { recursive: true });
  const report = { base: BASE, started: new Date().toISOString(), pages: [], flows: [] };
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: env.TOLLGATE_E2E_HEADFUL !== "1", args: LAUNCH_ARGS });
  let failed = false;
  const shared = {};
  try {
    // Where login lands tells the tenant (and whether we are superadmin).
    const probe = await browser.newContext();
    const probePage = await probe.newPage();
    await login(probePage);
    const tenant = await currentTenant(probePage);
    await probe.close();

    const wanted = (env.TOLLGATE_E2E_FLOWS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const names = wanted.includes("all") ? Object.keys(FLOWS) : wanted;
    for (const name of names) {
      const flow = FLOWS[name];
      const entry = { flow: name, ok: true, log: [] };
      const t0 = Date.now();
      if (!flow) {
        entry.ok = false;
        entry.log.push(`unknown flow (have: ${Object.keys(FLOWS).join(", ")})`);
      } else {
        try {
          await flow({ browser, tenant, log: (m) => entry.log.push(m), shared });
          const errs = shared.errors?.take() ?? [];
          if (errs.length) throw new Error(errs.join(" | "));
        } catch (e) {
          entry.ok = false;
          entry.log.push(String(e.message ?? e).split("\n")[0]);
          if (shared.page) await shared.page.screenshot({ path: path.join(OUT, `flow-${name}-failed-admin-page.png`), fullPage: true }).catch(() => {});
        }
      }
      entry.ms = Date.now() - t0;
      report.flows.push(entry);
      console.log(`${entry.ok ? "ok  " : "FAIL"} flow ${name} (${entry.ms} ms): ${entry.log.join("; ")}`);
    }
    await shared.context?.close();
    shared.sink?.server.close();

    let who = null;
    for (const vp of VIEWPORTS) who = await tour(browser, vp, report);
    if (VIEWER) for (const vp of VIEWPORTS) await tour(browser, vp, report, VIEWER, "viewer-");
    if (who?.tenant ?? tenant) await measureTti(browser, who?.tenant ?? tenant, report);
    await measureBundle(report);
  } catch (e) {
    report.fatal = String(e.stack ?? e);
    console.error(`e2e: ${e.message ?? e}`);
    failed = true;
  } finally {
    await browser.close();
  }
  const passed = report.pages.filter((p) => p.ok).length + report.flows.filter((f) => f.ok).length;
  const fails = report.pages.length + report.flows.length - passed;
  failed ||= fails > 0;
  report.finished = new Date().toISOString();
  await writeFile(path.join(OUT, "report.json"), JSON.stringify(report, null, 2));
  console.log(`screenshots and report.json in ${path.relative(process.cwd(), OUT) || "."}`);
  console.log(`${passed} passed, ${fails} failed`);
  process.exit(failed ? 1 : 0);
}

main();
