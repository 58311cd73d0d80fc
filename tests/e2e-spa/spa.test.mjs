// End-to-end: the release SPA, served by the gateway in front of the emulator, in a real
// headless Chromium, or Firefox ESR with CLIPCLOUD_E2E_BROWSER=firefox (Playwright over
// WebDriver BiDi), or WebKitGTK with CLIPCLOUD_E2E_BROWSER=webkit (W3C WebDriver behind the
// same API: ../webdriver/webkit.mjs). `cargo xtask test` builds the SPA, starts the emulator
// (a few seconds per creation) and the gateway (`--static-dir dist --upstream EMULATOR`, relay
// mode) on free ports, and passes the gateway's URL as CLIPCLOUD_SPA_URL (the page and `/api`)
// and the emulator's as CLIPCLOUD_EMULATOR_URL (its own `/emulator/...` endpoints, which the
// gateway does not relay); the offline scenario starts and stops a gateway of its own
// (CLIPCLOUD_GATEWAY_BIN, serving CLIPCLOUD_SPA_DIST).
//
//   CLIPCLOUD_SPA_URL=http://127.0.0.1:8787 CLIPCLOUD_EMULATOR_URL=http://127.0.0.1:PORT node --test tests/e2e-spa/

import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { chromium, firefox } from "playwright-core";
import * as webkit from "../webdriver/webkit.mjs";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const BASE = (process.env.CLIPCLOUD_SPA_URL ?? "").replace(/\/$/, "");
const EMULATOR = (process.env.CLIPCLOUD_EMULATOR_URL ?? "").replace(/\/$/, "");
const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = process.env.CLIPCLOUD_ARTIFACTS ?? join(HERE, "..", "artifacts");
const CHROMIUM_PATH = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ENGINE = process.env.CLIPCLOUD_E2E_BROWSER ?? "chromium";
const FIREFOX = ENGINE === "firefox";
const WEBKIT = ENGINE === "webkit";
const CHROMIUM = !FIREFOX && !WEBKIT;
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];
// A creation takes a few seconds on the test emulator; leave room for a slow machine.
const DONE_TIMEOUT = 60_000;

if (!BASE || !EMULATOR) {
  throw new Error("set CLIPCLOUD_SPA_URL to the gateway serving the SPA and CLIPCLOUD_EMULATOR_URL to the emulator behind it (cargo xtask test does)");
}

/** A fresh API key with this balance (and `extra` settings, e.g. `delay_ms`), so tests never share one. */
async function freshKey(balance, extra = {}) {
  const r = await fetch(`${EMULATOR}/emulator/keys`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ balance, ...extra }),
  });
  assert.equal(r.status, 200);
  const { apikey } = await r.json();
  // Behind a proxy, `cargo xtask test` looks for every key made here in its access log.
  if (process.env.CLIPCLOUD_E2E_KEYS_FILE) appendFileSync(process.env.CLIPCLOUD_E2E_KEYS_FILE, apikey + "\n");
  return apikey;
}

/** The key as the clients send it to a gateway: a header, which no access log records. */
const bearer = (key) => ({ headers: { authorization: `Bearer ${key}` } });

/** The emulator's record of the key's creations: id, created/ready times, checks answered. */
async function emulatorCreations(key) {
  const r = await fetch(`${EMULATOR}/emulator/creations?apikey=${encodeURIComponent(key)}`);
  assert.equal(r.status, 200);
  return (await r.json()).creations;
}

/** From now on the emulator answers 404 for the key's image links: as if they had expired. */
async function expireImages(key) {
  const r = await fetch(`${EMULATOR}/emulator/faults?apikey=${encodeURIComponent(key)}`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ rate: 1, kinds: ["expired-image"] }),
  });
  assert.equal(r.status, 200);
}

async function apiBalance(key) {
  const r = await fetch(`${BASE}/api/balance`, bearer(key));
  return (await r.json()).balance;
}

/**
 * A new browser with its own empty profile, and a page that fails the test on any page error.
 * `firefoxUserPrefs`: preferences for Firefox's profile (the other engines ignore them).
 */
async function open(t, viewport = { width: 1280, height: 900 }, url = BASE + "/", before = async () => {}, firefoxUserPrefs = {}) {
  const profile = mkdtempSync(join(tmpdir(), "clipcloud-e2e-"));
  const context = WEBKIT
    ? await webkit.launch({ viewport })
    : FIREFOX
    ? await firefox.launchPersistentContext(profile, {
        channel: "moz-firefox", executablePath: "/usr/bin/firefox-esr", headless: true, viewport, firefoxUserPrefs,
      })
    : await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM_PATH, headless: true, args: FLAGS, viewport,
      });
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  page.problems = problems;
  // Content-Encoding of each response, by path (WebDriver sees no response).
  if (!WEBKIT) {
    page.encodings = new Map();
    page.on("response", (r) => page.encodings.set(new URL(r.url()).pathname, r.headers()["content-encoding"]));
  }
  await before(page);
  await page.goto(url);
  await page.locator(".style-card").first().waitFor();
  return page;
}

/** Opens the connection panel if needed, enters `key`, connects. */
async function connect(page, key) {
  const keyInput = page.locator('input[name="apikey"]');
  // At start the app asks its origin's gateway what it wants, then connects by itself if it
  // has a key (on 127.0.0.1 the demo key is pre-filled) or opens the panel for one. Wait
  // until that has settled, so that its own connection cannot close the panel under ours.
  await page.waitForFunction(
    () => document.querySelector("#balance") || document.querySelector('input[name="apikey"]')?.offsetParent,
  );
  // The panel may still be opening or closing itself (the app connects at start when it
  // has a key): toggle it until the field is there rather than trusting one look.
  for (let attempt = 0; attempt < 5 && !(await keyInput.isVisible()); attempt++) {
    await page.getByRole("button", { name: "Connection" }).click();
    await keyInput.waitFor({ timeout: 2000 }).catch(() => {});
  }
  await keyInput.fill(key);
  await page.getByRole("button", { name: "Connect", exact: true }).click();
}

/** A fresh key with this balance (and `extra` settings), and a page connected with it. */
async function connected(t, balance, extra) {
  const key = await freshKey(balance, extra);
  const page = await open(t);
  await connect(page, key);
  await page.locator("#balance", { hasText: String(balance) }).waitFor();
  return { key, page };
}

/** Queues one creation by style: picks the style, fills prompt and count, sends. */
async function create(page, prompt, { style = "standard", count = 1 } = {}) {
  await page.locator(`.style-card[data-style="${style}"]`).click();
  await page.locator('textarea[name="prompt"]').fill(prompt);
  await page.locator('input[name="count"]').fill(String(count));
  await page.locator("#create").click();
}

/**
 * The file a click makes the browser save: `{ name, bytes }`. Chromium reports downloads
 * to Playwright; Firefox over WebDriver BiDi and WebKit over WebDriver do not, so there the
 * link the app clicks (a blob: URL and its `download` name) is caught in the page and read instead.
 */
async function saved(page, click) {
  if (CHROMIUM) {
    const [download] = await Promise.all([page.waitForEvent("download"), click()]);
    return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
  }
  await page.evaluate(() => {
    window.__saved = undefined;
    // The blob handed to URL.createObjectURL (the page's CSP does not let it fetch blob:
    // URLs back), then the name on the link clicked.
    const { createObjectURL } = URL;
    const { click } = HTMLAnchorElement.prototype;
    let blob;
    URL.createObjectURL = (object) => {
      blob = object;
      return createObjectURL(object);
    };
    HTMLAnchorElement.prototype.click = function () {
      URL.createObjectURL = createObjectURL;
      HTMLAnchorElement.prototype.click = click;
      const name = this.download;
      blob.arrayBuffer().then((buffer) => (window.__saved = { name, bytes: [...new Uint8Array(buffer)] }));
    };
  });
  await click();
  const caught = await (await page.waitForFunction(() => window.__saved)).jsonValue();
  return { name: caught.name, bytes: Buffer.from(caught.bytes) };
}

/** Fails unless every creation card fits inside its panel (the Creations card). */
async function cardsFit(page) {
  const overflow = await page.evaluate(() =>
    [...document.querySelectorAll(".job")].map((job) => {
      const panel = job.closest(".card").getBoundingClientRect();
      const card = job.getBoundingClientRect();
      return { left: card.left - panel.left, right: panel.right - card.right, width: card.width, panel: panel.width };
    }).filter((c) => c.left < 0 || c.right < 0));
  assert.deepEqual(overflow, [], "a creation card sticks out of its panel");
}

/** Runs axe-core (the npm package) on the page as it is: fails on any violation. */
async function accessible(page, what) {
  // Evaluated through the driver: the page's CSP (rightly) refuses an injected <script>.
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE + "\n;0");
  const violations = await page.evaluate(async () =>
    (await window.axe.run(document)).violations.map((v) => ({
      rule: v.id, nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
    })));
  assert.deepEqual(violations, [], `axe-core found violations (${what})`);
}

/** The links of the pictures the app saved in IndexedDB. */
async function savedLinks(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open("clipcloud");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const keys = open.result.transaction("images").objectStore("images").getAllKeys();
      keys.onsuccess = () => { resolve(keys.result); open.result.close(); };
      keys.onerror = () => reject(keys.error);
    };
  }));
}

/** Waits until every picture in `scope` shows, decoded by the browser (not a broken image). */
async function allDecoded(page, scope, count) {
  await page.waitForFunction(({ scope, count }) => {
    const imgs = [...document.querySelectorAll(`${scope} .thumbs img`)];
    return imgs.length === count && imgs.every((i) => !i.hidden && i.complete && i.naturalWidth > 0);
  }, { scope, count }, { timeout: DONE_TIMEOUT });
  assert.equal(await page.locator(`${scope} .expired:not([hidden])`).count(), 0);
}

async function balanceShown(page) {
  return Number(await page.locator("#balance").textContent());
}

async function waitForImages(card, count) {
  const imgs = card.locator(".thumbs img");
  await imgs.nth(count - 1).waitFor({ timeout: DONE_TIMEOUT });
  assert.equal(await imgs.count(), count);
  await card.page().waitForFunction(
    (el) => [...el.querySelectorAll(".thumbs img")].every((i) => i.complete && i.naturalWidth > 0),
    await card.elementHandle(),
  );
  return imgs;
}

test("enter the key, pick a style, create: images shown, balance down by the cost", async (t) => {
  const { key, page } = await connected(t, 50);

  await page.locator('.style-search').fill("HD-HQ");
  await page.locator('.style-card[data-style="HD-HQ"]').click();
  assert.equal(await page.locator("#current-style").textContent(), "HD-HQ");
  assert.match(await page.locator('.style-card[data-style="HD-HQ"]').textContent(), /1280×720/);
  await page.locator(".style-search").fill("");
  await page.locator('textarea[name="prompt"]').fill("A close-up shot of a perfectly ripe red apple");
  await page.locator('input[name="count"]').fill("2");
  await page.locator("#create").click();

  const card = page.locator(".job").first();
  await card.locator(".bar").waitFor(); // shown at once, with its progress bar
  await page.locator('.job[data-state="done"]').first().waitFor({ timeout: DONE_TIMEOUT });
  const imgs = await waitForImages(card, 2);
  // Saved in the browser the moment they are ready, then shown from there: decoded again.
  await card.locator('figure[data-saved="true"]').nth(1).waitFor({ timeout: DONE_TIMEOUT });
  for (let i = 0; i < 2; i++) {
    const img = imgs.nth(i);
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    assert.equal(await img.evaluate((el) => el.naturalWidth), 1280);
    assert.equal(await img.evaluate((el) => el.naturalHeight), 720);
    assert.equal(await img.getAttribute("alt"), "A close-up shot of a perfectly ripe red apple");
    // The link until the picture is saved in the browser, then the saved copy.
    assert.match(await img.getAttribute("src"), /^(https?:\/\/.+\/images\/[0-9a-f]{64}\.webp|blob:.+)$/);
  }
  const cost = Number(await card.locator(".cost").textContent());
  assert.equal(cost, 4.4); // two HD-HQ images (1280×720: 2.2 each)
  await page.waitForFunction((expected) => document.querySelector("#balance")?.textContent === expected, String(50 - cost));
  assert.equal(await balanceShown(page), 50 - cost);
  assert.equal(await apiBalance(key), 50 - cost);

  // Download saves the image itself as a file (a link's `download` attribute alone is
  // ignored for another origin's images, the real service's case).
  const download = await saved(page, () =>
    card.locator("figcaption").first().getByRole("button", { name: "Download" }).click(),
  );
  assert.match(download.name, /^clipcloud-[0-9a-z-]+-1\.webp$/);
  assert.equal(download.bytes.subarray(0, 4).toString("latin1"), "RIFF");
  assert.equal(download.bytes.subarray(8, 12).toString("latin1"), "WEBP");

  // The history has it, and the viewer opens large.
  await page.locator(".history .entry", { hasText: "perfectly ripe red apple" }).waitFor();
  await imgs.first().click();
  await page.locator("dialog.viewer img").waitFor();
  const large = await saved(page, () =>
    page.locator("dialog.viewer").getByRole("button", { name: "Download WebP" }).click(),
  );
  assert.equal(large.name, download.name);
  await page.locator("dialog.viewer").getByRole("button", { name: "Close", exact: true }).click();
  await page.locator("dialog.viewer[open]").waitFor({ state: "detached" });

  // A long prompt and a finished card: no card wider than its panel (1280 px wide here).
  await create(page, "A very long prompt about a ripe red apple on a wooden kitchen table in the soft light of a late summer afternoon, seen from above");
  await page.locator('.job[data-state="done"]').nth(1).waitFor({ timeout: DONE_TIMEOUT });
  await cardsFit(page);

  // Accessibility, checked by a machine: with finished creations and every panel open.
  await page.getByRole("button", { name: "Connection" }).click();
  await page.locator("#connect:not([hidden])").waitFor();
  await page.evaluate(() => document.querySelectorAll("details").forEach((d) => (d.open = true)));
  await accessible(page, "light");
  await page.emulateMedia({ colorScheme: "dark" });
  await accessible(page, "dark");
  await page.emulateMedia({ colorScheme: "light" });

  assert.deepEqual(page.problems, []);
  mkdirSync(ARTIFACTS, { recursive: true });
  const suffix = CHROMIUM ? "" : `-${ENGINE}`;
  await page.screenshot({ path: join(ARTIFACTS, `gallery${suffix}.png`), fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: join(ARTIFACTS, `gallery${suffix}-dark.png`), fullPage: true });
  // Over WebDriver BiDi, Playwright's screenshots inject a <style> into the page, which the
  // app's CSP refuses (rightly): those reports are the tool's, not the app's.
  const csp = /Content-Security-Policy.*inline style/;
  assert.deepEqual(page.problems.filter((p) => !(FIREFOX && csp.test(p))), []);
});

test("on a phone, by keyboard alone: connect, write, pick a style, create, view large", async (t) => {
  const key = await freshKey(20);
  const page = await open(t, { width: 390, height: 844 });
  // What has the focus, named as a person would find it: field name, style, id, title or text.
  const focused = () =>
    page.evaluate(() => {
      const e = document.activeElement;
      return e === document.body ? null : e.name || e.dataset.style || e.id || e.title || e.textContent.trim();
    });
  // Forward through the page in its Tab order, never past its end: there the focus would
  // go to the browser's own controls.
  const tabTo = async (name) => {
    const seen = [];
    for (let i = 0; i < 80 && seen.at(-1) !== null; i++) {
      await page.keyboard.press("Tab");
      seen.push(await focused());
      if (seen.at(-1) === name) return;
    }
    assert.fail(`Tab did not reach ${name}; it went through: ${seen.join(" | ")}`);
  };

  // The app connects by itself at start (the demo key), then folds the connection panel.
  await page.locator("#balance").waitFor();
  await tabTo("Connection");
  if ((await page.getByRole("button", { name: "Connection" }).getAttribute("aria-expanded")) !== "true") {
    await page.keyboard.press("Enter");
  }
  await page.locator('input[name="apikey"]').waitFor();
  await tabTo("apikey");
  await page.keyboard.press("Control+A");
  await page.keyboard.type(key);
  await tabTo("Connect");
  await page.keyboard.press("Enter");
  await page.locator("#balance", { hasText: "20" }).waitFor();

  await tabTo("prompt");
  await page.keyboard.type("A lighthouse at dawn");
  await tabTo("HD-HQ");
  await page.keyboard.press("Enter");
  assert.equal(await page.locator("#current-style").textContent(), "HD-HQ");
  await page.keyboard.press("Control+Enter"); // sends the form from any of its fields
  const card = page.locator(".job").first();
  await page.locator('.job[data-state="done"]').first().waitFor({ timeout: DONE_TIMEOUT });
  await waitForImages(card, 1);

  await tabTo("View large");
  await page.keyboard.press("Enter");
  await page.locator("dialog.viewer[open] img").waitFor();
  await page.keyboard.press("Escape");
  await page.locator("dialog.viewer[open]").waitFor({ state: "detached" });

  // Nothing wider than the phone's screen: no sideways scrolling.
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], `the page is ${widths[0]} px wide on a ${widths[1]} px screen`);
  await cardsFit(page);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `phone${CHROMIUM ? "" : `-${ENGINE}`}.png`), fullPage: true });
  const csp = /Content-Security-Policy.*inline style/;
  assert.deepEqual(page.problems.filter((p) => !(FIREFOX && csp.test(p))), []);
});

test("several creations: each card keeps its own prompt, images and buttons as others come and go", async (t) => {
  const { page } = await connected(t, 50);
  // The first one is finished (with its image) when the second is queued above it.
  await create(page, "A green pear");
  await waitForImages(page.locator(".job").first(), 1);
  await create(page, "A yellow lemon");
  const jobs = page.locator(".job");
  await jobs.nth(1).locator(".thumbs img").waitFor();
  assert.equal(await jobs.count(), 2);
  assert.equal(await jobs.nth(0).locator(".prompt").textContent(), "A yellow lemon");
  assert.equal(await jobs.nth(1).locator(".prompt").textContent(), "A green pear");
  assert.equal(await jobs.nth(1).getAttribute("data-state"), "done");
  assert.equal(await jobs.nth(1).locator(".thumbs img").getAttribute("alt"), "A green pear");
  await page.locator('.job[data-state="done"] >> nth=1').waitFor({ timeout: DONE_TIMEOUT });
  await waitForImages(jobs.nth(0), 1);
  assert.equal(await jobs.nth(0).locator(".thumbs img").getAttribute("alt"), "A yellow lemon");
  const lemon = await jobs.nth(0).locator(".thumbs img").getAttribute("src");
  const pear = await jobs.nth(1).locator(".thumbs img").getAttribute("src");
  assert.notEqual(lemon, pear);

  // Removing the newer card leaves the older one as it was, and its buttons still act on it.
  await jobs.nth(0).getByRole("button", { name: "Remove from the list" }).click();
  await page.waitForFunction(() => document.querySelectorAll(".job").length === 1);
  assert.equal(await jobs.first().locator(".prompt").textContent(), "A green pear");
  assert.equal(await jobs.first().locator(".thumbs img").getAttribute("src"), pear);
  await jobs.first().locator(".thumbs img").click();
  assert.equal(await page.locator("dialog.viewer img").getAttribute("alt"), "A green pear");
  await page.locator("dialog.viewer").getByRole("button", { name: "Close", exact: true }).click();
  await page.locator("dialog.viewer[open]").waitFor({ state: "detached" });
  await jobs.first().getByRole("button", { name: "Remove from the list" }).click();
  await page.waitForFunction(() => document.querySelectorAll(".job").length === 0);
  assert.equal(await page.locator(".queue .empty").isVisible(), true);
  assert.deepEqual(page.problems, []);
});

test("the article helper queues one creation per picture; the history finds, re-runs and clears them", async (t) => {
  const { key, page } = await connected(t, 50);
  await page.getByText("Article helper").click();
  await page.locator('input[name="article_title"]').fill("Apples on a balcony");
  await page.locator('input[name="article_count"]').fill("2");
  const request = await page.getByRole("textbox", { name: "Request for the LLM" }).inputValue();
  assert.match(request, /"Apples on a balcony"\. You need to generate 2 picture prompts/);
  await page.locator('textarea[name="article_answer"]').fill(JSON.stringify([
    { picture_number: 1, query: "An apple tree in a pot", negative_prompt: "text", style: "HD-HQ" },
    { picture_number: 2, query: "A basket of apples", style: "standard" },
  ]));
  await page.getByRole("button", { name: "Queue 2 pictures" }).click();

  // One card each, with its own style; both finish and go to the history.
  for (const [prompt, style] of [["An apple tree in a pot", "HD-HQ"], ["A basket of apples", "standard"]]) {
    const card = page.locator(".job", { has: page.locator(".prompt", { hasText: prompt }) });
    assert.equal(await card.locator(".tag").first().textContent(), style);
    await card.and(page.locator('[data-state="done"]')).waitFor({ timeout: DONE_TIMEOUT });
  }
  const entries = page.locator(".history .entry");
  await entries.nth(1).waitFor();
  assert.equal(await entries.count(), 2);
  // The balance went down by what the two cards say they cost.
  const costs = (await page.locator(".job .cost").allTextContents()).map(Number);
  assert.equal(costs.length, 2);
  const cents = (n) => Math.round(n * 100);
  await page.waitForFunction((left) => document.querySelector("#balance")?.textContent === left,
    String((5000 - cents(costs[0]) - cents(costs[1])) / 100));

  // Search, then re-run from the history: a third creation of the same request.
  await page.locator(".history input[type=search]").fill("basket");
  await page.waitForFunction(() => document.querySelectorAll(".history .entry").length === 1);
  await entries.first().getByRole("button", { name: "Re-run" }).click();
  await page.locator(".job").nth(2).waitFor();
  await page.locator('.job[data-state="done"]').nth(2).waitFor({ timeout: DONE_TIMEOUT });
  assert.equal(await page.locator(".job .prompt", { hasText: "A basket of apples" }).count(), 2);
  await page.locator(".history input[type=search]").fill("");
  await page.waitForFunction(() => document.querySelectorAll(".history .entry").length === 3);
  assert.equal((await emulatorCreations(key)).length, 3);

  // Clear asks first; the history says it is empty once the deletion is written (a reload
  // before that would bring the entries back), and stays empty after a reload.
  page.once("dialog", (dialog) => dialog.dismiss());
  await page.locator(".history").getByRole("button", { name: "Clear" }).click();
  assert.equal(await entries.count(), 3);
  page.once("dialog", (dialog) => dialog.accept());
  await page.locator(".history").getByRole("button", { name: "Clear" }).click();
  await page.locator(".history .empty:not([hidden])").waitFor();
  await page.reload();
  await page.locator(".style-card").first().waitFor();
  await page.locator(".history .empty:not([hidden])").waitFor();
  assert.equal(await entries.count(), 0);
  assert.deepEqual(page.problems, []);
});

test("a creation still running when the page is reloaded finishes after the reload", async (t) => {
  const { key, page } = await connected(t, 20);
  await create(page, "A lighthouse in a storm");
  await page.locator('.job[data-state="running"]').waitFor();

  await page.reload();
  const card = page.locator(".job", { hasText: "A lighthouse in a storm" });
  await card.waitFor();
  await page.locator('.job[data-state="done"]').waitFor({ timeout: DONE_TIMEOUT });
  await waitForImages(card, 1);
  await page.waitForFunction(() => document.querySelector("#balance")?.textContent === "18.9");
  const pending = await page.evaluate(() => JSON.parse(localStorage.getItem("clipcloud.pending") ?? "[]"));
  assert.deepEqual(pending, []);
  assert.equal(await apiBalance(key), 18.9);
  assert.deepEqual(page.problems, []);
});

test("the app learns how long a style takes, and keeps it across a reload", async (t) => {
  const { key, page } = await connected(t, 50, { delay_ms: 1500 });
  for (const prompt of ["A red apple", "A green apple", "A yellow apple"]) await create(page, prompt);
  await page.waitForFunction(() => document.querySelectorAll('.job[data-state="done"]').length === 3, null, {
    timeout: DONE_TIMEOUT,
  });
  const learned = await page.evaluate(() => localStorage.getItem("clipcloud.learned") ?? "");
  assert.match(learned, /^standard \*1\t\S+ \S+ \S+$/m, learned);

  await page.reload();
  await page.locator("#balance").waitFor();
  await create(page, "A blue apple");
  await page.locator('.job[data-state="done"]', { hasText: "A blue apple" }).waitFor({ timeout: DONE_TIMEOUT });

  // 1.5 s creations: a cold schedule checks 0.5, 1.25 and 2.4 s after the create; after the
  // reload the app starts from what it learned (running at 1.25 s, ready at 2.4 s) and sleeps
  // past the earliest usual end at once. (Times, not counts: a busy machine delays checks,
  // which changes how many a creation gets, never makes the first one early.)
  const creations = (await emulatorCreations(key)).sort((a, b) => a.created_ms - b.created_ms);
  assert.equal(creations.length, 4);
  const first = creations.map((c) => c.checks_ms[0] - c.created_ms);
  assert.ok(Math.min(...first.slice(0, 3)) < 1000, `cold, first check after (ms): ${first}`);
  assert.ok(first[3] >= 1250, `after the reload, first check after (ms): ${first}`);
  assert.deepEqual(page.problems, []);
});

test("a download whose link has expired before the picture was saved says so on the card", async (t) => {
  const { key, page } = await connected(t, 10);
  // The image link is gone before the creation ends, so the app cannot save the picture.
  await expireImages(key);
  await create(page, "A paper boat");
  const card = page.locator(".job").first();
  await page.locator('.job[data-state="done"]').waitFor({ timeout: DONE_TIMEOUT });
  await card.locator(".expired:not([hidden])").waitFor();
  assert.equal(await card.locator("figure").getAttribute("data-saved"), "false");
  await card.getByRole("button", { name: "Download" }).click();
  const error = card.locator(".download-error");
  await error.waitFor();
  assert.match(await error.textContent(), /^Download failed \(HTTP 404\): the temporary link has probably expired\./);
  assert.match(await error.locator("a").getAttribute("href"), /^http:\/\/.+\/images\/[0-9a-f]{64}\.webp$/);
  assert.equal(await card.getByRole("button", { name: "Download" }).isEnabled(), true);
  // The browser logs the 404 of the fetch; nothing else.
  assert.deepEqual(page.problems.filter((p) => !p.includes("404")), []);
});

test("cancel stops polling a running creation; it is not picked up after a reload", async (t) => {
  const { key, page } = await connected(t, 20, { delay_ms: 120_000 }); // far longer than the test
  await create(page, "A very slow sunrise");
  const card = page.locator(".job").first();
  await page.locator('.job[data-state="running"]').waitFor();
  await card.locator(".status", { hasText: "checked" }).waitFor({ timeout: 20_000 }); // polling has begun

  await card.getByRole("button", { name: "Cancel", exact: true }).click();
  await page.locator('.job[data-state="cancelled"]').waitFor();
  assert.equal(await card.locator(".status").textContent(), "Cancelled");
  assert.equal(await card.locator(".hint").textContent(), "Stopped waiting; the service may still finish and charge it.");
  assert.equal(await card.locator(".error").count(), 0, "a cancel is not shown as an error");
  assert.equal(await card.getByRole("button", { name: "Check again" }).count(), 1);
  const [creation] = await emulatorCreations(key);
  const checks = creation.checks_ms.length;
  assert.ok(checks >= 1);
  // Longer than the longest pause between two checks (3 s): none may come.
  await page.waitForTimeout(4500);
  const [after] = await emulatorCreations(key);
  assert.equal(after.creation_id, creation.creation_id);
  assert.equal(after.checks_ms.length, checks, "the app checked the creation after it was cancelled");
  const pending = await page.evaluate(() => JSON.parse(localStorage.getItem("clipcloud.pending") ?? "[]"));
  assert.deepEqual(pending, []);

  await page.reload();
  await page.locator("#balance").waitFor(); // connected: creations left running would be resumed now
  await page.waitForTimeout(500);
  assert.equal(await page.locator(".job").count(), 0, "the cancelled creation came back after the reload");
  const [final] = await emulatorCreations(key);
  assert.equal(final.checks_ms.length, checks);
  assert.deepEqual(page.problems, []);
});

test("a first visit downloads the page, its glue, wasm and stylesheet compressed", async (t) => {
  const page = await open(t);
  const files = await page.evaluate(() =>
    [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
      .map((e) => ({ path: new URL(e.name).pathname, encoded: e.encodedBodySize, decoded: e.decodedBodySize }))
      // Each once: the app's offline copy of its page (see offline.rs) fetches "/" again later.
      .filter((f, i, all) => all.findIndex((g) => g.path === f.path) === i)
      .filter((f) => f.path === "/" || /\.(js|wasm|css)$/.test(f.path)));
  assert.deepEqual(files.map((f) => f.path.replace(/.*\./, "")).sort(), ["/", "css", "js", "wasm"]);
  for (const f of files) {
    // The encoding by name where the driver sees responses; in every engine, by the sizes.
    if (page.encodings) assert.ok(["br", "gzip"].includes(page.encodings.get(f.path)), `${f.path}: ${page.encodings.get(f.path)}`);
    // The browser decoded it to the file's own size: the copy is the file.
    assert.ok(f.encoded > 0 && f.encoded < f.decoded, `${f.path}: ${f.encoded} B for ${f.decoded} B`);
  }
  const wasm = files.find((f) => f.path.endsWith(".wasm"));
  assert.ok(wasm.encoded < wasm.decoded / 2, `the wasm: ${wasm.encoded} B for ${wasm.decoded} B`);
  const sum = (key) => files.reduce((n, f) => n + f[key], 0);
  console.log(`first visit: ${sum("encoded")} B downloaded (${[...new Set(files.map((f) => page.encodings?.get(f.path)))]}),`
    + ` ${sum("decoded")} B decoded`);
  // The offline copy keeps the page's own files, not the gateway's answer the page preloads:
  // once it is kept (the worker controls the page then), /gateway/info was asked for once.
  await page.waitForFunction(() => navigator.serviceWorker?.controller);
  const infos = await page.evaluate(() => performance.getEntriesByType("resource")
    .filter((e) => new URL(e.name).pathname === "/gateway/info").map((e) => e.initiatorType));
  if (WEBKIT) {
    // WebKit gives fetch() no preloaded response (it asks again), and follows the preload
    // `Link` headers even of the page fetched for the offline copy: there, what the app itself
    // fetched is the one request not made by a preload.
    assert.deepEqual(infos.filter((initiator) => initiator !== "link"), ["fetch"], infos.join());
  } else {
    assert.equal(infos.length, 1, infos.join());
  }
});

test("a bad key shows a clear error", async (t) => {
  const page = await open(t);
  await connect(page, "not-a-real-key");
  const error = page.locator("#connect-error");
  await error.waitFor();
  const text = await error.textContent();
  assert.match(text, /^The API key was refused \(HTTP 401\)/);
  assert.doesNotMatch(text, /not-a-real-key|panicked|\bat \w+ \(/);
  assert.equal(await page.locator(".balance").textContent(), "Not connected");
  // What was typed is still there, and only there: not in the page's markup (the
  // password field's value is a property, not an attribute) nor in its text.
  assert.equal(await page.locator('input[name="apikey"]').inputValue(), "not-a-real-key");
  const markup = await page.evaluate(() => document.documentElement.outerHTML + document.body.innerText);
  assert.ok(!markup.includes("not-a-real-key"), "the key appears in the DOM");
  assert.equal(await page.locator('input[name="apikey"]').getAttribute("type"), "password");
  // The 401 is logged by the browser as a failed resource load; nothing else.
  assert.deepEqual(page.problems.filter((p) => !p.includes("401")), []);
});

// The same app served by a gateway in operator-key mode (the site pays: `cargo xtask test`
// starts one with a daily cap of one image and passes its URL).
const OPERATOR = (process.env.CLIPCLOUD_OPERATOR_URL ?? "").replace(/\/$/, "");

test("operator-key mode: no key asked anywhere; over the day's cap the budget message shows", async (t) => {
  assert.ok(OPERATOR, "set CLIPCLOUD_OPERATOR_URL to a gateway in operator-key mode (cargo xtask test does)");
  const page = await open(t, undefined, OPERATOR + "/");
  await page.getByRole("button", { name: "Connection" }).click();
  await page.getByText("adds its own API key").waitFor();
  assert.equal(await page.locator('input[name="apikey"]').isVisible(), false);
  // The balance shown is what this visitor may still spend today here: one image.
  await page.locator("#balance", { hasText: "1.1" }).waitFor();

  // This gateway offers held checks (`"hold": 30` in its /gateway/info): the app asks for them.
  const checks = [];
  page.on("request", (request) => {
    if (request.method() === "GET" && /\/api\/creation\/[^/?]+/.test(request.url())) checks.push(request.headers()["prefer"]);
  });
  await create(page, "A lighthouse at dusk");
  const first = page.locator('.job[data-state="done"]').first();
  await first.waitFor({ timeout: DONE_TIMEOUT });
  // One check, held by the gateway until the images existed.
  assert.deepEqual(checks, ["wait=30"]);
  const imgs = await waitForImages(first, 1);
  // The image comes through the gateway, whatever CORS the service sends for images, and is
  // saved in the browser from there.
  assert.match(await imgs.first().getAttribute("src"), /^blob:|^http/);
  await first.locator('figure[data-saved="true"]').waitFor();
  const [link] = await savedLinks(page);
  assert.ok(link.startsWith(OPERATOR + "/images/"), link);

  await create(page, "A second lighthouse, over the cap");
  const refused = page.locator('.job[data-state="failed"]').first();
  await refused.waitFor({ timeout: DONE_TIMEOUT });
  assert.match(await refused.locator(".error").textContent(), /spending limit for today/);
  assert.deepEqual(page.problems.filter((p) => !/status of 402/.test(p)), []);
});

test("pictures are kept: links expired, page reloaded, every picture still shows; export, import elsewhere", async (t) => {
  const { key, page } = await connected(t, 50);
  await create(page, "A kept red kite over the hills", { count: 2 });
  await page.locator('.job[data-state="done"]').first().waitFor({ timeout: DONE_TIMEOUT });
  await create(page, "A kept blue boat on a lake");
  await page.locator('.job[data-state="done"]').nth(1).waitFor({ timeout: DONE_TIMEOUT });
  // Saved in the browser the moment they are ready, and shown from there.
  await page.locator('.job figure[data-saved="true"]').nth(2).waitFor({ timeout: DONE_TIMEOUT });
  const links = await savedLinks(page);
  assert.equal(links.length, 3);
  for (const img of await page.locator(".job .thumbs img").all()) assert.match(await img.getAttribute("src"), /^blob:/);

  // The service's temporary links expire (the emulator answers 404 for this key's images).
  await expireImages(key);
  for (const link of links) assert.equal((await fetch(link)).status, 404, link);

  await page.reload();
  await page.locator(".history .entry").nth(1).waitFor();
  await allDecoded(page, ".history", 3);
  for (const img of await page.locator(".history .thumbs img").all()) assert.match(await img.getAttribute("src"), /^blob:/);
  await page.locator("#storage-usage", { hasText: "3 pictures saved on this device" }).waitFor();
  // The browser's answer on keeping them persistently is said, whichever it is (WebKit, as Safari,
  // declines to a site not on the Home Screen). Firefox asks the person first, in a prompt of its
  // own that no driver answers: there the answer waits.
  if (!FIREFOX) {
    await page.getByRole("button", { name: "Keep them persistently" }).click();
    await page.waitForFunction(() => /^The browser /.test(document.querySelector("#persist-answer")?.textContent ?? ""));
    const answer = await page.locator("#persist-answer").textContent();
    assert.match(answer, /^The browser (agreed|declined)/);
    if (WEBKIT) assert.match(answer, /Safari also after 7 days without a visit/);
  }
  // The viewer shows the saved copy too, and a download saves it.
  await page.locator(".history .thumbs img").first().click();
  await page.waitForFunction(() => document.querySelector("dialog.viewer img")?.naturalWidth > 0);
  const large = await saved(page, () => page.locator("dialog.viewer").getByRole("button", { name: "Download WebP" }).click());
  assert.equal(large.bytes.subarray(8, 12).toString("latin1"), "WEBP");
  await page.locator("dialog.viewer").getByRole("button", { name: "Close", exact: true }).click();
  const records = await page.locator(".history .entry-text").allTextContents();

  // Export the whole gallery as one ZIP: gallery.json and the pictures.
  const zip = await saved(page, () => page.getByRole("button", { name: "Export all" }).click());
  assert.match(zip.name, /^clipcloud-gallery-\d{4}-\d{2}-\d{2}\.zip$/);
  assert.equal(zip.bytes.subarray(0, 4).toString("latin1"), "PK\x03\x04");
  await page.locator("#storage-report", { hasText: "Exported 2 creations and 3 pictures." }).waitFor();
  // Loaded on this first use only, never on a first visit (see the first-visit test).
  assert.ok(await page.evaluate(() => performance.getEntriesByType("resource").some((e) => e.name.endsWith("/lazy/zip.js"))));

  // Another browser profile (no site data at all): import brings the same pictures and records back.
  const other = await open(t);
  assert.deepEqual(await savedLinks(other), []);
  await other.locator('input[name="import"]').setInputFiles({ name: zip.name, mimeType: "application/zip", buffer: zip.bytes });
  await other.locator("#storage-report", { hasText: "Imported 2 creations and 3 pictures." }).waitFor();
  await allDecoded(other, ".history", 3);
  assert.deepEqual(await other.locator(".history .entry-text").allTextContents(), records);
  assert.deepEqual((await savedLinks(other)).sort(), [...links].sort());
  // A reload there keeps them too (the links are still expired).
  await other.reload();
  await other.locator(".history .entry").nth(1).waitFor();
  await allDecoded(other, ".history", 3);

  // Delete one: it goes, with its pictures.
  await other.locator(".history .entry", { hasText: "A kept blue boat" }).getByRole("button", { name: "Delete" }).click();
  await other.locator("#storage-usage", { hasText: "2 pictures saved on this device" }).waitFor();
  assert.equal((await savedLinks(other)).length, 2);
  assert.deepEqual(other.problems, []);
  // The expired links' 404s, had the app tried them; nothing else.
  assert.deepEqual(page.problems.filter((p) => !p.includes("404")), []);
});

test("storage made small: a clear message, and the oldest unpinned pictures offered for removal", {
  // WebKitGTK's quota is set through WebKitWebsiteDataManager, as a share of the disk.
  skip: WEBKIT && "WebKitGTK's quota is a share of the disk set by the embedding app: MiniBrowser has no switch for it, WebDriver no command",
}, async (t) => {
  // The browser's quota for this site: room for one picture (60 to 70 KB each here), not two.
  // Chromium: through DevTools, set before the page opens (it applies to the writes that
  // follow). Firefox: its profile's whole temporary storage, in KB (a fresh profile: all of it
  // this site's), where the database takes some 65 KB of its own (measured). The app's offline
  // copy of its own files (a bonus, skipped without the Cache API) is left out, so that the room
  // depends on the pictures alone.
  let cdp;
  const page = await open(t, undefined, undefined, async (page) => {
    await page.addInitScript(() => Object.defineProperty(window, "caches", { value: undefined }));
    if (!CHROMIUM) return;
    cdp = await page.context().newCDPSession(page);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: BASE, quotaSize: 100_000 });
  }, { "dom.quotaManager.temporaryStorage.fixedLimit": 180 });
  await connect(page, await freshKey(50));
  await page.locator("#balance", { hasText: "50" }).waitFor();
  await create(page, "An old picture to make room from");
  await page.locator('.job figure[data-saved="true"]').waitFor({ timeout: DONE_TIMEOUT });
  await create(page, "A new picture that does not fit");
  const problem = page.locator("#storage-problem");
  await problem.waitFor({ timeout: DONE_TIMEOUT });
  assert.match(await problem.textContent(), /Storage is full: the browser's space for this site is used up/);
  assert.match(await problem.textContent(), /oldest unpinned creations: An old picture to make room from/);
  // The new picture still shows from its link meanwhile, marked as not saved.
  const card = page.locator(".job", { hasText: "A new picture" });
  assert.equal(await card.locator("figure").getAttribute("data-saved"), "false");

  // Removing the offered one makes room: the new picture is saved, the message goes.
  await problem.getByRole("button", { name: "Remove them and save the new pictures" }).click();
  await card.locator('figure[data-saved="true"]').waitFor({ timeout: DONE_TIMEOUT });
  await problem.waitFor({ state: "hidden" });
  assert.equal(await page.locator(".history .entry").count(), 1);
  assert.equal((await savedLinks(page)).length, 1);
  await cdp?.send("Storage.overrideQuotaForOrigin", { origin: BASE });
  assert.deepEqual(page.problems, []);
});

test("a history an earlier version kept in localStorage moves to IndexedDB once, nothing lost", async (t) => {
  // A creation made before this version, straight through the API: its link still loads.
  const key = await freshKey(10);
  const created = await (await fetch(`${BASE}/api/creation?apikey=${key}`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: "An apple from an earlier version", styleName: "standard" }),
  })).json();
  let results;
  for (let i = 0; i < 120 && !results; i++) {
    const check = await (await fetch(`${BASE}/api/creation/${created.creation_id}?apikey=${key}`)).json();
    results = check.results;
    if (!results) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.equal(results?.length, 1);
  const old = [
    { creation_id: created.creation_id, request: { Style: { prompt: "An apple from an earlier version", styleName: "standard" } },
      cost: 1.1, images: results, finished_ms: 1_764_000_000_000, size: [512, 512] },
    { creation_id: "gone-1", request: { Style: { prompt: "A pear whose link expired long ago", styleName: "standard" } },
      cost: 1.1, images: [`${BASE}/images/${"0".repeat(64)}.webp`], finished_ms: 1_763_000_000_000, size: [512, 512] },
  ];
  const page = await open(t);
  await page.evaluate((text) => localStorage.setItem("clipcloud.history", text), JSON.stringify(old));
  await page.reload();
  const entries = page.locator(".history .entry");
  await entries.nth(1).waitFor();
  assert.deepEqual(await page.locator(".history .entry .prompt").allTextContents(),
    ["An apple from an earlier version", "A pear whose link expired long ago"]);
  // Moved, not copied: out of localStorage; the picture whose link still loads is saved now.
  assert.equal(await page.evaluate(() => localStorage.getItem("clipcloud.history")), null);
  await entries.first().locator('figure[data-saved="true"]').waitFor();
  assert.deepEqual(await savedLinks(page), results);
  await page.reload();
  await entries.nth(1).waitFor();
  assert.equal(await entries.count(), 2);
  await allDecoded(page, ".history .entry:first-child", 1);
  // The expired link's 404; nothing else.
  assert.deepEqual(page.problems.filter((p) => !p.includes("404")), []);
});

// Pictures are kept as Blobs, and as their bytes where a browser refuses to store Blobs (WebKit:
// private windows, automation): both kinds are read, whichever this browser wrote.
test("a picture kept as its bytes, not a Blob, shows and exports", async (t) => {
  const { key, page } = await connected(t, 10);
  await create(page, "An apple kept as its bytes");
  await page.locator('.job figure[data-saved="true"]').waitFor({ timeout: DONE_TIMEOUT });
  const [link] = await savedLinks(page);
  const kept = await page.evaluate((link) => new Promise((resolve, reject) => {
    const open = indexedDB.open("clipcloud");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction("images", "readwrite");
      const images = tx.objectStore("images");
      const get = images.get(link);
      let was;
      get.onsuccess = async () => {
        was = get.result instanceof Blob ? "Blob" : Object.keys(get.result).sort().join();
        if (was !== "Blob") return;
        // Read first, then written in a transaction of its own (this one commits meanwhile).
        const value = { bytes: await get.result.arrayBuffer(), type: get.result.type };
        const again = open.result.transaction("images", "readwrite");
        again.objectStore("images").put(value, link);
        again.oncomplete = () => (open.result.close(), resolve(was));
        again.onabort = () => reject(again.error);
      };
      tx.oncomplete = () => was !== "Blob" && (open.result.close(), resolve(was));
      tx.onabort = () => reject(tx.error);
    };
  }), link);
  assert.equal(kept, WEBKIT ? "bytes,type" : "Blob");
  await expireImages(key);
  await page.reload();
  await allDecoded(page, ".history", 1);
  assert.match(await page.locator(".history .thumbs img").getAttribute("src"), /^blob:/);
  await page.getByRole("button", { name: "Export all" }).click();
  await page.locator("#storage-report", { hasText: "Exported 1 creation and 1 picture." }).waitFor();
  assert.deepEqual(page.problems.filter((p) => !p.includes("404")), []);
});

// The app's own site unreachable: a gateway of this test's own serves it (the other tests' stays
// up), then stops; the same origin then answers nothing, then only 502s (a proxy in front of
// the stopped gateway). Each time the app opens from its offline copy (web/sw.js).
const GATEWAY_BIN = process.env.CLIPCLOUD_GATEWAY_BIN;
const SPA_DIST = process.env.CLIPCLOUD_SPA_DIST;

/** A gateway serving the app in relay mode in front of the emulator, on a free port; `stop()` ends it. */
async function ownGateway(t) {
  assert.ok(GATEWAY_BIN && SPA_DIST, "set CLIPCLOUD_GATEWAY_BIN and CLIPCLOUD_SPA_DIST (cargo xtask test does)");
  // Only these flags: no setting from this process's environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CLIPCLOUD_GATEWAY_")));
  const child = spawn(GATEWAY_BIN, [
    "--listen", "127.0.0.1:0", "--upstream", EMULATOR, "--static-dir", SPA_DIST, "--log-format", "off",
  ], { stdio: ["ignore", "pipe", "pipe"], env });
  let said = "";
  child.stderr.on("data", (d) => (said += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await exited;
  };
  t.after(stop);
  const first = await new Promise((resolve, reject) => {
    child.once("error", reject);
    exited.then((code) => reject(new Error(`the gateway exited (${code}) before listening: ${said}`)));
    createInterface({ input: child.stdout }).once("line", resolve);
  });
  const prefix = "clipcloud-gateway listening on ";
  assert.ok(first.startsWith(prefix), first);
  const url = first.slice(prefix.length).trim();
  return { url, port: Number(new URL(url).port), stop };
}

/** Listens on `port` of 127.0.0.1 until the test ends: `answer(socket)` for each connection. */
async function listenOn(t, port, answer) {
  const sockets = new Set();
  const server = createServer((socket) => {
    sockets.add(socket.once("close", () => sockets.delete(socket)).on("error", () => {}));
    answer(socket);
  });
  await new Promise((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  const close = () => new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(resolve);
  });
  t.after(close);
  return close;
}

test("offline: with the site unreachable the app opens and the gallery shows every saved picture", async (t) => {
  const site = await ownGateway(t);
  const page = await open(t, undefined, site.url + "/");
  await connect(page, await freshKey(10));
  await page.locator("#balance", { hasText: "10" }).waitFor();
  await create(page, "A lantern for a night without network");
  await page.locator('.job figure[data-saved="true"]').waitFor({ timeout: DONE_TIMEOUT });
  // The app has kept its files once its worker controls the page.
  await page.waitForFunction(() => navigator.serviceWorker?.controller);
  await site.stop();

  const opensOffline = async (what) => {
    await page.reload();
    await page.locator(".history .entry", { hasText: "A lantern" }).waitFor();
    await allDecoded(page, ".history", 1);
    assert.match(await page.locator(".history .thumbs img").getAttribute("src"), /^blob:/, what);
    // Said as such; no panel opens by itself to ask for a key.
    await page.locator(".label.bad", { hasText: "Not connected" }).waitFor();
    assert.equal(await page.locator("#connect").isVisible(), false, what);
    await page.getByRole("button", { name: "Connection" }).click();
    await page.locator("#connect-error", { hasText: "This site cannot be reached" }).waitFor();
  };
  // Nothing listens there (the connection is refused at once).
  await opensOffline("nothing listening");
  // Something takes the connection and never answers (a dead network, a hung server): the
  // worker stops waiting for the network after a few seconds.
  const closeSilent = await listenOn(t, site.port, () => {});
  await opensOffline("no answer");
  await closeSilent();
  // A proxy in front of the stopped gateway answers every request with a 502.
  await listenOn(t, site.port, (socket) => socket.once("data", () =>
    socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")));
  await opensOffline("502");
  // The app's calls refused, cut (the silent stand-in closing the connections it held) and
  // answered 502, as Chromium logs them; nothing else.
  const unreachable = /net::ERR_CONNECTION_(REFUSED|RESET)|status of 502/;
  assert.deepEqual(page.problems.filter((p) => !unreachable.test(p)), []);
});
