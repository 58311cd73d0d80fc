// WebKitGTK (Safari's engine) for the browser tests, behind the part of Playwright's API they
// use, so the same scenario code runs in Chromium, Firefox and WebKit. Playwright's own WebKit
// is a patched build from a download site (not installable here); Debian's WebKitGTK is driven
// over W3C WebDriver instead: WebKitWebDriver starts MiniBrowser, selenium-webdriver (pinned in
// xtask/tools) speaks to it.
//
// `cargo xtask test` passes what it needs: DISPLAY (an Xvfb of the run's own),
// CLIPCLOUD_WEBKIT_DRIVER (WebKitWebDriver) and CLIPCLOUD_WEBKIT_CAPABILITIES (a JSON file:
// MiniBrowser and its switches).
//
// What WebDriver gives and what it does not, and how this layer bridges it:
// - locators are resolved in the page (CSS, `hasText`, `has`, `nth`, `and`, role and accessible
//   name, text) and waited for as Playwright does (attached, visible, enabled), polling;
//   clicks and keys are real WebDriver input; `fill` empties the field (with an input event),
//   then types;
// - page errors: WebDriver classic has no console log and WebKitGTK's automation windows do not
//   write theirs to stdout, so an in-page collector (uncaught errors, rejections, console.error,
//   CSP violations) is put in after every navigation: what happens before the page's `load`
//   is not seen;
// - request events: the page's own `fetch` calls (method, URL, headers), seen by a wrapper put
//   in after every navigation: not images, not navigations, nothing before `load`;
// - dialogs (`confirm`): handed to the `dialog` handlers (`page.once("dialog")`) after the click
//   that opened them, or at the next command if they opened later; none registered: dismissed;
// - `emulateMedia({ colorScheme })`: no WebDriver command; the page's own
//   `prefers-color-scheme` rules are switched in its stylesheets (the CSSOM), so its colours
//   are the ones a dark device gets (the browser's own controls stay light);
// - not available (a test must use the project's servers instead, or say why it cannot run):
//   response events, request interception (`route`), offline mode, downloads,
//   DevTools sessions, init scripts.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { Builder, Capabilities, Key } = createRequire(join(ROOT, "xtask", "tools", "package.json"))("selenium-webdriver");

/** Playwright's default for every wait. */
const TIMEOUT = 30_000;
const POLL_MS = 100;
/**
 * MiniBrowser's toolbar keeps its window at least 447 px wide; with its GTK widgets shrunk the
 * page gets the whole width (a phone's 390 px). GTK's CSS reaches only the browser's own
 * widgets, never the page.
 */
const GTK_CSS = "* { min-width: 0; min-height: 0; padding: 0; margin: 0; border-width: 0; font-size: 1px; -gtk-icon-transform: scale(0.1); }\n";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something listens on the port (the driver binds it some moments after its start). */
async function listening(port, child) {
  for (let waited = 0; waited < 10_000; waited += POLL_MS) {
    if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited (${child.exitCode}) before listening`);
    const open = await new Promise((resolve) => {
      const socket = createConnection(port, "127.0.0.1", () => (socket.end(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await sleep(POLL_MS);
  }
  throw new Error(`WebKitWebDriver did not listen on port ${port} within 10 s`);
}

/**
 * A fresh MiniBrowser (its own empty website data) with one page of `viewport` (the page's own
 * size, the toolbar not counted), as Playwright's `launchPersistentContext`.
 */
export async function launch({ viewport = { width: 1280, height: 900 } } = {}) {
  const driverPath = process.env.CLIPCLOUD_WEBKIT_DRIVER;
  const capabilitiesFile = process.env.CLIPCLOUD_WEBKIT_CAPABILITIES;
  if (!driverPath || !capabilitiesFile || !process.env.DISPLAY) {
    throw new Error("set DISPLAY, CLIPCLOUD_WEBKIT_DRIVER and CLIPCLOUD_WEBKIT_CAPABILITIES (cargo xtask test does)");
  }
  const config = mkdtempSync(join(tmpdir(), "clipcloud-webkit-"));
  mkdirSync(join(config, "gtk-3.0"));
  writeFileSync(join(config, "gtk-3.0", "gtk.css"), GTK_CSS);
  const port = await freePort();
  // Its own process group: MiniBrowser goes with it, even when a test ends mid-way.
  const driver = spawn(driverPath, [`--port=${port}`], {
    detached: true,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, XDG_CONFIG_HOME: config },
  });
  const stop = () => {
    try {
      process.kill(-driver.pid, "SIGTERM");
    } catch {}
    rmSync(config, { recursive: true, force: true });
  };
  try {
    await listening(port, driver);
    const capabilities = JSON.parse(readFileSync(capabilitiesFile, "utf8"));
    // Dialogs stay open until a handler (or the layer) answers them.
    capabilities.unhandledPromptBehavior = "ignore";
    const session = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities(new Capabilities(capabilities))
      .build();
    const context = new Context(session, stop, config);
    await context.page.setViewport(viewport);
    return context;
  } catch (e) {
    stop();
    throw e;
  }
}

class Context {
  constructor(driver, stop, dir) {
    this.driver = driver;
    this.stop = stop;
    this.dir = dir;
    this.page = new Page(this);
    this.inUse = false;
  }

  pages() {
    return this.inUse ? [this.page] : [];
  }

  /** One page at a time (the tests open one, close it, open the next): the window's. */
  async newPage() {
    if (this.inUse) throw new Error("this WebDriver context holds one page at a time");
    this.inUse = true;
    this.page = new Page(this);
    return this.page;
  }

  async close() {
    try {
      await this.driver.quit();
    } finally {
      this.stop();
    }
  }

  on(event) {
    throw new Error(`context.on("${event}") is not available over WebDriver`);
  }

  setOffline() {
    throw new Error("offline mode is not available over WebDriver: stop the server instead");
  }
}

// The in-page collector: uncaught errors and rejections, console.error, CSP violations, fetch calls.
const COLLECT = `if (!window.__webdriverEvents) {
  const events = (window.__webdriverEvents = []);
  addEventListener("error", (e) => events.push(["pageerror", String(e.error ?? e.message)]));
  addEventListener("unhandledrejection", (e) => events.push(["pageerror", String(e.reason)]));
  document.addEventListener("securitypolicyviolation", (e) =>
    events.push(["console", "Content-Security-Policy: refused " + e.blockedURI + " (" + e.violatedDirective + ")"]));
  const error = console.error;
  console.error = (...args) => {
    events.push(["console", args.map(String).join(" ")]);
    error.apply(console, args);
  };
  // A Request is read, never copied: a copy would take its body from the page.
  const pageFetch = window.fetch;
  window.fetch = function (input, init) {
    const request = input instanceof Request ? input : null;
    const headers = {};
    new Headers(request ? request.headers : init?.headers).forEach((value, name) => (headers[name] = value));
    events.push(["request", { method: init?.method ?? request?.method ?? "GET", url: String(request ? request.url : input), headers }]);
    return pageFetch.apply(this, arguments);
  };
}`;

// Resolves a locator's steps to elements, in the page. A function's source: sent with each call.
function resolveSteps(steps, root) {
  const norm = (s) => (s ?? "").replace(/\s+/g, " ").trim();
  const order = (list) => [...new Set(list)].sort((a, b) => (a.compareDocumentPosition(b) & 4 ? -1 : 1));
  const hidden = (el) => {
    for (let e = el; e; e = e.parentElement) {
      if (e.hidden || e.getAttribute("aria-hidden") === "true" || getComputedStyle(e).display === "none") return true;
    }
    return getComputedStyle(el).visibility === "hidden";
  };
  const role = (el) => {
    const explicit = el.getAttribute("role");
    if (explicit) return explicit.split(" ")[0];
    const tag = el.localName;
    if (tag === "button") return "button";
    if (tag === "a" && el.hasAttribute("href")) return "link";
    if (tag === "textarea") return "textbox";
    if (tag === "select") return el.multiple || el.size > 1 ? "listbox" : "combobox";
    if (/^h[1-6]$/.test(tag)) return "heading";
    if (tag === "dialog") return "dialog";
    if (tag === "img") return el.getAttribute("alt") === "" ? "presentation" : "img";
    if (tag === "input") {
      const type = (el.getAttribute("type") ?? "text").toLowerCase();
      if (["button", "submit", "reset", "image"].includes(type)) return "button";
      return { checkbox: "checkbox", radio: "radio", range: "slider", number: "spinbutton", search: "searchbox" }[type]
        ?? (["text", "email", "tel", "url", "password"].includes(type) ? "textbox" : null);
    }
    return null;
  };
  const content = (el) =>
    [...el.childNodes].map((n) => (n.nodeType === 3 ? n.textContent : n.nodeType !== 1 || hidden(n) ? "" : n.localName === "img" ? n.alt : content(n))).join("");
  const name = (el) => {
    const by = el.getAttribute("aria-labelledby");
    if (by) return norm(by.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? "").join(" "));
    if (el.getAttribute("aria-label")) return norm(el.getAttribute("aria-label"));
    if (el.labels?.length) return norm([...el.labels].map((l) => l.textContent).join(" "));
    if (el.localName === "input" && ["button", "submit", "reset"].includes(el.type)) return norm(el.value);
    if (["button", "link", "heading"].includes(role(el))) {
      const text = norm(content(el));
      if (text) return text;
    }
    return norm(el.getAttribute("title") ?? el.getAttribute("placeholder") ?? "");
  };
  const has = (text, wanted, exact) => (exact ? text === norm(wanted) : text.toLowerCase().includes(norm(wanted).toLowerCase()));
  const below = (roots) => order(roots.flatMap((r) => [...r.querySelectorAll("*")]));
  let found = [root ?? document];
  for (const step of steps) {
    if ("css" in step) found = order(found.flatMap((r) => [...r.querySelectorAll(step.css)]));
    else if ("hasText" in step) found = found.filter((e) => has(norm(e.textContent), step.hasText, false));
    else if ("has" in step) found = found.filter((e) => resolveSteps(step.has, e).length > 0);
    else if ("nth" in step) found = step.nth < 0 ? found.slice(step.nth).slice(0, 1) : found.slice(step.nth, step.nth + 1);
    else if ("and" in step) {
      const other = new Set(resolveSteps(step.and));
      found = found.filter((e) => other.has(e));
    } else if ("role" in step) {
      found = below(found).filter((e) => role(e) === step.role && !hidden(e) && (step.name === undefined || has(name(e), step.name, step.exact)));
    } else if ("text" in step) {
      const matches = (e) => !["script", "style"].includes(e.localName) && has(norm(e.textContent), step.text, false);
      found = below(found).filter((e) => matches(e) && ![...e.children].some(matches));
    }
  }
  return found;
}

// Whether an element is visible as Playwright means it: a box, and not `visibility: hidden`.
function visible(el) {
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
}

// What the page's `undefined` comes back as (see `Page.script`).
const UNDEFINED = "__webdriver_undefined__";
const unpack = (v) => Array.isArray(v) ? v.map(unpack)
  : v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype
  ? (v[UNDEFINED] === true ? undefined : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unpack(x)])))
  : v;

const KEYS = { Tab: Key.TAB, Enter: Key.ENTER, Escape: Key.ESCAPE, Backspace: Key.BACK_SPACE, Delete: Key.DELETE,
  ArrowDown: Key.ARROW_DOWN, ArrowUp: Key.ARROW_UP, ArrowLeft: Key.ARROW_LEFT, ArrowRight: Key.ARROW_RIGHT, Space: " " };
const MODIFIERS = { Control: Key.CONTROL, Shift: Key.SHIFT, Alt: Key.ALT, Meta: Key.META };

class Page {
  constructor(context) {
    this.ctx = context;
    this.driver = context.driver;
    this.listeners = { pageerror: [], console: [], dialog: [], request: [] };
    this.keyboard = {
      press: (combo) => this.press(combo),
      type: (text) => this.driver.actions().sendKeys(text).perform(),
    };
  }

  context() {
    return this.ctx;
  }

  on(event, listener) {
    if (!(event in this.listeners)) throw new Error(`page.on("${event}") is not available over WebDriver`);
    this.listeners[event].push({ listener, once: false });
    return this;
  }

  once(event, listener) {
    this.on(event, listener);
    this.listeners[event].at(-1).once = true;
    return this;
  }

  /** Calls the listeners; what they return (a dialog's answer is a promise). */
  emit(event, value) {
    return [...this.listeners[event]].map((entry) => {
      if (entry.once) this.listeners[event].splice(this.listeners[event].indexOf(entry), 1);
      return entry.listener(value);
    });
  }

  /** Runs `body` (a script body) with `args`; hands the page's new events to the listeners. */
  async script(body, ...args) {
    // `arguments` in the arrow functions is the script's own. `undefined` is marked, as
    // WebDriver's JSON would make it `null`.
    const run = () => this.driver.executeScript(
      `const pack = (v) => v === undefined ? { [${JSON.stringify(UNDEFINED)}]: true }
        : Array.isArray(v) ? v.map(pack)
        : v !== null && typeof v === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(v))
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, pack(x)])) : v;
      return (async () => {
        const result = await (async () => { ${body} })();
        return [pack(result), window.__webdriverEvents?.splice(0) ?? []];
      })();`,
      ...args,
    );
    // A dialog that opened after the action that caused it had returned is answered now.
    const [result, events] = await run().catch(async (e) => {
      if (e.name !== "UnexpectedAlertOpenError") throw e;
      await this.answerDialog();
      return run();
    });
    for (const [kind, value] of events) {
      if (kind === "pageerror") this.emit("pageerror", new Error(value));
      else if (kind === "request") this.emit("request", { method: () => value.method, url: () => value.url, headers: () => value.headers });
      else this.emit("console", { type: () => "error", text: () => value });
    }
    return unpack(result);
  }

  async setViewport({ width, height }) {
    // The window's size, then again with what the toolbar and frame take.
    await this.driver.manage().window().setRect({ width, height });
    const [innerWidth, innerHeight] = await this.script("return [innerWidth, innerHeight]");
    await this.driver.manage().window().setRect({ width: 2 * width - innerWidth, height: 2 * height - innerHeight });
  }

  async afterNavigation() {
    await this.script(COLLECT);
  }

  async goto(url) {
    await this.driver.get(url);
    await this.afterNavigation();
  }

  async reload() {
    await this.script("return 0"); // the old page's last events
    await this.driver.navigate().refresh();
    await this.afterNavigation();
  }

  /** `fn` (a function, called with `arg`) or a script (a string) evaluated in the page. */
  async evaluate(fn, arg) {
    if (typeof fn === "string") return this.script(`${fn}\n;return undefined;`);
    return this.script(`return (${fn})(arguments[0]);`, arg ?? null);
  }

  async waitForFunction(fn, arg, { timeout = TIMEOUT } = {}) {
    const until = Date.now() + timeout;
    for (;;) {
      const value = await this.evaluate(fn, arg);
      if (value) return { jsonValue: async () => value };
      if (Date.now() > until) throw new Error(`waitForFunction: not true within ${timeout} ms: ${fn}`);
      await sleep(POLL_MS);
    }
  }

  waitForTimeout(ms) {
    return sleep(ms);
  }

  locator(selector, options = {}) {
    return new Locator(this, []).locator(selector, options);
  }

  getByRole(role, options) {
    return new Locator(this, []).getByRole(role, options);
  }

  getByText(text) {
    return new Locator(this, [{ text }]);
  }

  async press(combo) {
    const parts = combo.split("+");
    const key = parts.pop();
    const mods = parts.map((m) => MODIFIERS[m] ?? m);
    let actions = this.driver.actions();
    for (const m of mods) actions = actions.keyDown(m);
    actions = actions.sendKeys(KEYS[key] ?? (key.length === 1 ? key.toLowerCase() : key));
    for (const m of mods.reverse()) actions = actions.keyUp(m);
    await actions.perform();
  }

  /** A dialog the last action opened goes to the `dialog` handlers (none: dismissed). */
  async answerDialog() {
    const alert = await this.driver.switchTo().alert().catch(() => null);
    if (!alert) return;
    if (this.listeners.dialog.length === 0) return alert.dismiss();
    const message = await alert.getText();
    await Promise.all(this.emit("dialog", { message: () => message, accept: () => alert.accept(), dismiss: () => alert.dismiss() }));
  }

  async emulateMedia({ colorScheme }) {
    await this.script(
      `const dark = arguments[0] === "dark";
      for (const sheet of document.styleSheets) {
        for (const rule of sheet.cssRules) {
          if (!(rule instanceof CSSMediaRule) || !/prefers-color-scheme/.test(rule.media.mediaText + (rule.__original ?? ""))) continue;
          rule.__original ??= rule.media.mediaText;
          const wantsDark = /prefers-color-scheme:\\s*dark/.test(rule.__original);
          rule.media.mediaText = wantsDark === dark ? "all" : "not all";
        }
      }`,
      colorScheme,
    );
  }

  async screenshot({ path }) {
    writeFileSync(path, Buffer.from(await this.driver.takeScreenshot(), "base64"));
  }

  async close() {
    this.ctx.inUse = false;
    await this.driver.get("about:blank");
  }

  route() {
    throw new Error("request interception is not available over WebDriver: use the emulator's faults");
  }

  waitForEvent(event) {
    throw new Error(`page.waitForEvent("${event}") is not available over WebDriver`);
  }
}

class Locator {
  constructor(page, steps) {
    this.pageOf = page;
    this.steps = steps;
  }

  page() {
    return this.pageOf;
  }

  with(...steps) {
    return new Locator(this.pageOf, [...this.steps, ...steps]);
  }

  locator(selector, { hasText, has } = {}) {
    // Playwright's `css >> nth=N`.
    const [css, ...chained] = selector.split(" >> ");
    const steps = [{ css }];
    for (const part of chained) {
      const nth = /^nth=(-?\d+)$/.exec(part);
      if (!nth) throw new Error(`selector part not supported over WebDriver: ${part}`);
      steps.push({ nth: Number(nth[1]) });
    }
    if (hasText !== undefined) steps.push({ hasText: String(hasText) });
    if (has) steps.push({ has: has.steps });
    return this.with(...steps);
  }

  getByRole(role, { name, exact = false } = {}) {
    return this.with({ role, name, exact });
  }

  first() {
    return this.with({ nth: 0 });
  }

  nth(index) {
    return this.with({ nth: index });
  }

  and(other) {
    return this.with({ and: other.steps });
  }

  /** The elements now (WebDriver references). */
  elements() {
    return this.pageOf.script(`return (${resolveSteps})(arguments[0]);`, this.steps);
  }

  /** Runs `fn(element, arg)` on the first element, once `ready(element)` holds; waits for that. */
  async when(ready, fn, arg, timeout = TIMEOUT) {
    const until = Date.now() + timeout;
    for (;;) {
      const [done, value] = await this.pageOf.script(
        `const [steps, arg] = arguments;
        const el = (${resolveSteps})(steps)[0];
        if (!el || !(${ready})(el)) return [false];
        return [true, await (${fn})(el, arg)];`,
        this.steps,
        arg ?? null,
      );
      if (done) return value;
      if (Date.now() > until) throw new Error(`locator: no element ready within ${timeout} ms: ${JSON.stringify(this.steps)}`);
      await sleep(POLL_MS);
    }
  }

  async count() {
    return (await this.elements()).length;
  }

  async all() {
    return Array.from({ length: await this.count() }, (_, i) => this.nth(i));
  }

  allTextContents() {
    return this.pageOf.script(`return (${resolveSteps})(arguments[0]).map((e) => e.textContent);`, this.steps);
  }

  async isVisible() {
    return this.pageOf.script(`const el = (${resolveSteps})(arguments[0])[0]; return !!el && (${visible})(el);`, this.steps);
  }

  isEnabled() {
    return this.when(() => true, (el) => !el.disabled);
  }

  textContent() {
    return this.when(() => true, (el) => el.textContent);
  }

  getAttribute(name) {
    return this.when(() => true, (el, name) => el.getAttribute(name), name);
  }

  inputValue() {
    return this.when(() => true, (el) => el.value);
  }

  evaluate(fn, arg) {
    return this.when(() => true, fn, arg);
  }

  elementHandle() {
    return this.when(() => true, (el) => el);
  }

  async waitFor({ state = "visible", timeout = TIMEOUT } = {}) {
    const until = Date.now() + timeout;
    for (;;) {
      const now = await this.pageOf.script(
        `const el = (${resolveSteps})(arguments[0])[0];
        return !el ? "detached" : (${visible})(el) ? "visible" : "hidden";`,
        this.steps,
      );
      const done = { visible: now === "visible", attached: now !== "detached", detached: now === "detached", hidden: now !== "visible" }[state];
      if (done) return;
      if (Date.now() > until) throw new Error(`locator.waitFor(${state}): still ${now} after ${timeout} ms: ${JSON.stringify(this.steps)}`);
      await sleep(POLL_MS);
    }
  }

  /** A real click (WebDriver scrolls it into view), retried while something covers it. */
  async click() {
    const until = Date.now() + TIMEOUT;
    for (;;) {
      const el = await this.when(visible, (el) => (el.disabled ? null : el));
      try {
        if (el) {
          await el.click();
          break;
        }
      } catch (e) {
        if (!/intercepted|not interactable|stale/i.test(`${e.name} ${e.message}`) || Date.now() > until) throw e;
      }
      if (Date.now() > until) throw new Error(`click: the element stayed disabled: ${JSON.stringify(this.steps)}`);
      await sleep(POLL_MS);
    }
    await this.pageOf.answerDialog();
  }

  /** Empties the field (an input event, as a person deleting its text), then types `value`. */
  async fill(value) {
    const el = await this.when(visible, (el) => {
      el.focus();
      el.value = "";
      el.dispatchEvent(new Event("input", { bubbles: true }));
      return el;
    });
    if (value !== "") await el.sendKeys(value);
  }

  /** Chooses the file `{ name, buffer }` in this file input. */
  async setInputFiles({ name, buffer }) {
    const dir = mkdtempSync(join(this.pageOf.ctx.dir, "upload-"));
    writeFileSync(join(dir, name), buffer);
    const el = await this.when(() => true, (el) => el);
    await el.sendKeys(join(dir, name));
  }
}
