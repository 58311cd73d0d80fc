// End-to-end: the release SPA, served by the emulator, in a real headless Chromium.
// `cargo xtask test` builds the SPA, starts the emulator (`--static-dir dist`, a few
// seconds per creation) on a free port and passes its URL as CLIPCLOUD_SPA_URL.
//
//   CLIPCLOUD_SPA_URL=http://127.0.0.1:8787 node --test tests/e2e-spa/

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const BASE = (process.env.CLIPCLOUD_SPA_URL ?? "").replace(/\/$/, "");
const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = process.env.CLIPCLOUD_ARTIFACTS ?? join(HERE, "..", "artifacts");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];
// A creation takes a few seconds on the test emulator; leave room for a slow machine.
const DONE_TIMEOUT = 60_000;

if (!BASE) throw new Error("set CLIPCLOUD_SPA_URL to the emulator serving the SPA (cargo xtask test does)");

/** A fresh API key with this balance, so tests never share one. */
async function freshKey(balance) {
  const r = await fetch(`${BASE}/emulator/keys`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ balance }),
  });
  assert.equal(r.status, 200);
  return (await r.json()).apikey;
}

async function apiBalance(key) {
  const r = await fetch(`${BASE}/api/balance?apikey=${encodeURIComponent(key)}`);
  return (await r.json()).balance;
}

/** A new browser with its own empty profile, and a page that fails the test on any page error. */
async function open(t) {
  const profile = mkdtempSync(join(tmpdir(), "clipcloud-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, // the fresh profile directory is passed as --user-data-dir by playwright
    viewport: { width: 1280, height: 900 },
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
  await page.goto(BASE + "/");
  await page.locator(".style-card").first().waitFor();
  return page;
}

/** Opens the connection panel if needed, enters `key`, connects. */
async function connect(page, key) {
  const keyInput = page.locator('input[name="apikey"]');
  // The panel may still be opening or closing itself (the app connects at start when it
  // has a key): toggle it until the field is there rather than trusting one look.
  for (let attempt = 0; attempt < 5 && !(await keyInput.isVisible()); attempt++) {
    await page.getByRole("button", { name: "Connection" }).click();
    await keyInput.waitFor({ timeout: 2000 }).catch(() => {});
  }
  await keyInput.fill(key);
  await page.getByRole("button", { name: "Connect", exact: true }).click();
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
  const key = await freshKey(50);
  const page = await open(t);
  await connect(page, key);
  await page.locator("#balance", { hasText: "50" }).waitFor();

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
  for (let i = 0; i < 2; i++) {
    const img = imgs.nth(i);
    assert.equal(await img.evaluate((el) => el.naturalWidth), 1280);
    assert.equal(await img.evaluate((el) => el.naturalHeight), 720);
    assert.equal(await img.getAttribute("alt"), "A close-up shot of a perfectly ripe red apple");
    assert.match(await img.getAttribute("src"), /^http:\/\/.+\/images\/[0-9a-f]{64}\.webp$/);
  }
  const cost = Number(await card.locator(".cost").textContent());
  assert.equal(cost, 4.4); // two HD-HQ images (1280×720: 2.2 each)
  await page.waitForFunction((expected) => document.querySelector("#balance")?.textContent === expected, String(50 - cost));
  assert.equal(await balanceShown(page), 50 - cost);
  assert.equal(await apiBalance(key), 50 - cost);

  // The history has it, and the viewer opens large.
  await page.locator(".history .entry", { hasText: "perfectly ripe red apple" }).waitFor();
  await imgs.first().click();
  await page.locator("dialog.viewer img").waitFor();
  await page.locator("dialog.viewer").getByRole("button", { name: "Close", exact: true }).click();
  await page.locator("dialog.viewer[open]").waitFor({ state: "detached" });

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "gallery.png"), fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: join(ARTIFACTS, "gallery-dark.png"), fullPage: true });
  assert.deepEqual(page.problems, []);
});

test("a creation still running when the page is reloaded finishes after the reload", async (t) => {
  const key = await freshKey(20);
  const page = await open(t);
  await connect(page, key);
  await page.locator("#balance", { hasText: "20" }).waitFor();
  await page.locator('.style-card[data-style="standard"]').click();
  await page.locator('textarea[name="prompt"]').fill("A lighthouse in a storm");
  await page.locator('input[name="count"]').fill("1");
  await page.locator("#create").click();
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
