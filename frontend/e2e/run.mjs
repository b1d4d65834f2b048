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
//   TOLLGATE_E2E_FLOWS     comma-separated flows to run after the page tour, or "all"
//                          (see FLOWS below; they need the real backend)
//   TOLLGATE_E2E_TTI_RUNS  overview loads to measure (default 3; the median is reported)
//   TOLLGATE_E2E_HEADFUL=1 show the browser (needs a display)

import { chromium } from "playwright-core";
import { mkdir, writeFile } from "node:fs/promises";
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

const VIEWPORTS = [
  { name: "1280", width: 1280, height: 800 },
  { name: "390", width: 390, height: 844, isMobile: true },
];

/** Tenant pages (path under /t/{tenant}/) and platform pages (absolute). Keep in sync with src/layout/pages.ts. */
const PAGES = [
  { name: "overview", path: "overview", ready: '[data-testid="kpi-cards"][data-state="ready"]' },
  { name: "usage", path: "usage" },
  { name: "keys", path: "keys" },
  { name: "members", path: "members" },
  { name: "budgets", path: "budgets" },
  { name: "routing", path: "routing" },
  { name: "models", path: "models" },
  { name: "invoices", path: "invoices" },
  { name: "audit", path: "audit" },
  { name: "tenants", abs: "/admin/tenants", superadmin: true },
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

async function login(page) {
  await page.goto(`${BASE}/login`, { waitUntil: "domcontentloaded" });
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
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

async function tour(browser, vp, report) {
  const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height }, isMobile: !!vp.isMobile, hasTouch: !!vp.isMobile, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errs = watchErrors(page);
  await login(page);
  const tenant = await currentTenant(page);
  const superadmin = await isSuperadmin(page);
  if (!tenant && !superadmin) throw new Error("login landed on no tenant; set TOLLGATE_E2E_TENANT");
  // The nav lists only pages the user's role may open; others are skipped, not failed.
  const navHrefs = new Set(await page.locator("#sidenav a").evaluateAll((as) => as.map((a) => a.getAttribute("href"))));
  errs.take();
  for (const p of PAGES) {
    if (p.superadmin && !superadmin) continue;
    if (!p.abs && !tenant) continue;
    const rel = p.abs ?? `/t/${encodeURIComponent(tenant)}/${p.path}`;
    if (!navHrefs.has(rel)) {
      console.log(`skip ${vp.name.padStart(4)} ${p.name.padEnd(9)} (not in this role's navigation)`);
      continue;
    }
    const url = `${BASE}${rel}`;
    const entry = { page: p.name, viewport: vp.name, url, ok: true, problems: [] };
    const t0 = Date.now();
    try {
      await page.goto(url, { waitUntil: "domcontentloaded" });
      await settle(page, p.ready);
      const errorStates = await page.locator("main .error-state").allTextContents();
      if (errorStates.length) entry.problems.push(...errorStates.map((t) => `error state: ${t.trim()}`));
      const noAccess = await page.locator("main h1", { hasText: /No access|Page not found/ }).count();
      if (noAccess) entry.problems.push("page says no access / not found");
    } catch (e) {
      entry.problems.push(String(e.message ?? e));
    }
    entry.problems.push(...errs.take());
    entry.ok = entry.problems.length === 0;
    entry.ms = Date.now() - t0;
    const file = path.join(OUT, `${p.name}-${vp.name}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch((e) => entry.problems.push(`screenshot: ${e.message}`));
    entry.screenshot = path.relative(process.cwd(), file);
    report.pages.push(entry);
    console.log(`${entry.ok ? "ok  " : "FAIL"} ${vp.name.padStart(4)} ${p.name.padEnd(9)} ${String(entry.ms).padStart(5)} ms${entry.ok ? "" : "  " + entry.problems.join(" | ")}`);
  }
  if (vp.isMobile) {
    // The collapsed navigation, opened.
    await page.getByRole("button", { name: "Open navigation" }).click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(OUT, `nav-open-${vp.name}.png`) });
  }
  await context.close();
  return { tenant, superadmin };
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

// Flows: multi-step scenarios to add once the backend exists. Each gets
// { browser, tenant, log } and throws on failure. Enable with TOLLGATE_E2E_FLOWS.
const FLOWS = {
  /** Create a key in the UI, read the once-shown secret, use it, see the request live, revoke it, see it refused. */
  async keys({ browser, tenant, log }) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await login(page);
    await page.goto(`${BASE}/t/${encodeURIComponent(tenant)}/keys`);
    await page.getByRole("button", { name: /Create (your first )?key/ }).first().click();
    const name = `e2e-${Date.now()}`;
    await page.getByLabel("Name").fill(name);
    await page.getByRole("button", { name: "Create key" }).last().click();
    const secret = (await page.getByTestId("key-secret").locator("code").textContent())?.trim();
    if (!secret) throw new Error("no secret shown");
    log(`created key ${name}`);
    await page.getByLabel(/I have stored the secret/).check();
    await page.getByRole("button", { name: "Done" }).click();

    await page.goto(`${BASE}/t/${encodeURIComponent(tenant)}/overview`);
    await settle(page, '[data-testid="kpi-cards"][data-state="ready"]');
    const chat = () =>
      fetch(`${BASE}/v1/chat/completions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
        body: JSON.stringify({ model: "auto", max_tokens: 16, messages: [{ role: "user", content: "ping from e2e" }] }),
      });
    const res = await chat();
    if (!res.ok) throw new Error(`chat with the new key: HTTP ${res.status}`);
    const model = res.headers.get("x-tollgate-model") ?? "";
    await page.locator("section[aria-labelledby=recent] tbody tr", { hasText: model }).first().waitFor({ timeout: 10_000 });
    log(`request with ${model} appeared live`);

    await page.goto(`${BASE}/t/${encodeURIComponent(tenant)}/keys`);
    await page.getByRole("button", { name: `Revoke key ${name}` }).click();
    await page.getByRole("button", { name: "Revoke key" }).click();
    await page.waitForTimeout(1500); // revocation is visible everywhere within 1 s
    const after = await chat();
    if (after.status !== 401) throw new Error(`revoked key still answered HTTP ${after.status}`);
    log("revoked key is refused");
    await context.close();
  },
  // TODO(budget): set a tiny hard budget, send requests until 429 budget_exceeded, expect the alert toast and alert history entry.
  // TODO(viewer): sign in as a viewer (TOLLGATE_E2E_VIEWER_EMAIL/PASSWORD) and assert no "Create key", "Invite member", "Add budget" buttons.
};

async function main() {
  await mkdir(OUT, { recursive: true });
  const report = { base: BASE, started: new Date().toISOString(), pages: [], flows: [] };
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: env.TOLLGATE_E2E_HEADFUL !== "1", args: LAUNCH_ARGS });
  let failed = false;
  try {
    let who = null;
    for (const vp of VIEWPORTS) who = await tour(browser, vp, report);
    if (who?.tenant) await measureTti(browser, who.tenant, report);
    const wanted = (env.TOLLGATE_E2E_FLOWS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const names = wanted.includes("all") ? Object.keys(FLOWS) : wanted;
    for (const name of names) {
      const flow = FLOWS[name];
      const entry = { flow: name, ok: true, log: [] };
      if (!flow) {
        entry.ok = false;
        entry.log.push(`unknown flow (have: ${Object.keys(FLOWS).join(", ")})`);
      } else {
        try {
          await flow({ browser, tenant: who?.tenant, log: (m) => entry.log.push(m) });
        } catch (e) {
          entry.ok = false;
          entry.log.push(String(e.message ?? e));
        }
      }
      report.flows.push(entry);
      console.log(`${entry.ok ? "ok  " : "FAIL"} flow ${name}: ${entry.log.join("; ")}`);
    }
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
