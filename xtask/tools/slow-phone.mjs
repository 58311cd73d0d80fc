// First visit on a slow phone: Chromium (Debian's, driven by playwright-core) with the CPU
// slowed 4× and a 1.6 Mbps down / 750 kbps up / 150 ms round-trip network (DevTools
// protocol emulation, Lighthouse's "slow 4G" figures), a phone-sized window and an empty
// cache. For each page: the time from the start of the navigation until it is ready, five
// runs each, the pages' runs interleaved so a busy moment of the machine hits both.
//
//   node slow-phone.mjs RUNS NAME=URL ...     (NAME "app" or "hello", see READY, or
//                                             "app:LABEL" to compare builds in one run)
//
// Prints one line per run and one per request of it (sent, first byte, done: a preload the
// page used shows once), then one `SLOW_PHONE {json}` line with every figure.
// `cargo xtask bench` (xtask/src/slow_phone.rs) builds and serves the pages and runs it.

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];
const NETWORK = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 };
const CPU_SLOWDOWN = 4;
// Lighthouse's phone (Moto G Power): 412 × 823 CSS pixels, DPR 1.75.
const PHONE = { viewport: { width: 412, height: 823 }, deviceScaleFactor: 1.75, isMobile: true, hasTouch: true };
const TIMEOUT_MS = 30_000;

// What each page's milestones are, checked in the page on every DOM change. `ready` is the
// figure: for the app, the style cards are in the page, the app's own Create button is
// there and enabled (a page shell's is disabled until the app runs), and the app has
// connected (the balance shows: the gateway's answers are in, a click on Create sends).
const READY = {
  app: {
    cards: "!!document.querySelector('.style-card')",
    create: "!!document.querySelector('#create:not([disabled])')",
    ready: "!!(document.querySelector('.style-card') && document.querySelector('#create:not([disabled])') && document.querySelector('#balance'))",
    // The lazy panels' modules, preloaded once the page is idle after `ready`.
    lazy: "!!(document.querySelector('input[name=\"article_title\"]') && document.querySelector('#storage-usage'))",
  },
  hello: { ready: "!!document.querySelector('#hello')" },
};

/** Records in the page, from its first script on, when each milestone first held. */
function watcher(milestones) {
  const checks = Object.entries(milestones).map(([name, test]) => `[${JSON.stringify(name)}, () => ${test}]`);
  return `(() => {
    const checks = [${checks.join(", ")}];
    const seen = (window.__milestones = {});
    const look = () => {
      for (const [name, test] of checks) if (!(name in seen) && test()) seen[name] = performance.now();
    };
    new MutationObserver(look).observe(document, { subtree: true, childList: true, attributes: true });
    document.addEventListener("DOMContentLoaded", look);
  })();`;
}

async function visit(name, url) {
  const milestones = READY[name.split(":")[0]];
  if (!milestones) throw new Error(`no milestones for ${name}: one of ${Object.keys(READY)}`);
  const profile = mkdtempSync(join(tmpdir(), "slow-phone-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, ...PHONE,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", NETWORK);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_SLOWDOWN });
    // Injected by DevTools, so the page's strict CSP does not apply to it.
    await page.addInitScript(watcher(milestones));
    const bytes = { total: 0 };
    cdp.on("Network.loadingFinished", (e) => { bytes.total += e.encodedDataLength; });
    await page.goto(url, { waitUntil: "commit" });
    await page.waitForFunction(() => "ready" in (window.__milestones ?? {}), null, { timeout: TIMEOUT_MS, polling: 50 });
    // The app: its lazy panels preloaded, then a click on the heaviest one (the article helper,
    // see docs/sizes.md) until its first field shows, in the next frame.
    let open_panel = null;
    if ("lazy" in milestones) {
      await page.waitForFunction(() => "lazy" in window.__milestones, null, { timeout: TIMEOUT_MS, polling: 50 });
      open_panel = await page.evaluate(() => new Promise((resolve) => {
        const field = document.querySelector('input[name="article_title"]');
        const summary = field.closest("details").querySelector("summary");
        const start = performance.now();
        summary.click();
        const shown = () => field.checkVisibility()
          ? requestAnimationFrame(() => resolve(Math.round(performance.now() - start)))
          : requestAnimationFrame(shown);
        shown();
      }));
    }
    // Times are from the page's time origin: the start of the navigation.
    const times = await page.evaluate(() => window.__milestones);
    // First paint may come a frame after the page is ready: wait for it (briefly).
    const paint = await page.evaluate(() => new Promise((resolve) => {
      const found = () => performance.getEntriesByName("first-contentful-paint")[0];
      new PerformanceObserver(() => found() && resolve(found().startTime)).observe({ type: "paint", buffered: true });
      setTimeout(() => resolve(found()?.startTime ?? null), 3000);
    }));
    if (errors.length) throw new Error(`${name}: errors in the page: ${errors.join("; ")}`);
    // The page, then each request made by now: when it was sent, its first and last byte,
    // and its size. A preload the page then used shows once; one it missed shows twice.
    const resources = await page.evaluate(() => [
      ...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource"),
    ].map((e) => ({
      path: new URL(e.name).pathname, as: e.initiatorType, start: Math.round(e.startTime),
      first_byte: Math.round(e.responseStart), end: Math.round(e.responseEnd), bytes: e.transferSize,
    })));
    // When the wasm had arrived: what the rest of "ready" waits for first.
    const wasm = resources.find((e) => e.path.endsWith(".wasm"))?.end ?? null;
    return {
      ...Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v)])),
      fcp: paint && Math.round(paint), wasm, open_panel, bytes: bytes.total, resources,
    };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const [runs, ...pages] = process.argv.slice(2);
if (!(Number(runs) > 0) || pages.length === 0) {
  console.error("usage: node slow-phone.mjs RUNS NAME=URL ...");
  process.exit(2);
}
const results = Object.fromEntries(pages.map((p) => [p.split("=")[0], []]));
for (let run = 1; run <= Number(runs); run++) {
  for (const page of pages) {
    const [name, ...rest] = page.split("=");
    const r = await visit(name, rest.join("="));
    results[name].push(r);
    const { resources, ...figures } = r;
    console.log(`slow phone: ${name} run ${run}: ${JSON.stringify(figures)}`);
    for (const e of resources) console.log(`  ${e.path} (${e.as}): sent ${e.start}, first byte ${e.first_byte}, done ${e.end}, ${e.bytes} B`);
  }
}
const summary = {};
for (const [name, list] of Object.entries(results)) {
  summary[name] = { runs: list };
  for (const key of Object.keys(list[0])) {
    const values = list.map((r) => r[key]).filter((v) => typeof v === "number");
    if (values.length === list.length) summary[name][`${key}_median`] = median(values);
  }
}
console.log(`SLOW_PHONE ${JSON.stringify({ kind: "slow_phone", cpu_slowdown: CPU_SLOWDOWN, network: NETWORK, phone: PHONE, pages: summary })}`);
