// The packed npm package, installed from its tarball into this project, in headless
// Chromium and Firefox ESR, and WebKitGTK (on the display `cargo xtask test` starts), against
// the emulator: from a page Vite bundled, and from a
// plain <script type="module"> page; and the package's metadata and types. Node.js is
// node.test.mjs. Run by `cargo xtask test` (which packs the tarball and installs it here
// first); `node --test` prints the pass/fail counts.
//
// Environment: CLIPCLOUD_EMULATOR_BIN (default: ../../target/debug/clipcloud-emulator),
// CLIPCLOUD_GATEWAY_BIN (default: ../../target/debug/clipcloud-gateway; `cargo xtask test`
// builds both and passes their paths).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { promisify } from "node:util";
import { build } from "vite";
import { gatewayBin, here, root, startEmulator, startGateway } from "./support.mjs";
import * as webkit from "../webdriver/webkit.mjs";

// playwright-core and typescript: the versions pinned in xtask/tools.
const tools = createRequire(join(root, "xtask", "tools", "package.json"));
const { chromium, firefox } = tools("playwright-core");

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
/** Long enough that a wait is surely still polling when the test aborts it. */
const EMULATOR_DELAY_MS = "1500";

let emulator; // support.mjs: { url, log: [{ at, line }], stop, freshKey }
let server; // static files of this directory
let pageOrigin;
let profile; // Chromium's profile directory

const TYPES = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/** Serves this directory: plain.html, node_modules/clipcloud/…, dist/ (the Vite build). */
function startServer() {
  const srv = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    const file = join(here, path);
    if (!file.startsWith(here) || !(await stat(file).then((s) => s.isFile(), () => false))) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => srv.listen(0, "127.0.0.1", () => ok(srv)));
}

/** Requests the emulator logged for a path so far. */
const requestsFor = (path) => emulator.log.filter(({ line }) => line.includes(` ${path}?`));

before(async () => {
  emulator = await startEmulator(EMULATOR_DELAY_MS);
  await build({
    root: join(here, "vite"),
    base: "./",
    logLevel: "warn",
    build: { outDir: join(here, "dist"), emptyOutDir: true },
  });
  server = await startServer();
  pageOrigin = `http://127.0.0.1:${server.address().port}`;
});

/** The browsers the package runs in, each launched once for its tests. */
const BROWSERS = {
  Chromium: async () => {
    profile = await mkdtemp(join(tmpdir(), "clipcloud-npm-test-"));
    return chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_FLAGS,
    });
  },
  // Debian's own Firefox ESR, driven over WebDriver BiDi (a "moz-" channel in Playwright).
  Firefox: async () => {
    const browser = await firefox.launch({ channel: "moz-firefox", executablePath: "/usr/bin/firefox-esr", headless: true });
    const context = await browser.newContext();
    context.on("close", () => browser.close());
    return context;
  },
  // Debian's WebKitGTK (Safari's engine), over W3C WebDriver behind the same calls.
  WebKit: () => webkit.launch(),
};

after(async () => {
  server?.close();
  emulator?.stop();
  if (profile) await rm(profile, { recursive: true, force: true });
});

for (const [resolution, config] of [
  ["bundler", "tsconfig.json"],
  ["node16", "tsconfig.node16.json"],
  ["nodenext, from CommonJS", "tsconfig.require.json"],
]) {
  it(`types (moduleResolution ${resolution}): tsc --noEmit accepts every call, refuses misuse`, async () => {
    const tsc = join(root, "xtask", "tools", "node_modules", "typescript", "bin", "tsc");
    const run = promisify(execFile)(process.execPath, [tsc, "--noEmit", "-p", join(here, config)]);
    await assert.doesNotReject(run, (e) => assert.fail(`${e.stdout}${e.stderr}`));
  });
}

it("package.json: ESM, a build per runtime, types, no side effects, only what ships", async () => {
  const pkg = tools(join(here, "node_modules", "clipcloud", "package.json"));
  assert.equal(pkg.type, "module");
  assert.equal(pkg.sideEffects, false);
  assert.equal(pkg.types, "./index.d.ts");
  assert.deepEqual(pkg.exports["."], {
    types: "./index.d.ts",
    workerd: "./workerd.js",
    browser: "./index.js",
    node: "./node.js",
    default: "./index.js",
  });
  assert.deepEqual(Object.keys(pkg.exports["."])[0], "types", "types first, as TypeScript wants");
  assert.deepEqual(
    [...pkg.files].sort(),
    ["README.md", "clipcloud_bg.wasm", "index.d.ts", "index.js", "node.js", "workerd.js"],
  );
  assert.equal(pkg.engines.node, ">=20");
  // The version is the workspace's (Cargo.toml), stamped by `cargo xtask package`.
  const cargo = await readFile(join(root, "Cargo.toml"), "utf8");
  const workspace = cargo.split("\n[workspace.package]\n")[1].split("\n[")[0];
  assert.equal(pkg.version, workspace.match(/^version = "([^"]+)"$/m)[1]);
});

it("npm publish --dry-run is clean: no warning but the one about logging in", async () => {
  const built = join(root, "target", "npm", "clipcloud");
  const { stderr } = await promisify(execFile)("npm", ["publish", "--dry-run"], { cwd: built });
  const warnings = stderr.split("\n").filter((l) => /warn/i.test(l) && !/requires you to be logged in/.test(l));
  assert.deepEqual(warnings, []);
  assert.match(stderr, /total files: +7\n/, "package.json, README.md, index.d.ts, the wasm and 3 bundles");
});

it("the browser build holds no Node.js code", async () => {
  const browser = await readFile(join(here, "node_modules", "clipcloud", "index.js"), "utf8");
  assert.doesNotMatch(browser, /node:|readFile|process\./);
  const node = await readFile(join(here, "node_modules", "clipcloud", "node.js"), "utf8");
  assert.match(node, /from"node:fs\/promises"/);
});

for (const [browserName, launch] of Object.entries(BROWSERS)) describe(`in ${browserName}`, () => {
  let context;
  before(async () => {
    context = await launch();
  });
  after(async () => {
    await context?.close();
  });

  for (const [kind, path] of [
    ["a page Vite bundled", "/dist/index.html"],
    ["a plain <script type=module> page", "/plain.html"],
  ]) {
    describe(`from ${kind}`, () => {
      let page;
      const pageErrors = [];

      before(async () => {
        page = await context.newPage();
        page.on("pageerror", (e) => pageErrors.push(e));
        await page.goto(pageOrigin + path);
        await page.waitForFunction(() => window.clipcloud !== undefined, null, { timeout: 10_000 });
      });

      after(async () => {
        await page?.close();
        assert.deepEqual(pageErrors, [], "no uncaught errors in the page");
      });

      it("generate resolves with the images and the cost, reporting progress", async () => {
        const apiKey = await emulator.freshKey(50);
        const result = await page.evaluate(
          async ({ apiKey, baseUrl }) => {
            const { ClipCloud } = window.clipcloud;
            const cc = new ClipCloud({ apiKey, baseUrl });
            const progress = [];
            const done = await cc.generate(
              { prompt: "A close-up shot of a perfectly ripe red apple", style: "HD-HQ", count: 2 },
              { onProgress: (p) => progress.push(p) },
            );
            const image = await fetch(done.images[0]);
            return {
              done,
              progress,
              balance: await cc.balance(),
              imageType: image.headers.get("content-type"),
              imageOk: image.ok,
            };
          },
          { apiKey, baseUrl: emulator.url },
        );
        const { done, progress } = result;
        assert.equal(done.images.length, 2);
        for (const url of done.images) assert.match(url, /^http:\/\/.*\.webp$/);
        assert.equal(done.censored, 0);
        assert.ok(done.cost > 0, `cost ${done.cost}`);
        assert.match(done.creationId, /^[0-9a-f-]{8,}$/);
        assert.ok(Math.abs(50 - done.cost - result.balance) < 1e-9, `balance ${result.balance} after cost ${done.cost}`);
        assert.ok(result.imageOk);
        assert.equal(result.imageType, "image/webp");
        assert.ok(progress.length >= 1, "onProgress was called");
        assert.deepEqual(Object.keys(progress[0]).sort(), ["checks", "creationId", "elapsedMs", "state"]);
        assert.equal(progress[0].state, "in_progress");
        assert.equal(progress[0].checks, 0, "the first report comes when the create is accepted");
        assert.ok(progress.length >= 2 && progress[1].checks === 1, JSON.stringify(progress));
        assert.equal(progress[0].creationId, done.creationId);
        assert.equal(typeof progress[0].elapsedMs, "number");
      });

      it("create, check, wait and styles", async () => {
        const apiKey = await emulator.freshKey(20);
        const r = await page.evaluate(
          async ({ apiKey, baseUrl }) => {
            const { ClipCloud } = window.clipcloud;
            const cc = new ClipCloud({ apiKey, baseUrl });
            const styles = await cc.styles();
            const id = await cc.create({ prompt: "a lighthouse at dusk", styleName: "smallHQ" });
            const first = await cc.check(id);
            const progress = [];
            const done = await cc.wait(id, { onProgress: (p) => progress.push(p.checks) });
            const last = await cc.check(id);
            return { styles, id, first, done, last, progress };
          },
          { apiKey, baseUrl: emulator.url },
        );
        assert.equal(r.styles.length, 20);
        assert.deepEqual(r.styles[0], { name: "standard", description: r.styles[0].description, width: 512, height: 512 });
        assert.ok(r.styles.some((s) => s.name === "HD-HQ"));
        assert.equal(typeof r.id, "string");
        assert.deepEqual(r.first, { state: "in_progress", creationId: r.id });
        assert.equal(r.done.creationId, r.id);
        assert.equal(r.done.images.length, 1);
        assert.deepEqual(r.last, { state: "done", ...r.done });
        // Made by this client moments before: polled as generate polls it, from the create
        // (1.5 s creations: checks at 0.5, 1.25 and 2.4 s), not checked at once first.
        assert.deepEqual(r.progress, [0, 1, 2]);
      });

      it("aborting mid-wait rejects at once with code aborted, and polling stops", async () => {
        const apiKey = await emulator.freshKey(10);
        const r = await page.evaluate(
          async ({ apiKey, baseUrl }) => {
            const { ClipCloud, ClipCloudError } = window.clipcloud;
            const cc = new ClipCloud({ apiKey, baseUrl });
            const id = await cc.create({ prompt: "a slow castle", style: "standard" });
            const controller = new AbortController();
            let abortedAt;
            const error = await cc
              .wait(id, {
                signal: controller.signal,
                // After the first check (a wait this soon after its create first reports
                // with checks: 0, before any check).
                onProgress: ({ checks }) => {
                  if (checks === 0) return;
                  abortedAt = performance.now();
                  controller.abort();
                },
              })
              .then(
                () => null,
                (e) => e,
              );
            const rejectedAfterMs = performance.now() - abortedAt;
            // A signal aborted before the call: rejected without a request.
            const early = await cc.balance({ signal: controller.signal }).catch((e) => e);
            return {
              id,
              rejectedAfterMs,
              isError: error instanceof Error,
              isClipCloudError: error instanceof ClipCloudError,
              name: error?.name,
              code: error?.code,
              message: error?.message,
              earlyCode: early?.code,
              abortedWallClock: Date.now(),
            };
          },
          { apiKey, baseUrl: emulator.url },
        );
        assert.equal(r.code, "aborted");
        assert.ok(r.isError && r.isClipCloudError);
        assert.equal(r.name, "ClipCloudError");
        assert.equal(r.message, "The call was cancelled.");
        assert.ok(r.rejectedAfterMs < 100, `rejected ${r.rejectedAfterMs} ms after the abort`);
        assert.equal(r.earlyCode, "aborted");

        // The emulator takes 1.5 s; polling would check again within a second. It must not.
        const checksAtAbort = requestsFor(`/api/creation/${r.id}`).length;
        assert.ok(checksAtAbort >= 1, "the wait checked before the abort");
        await new Promise((ok) => setTimeout(ok, 2_000));
        assert.equal(requestsFor(`/api/creation/${r.id}`).length, checksAtAbort, "no check after the abort");
        assert.equal(requestsFor("/api/balance").filter(({ at }) => at >= r.abortedWallClock - 50).length, 0);
      });

      it("a bad key rejects with code unauthorized, and the key is in no error", async () => {
        const apiKey = "not-a-real-key-0123";
        const e = await page.evaluate(
          async ({ apiKey, baseUrl }) => {
            const { ClipCloud, ClipCloudError } = window.clipcloud;
            const error = await new ClipCloud({ apiKey, baseUrl }).balance().catch((e) => e);
            return {
              isError: error instanceof Error,
              isClipCloudError: error instanceof ClipCloudError,
              name: error.name,
              code: error.code,
              status: error.status,
              message: error.message,
              text: `${error} ${error.stack} ${JSON.stringify(error)}`,
            };
          },
          { apiKey, baseUrl: emulator.url },
        );
        assert.ok(e.isError && e.isClipCloudError);
        assert.equal(e.name, "ClipCloudError");
        assert.equal(e.code, "unauthorized");
        assert.equal(e.status, 401);
        assert.match(e.message, /API key/);
        assert.ok(!e.text.includes(apiKey), e.text);
        assert.ok(!emulator.log.some(({ line }) => line.includes(apiKey)), "nor in the emulator's log");
      });

      it("invalid input is refused before anything is sent", async () => {
        const apiKey = await emulator.freshKey(10);
        const r = await page.evaluate(
          async ({ apiKey, baseUrl }) => {
            const { ClipCloud } = window.clipcloud;
            const cc = new ClipCloud({ apiKey, baseUrl });
            const fail = (p) => p.then(
              () => null,
              (e) => ({ code: e.code, status: e.status, message: e.message }),
            );
            return {
              emptyPrompt: await fail(cc.generate({ prompt: "   ", style: "standard" })),
              count: await fail(cc.create({ prompt: "x", style: "standard", count: 9 })),
              width: await fail(cc.create({ prompt: "x", width: 100 })),
              widthWithStyle: await fail(cc.create({ prompt: "x", style: "standard", width: 512 })),
              extraNamed: await fail(cc.create({ prompt: "x", extra: { negative_prompt: "y" } })),
              extraNotJson: await fail(cc.create({ prompt: "x", extra: { sampler: () => "euler" } })),
              extraNotObject: await fail(cc.create({ prompt: "x", extra: ["sampler"] })),
              notObject: await fail(cc.create("a red apple")),
              countType: await fail(cc.create({ prompt: "x", style: "standard", count: "2" })),
              badId: await fail(cc.check("../balance")),
              noKey: await fail(new ClipCloud({ apiKey: "", baseUrl }).balance()),
              badUrl: await fail(new ClipCloud({ apiKey, baseUrl: "localhost:8787" }).balance()),
              badSignal: await fail(cc.balance({ signal: "stop" })),
              balance: await cc.balance(),
            };
          },
          { apiKey, baseUrl: emulator.url },
        );
        assert.deepEqual(r.emptyPrompt, {
          code: "invalid_input",
          status: undefined,
          message: "Invalid input: prompt must not be empty",
        });
        assert.equal(r.count.message, "Invalid input: count must be between 1 and 4 (got 9)");
        assert.equal(r.width.message, "Invalid input: width must be between 256 and 2048 (got 100)");
        assert.equal(r.widthWithStyle.message, "Invalid input: width is for advanced creates (without a style)");
        assert.equal(
          r.extraNamed.message,
          'Invalid input: extra field "negative_prompt" is one of the named fields; set it directly',
        );
        assert.equal(r.extraNotJson.message, "Invalid input: extra.sampler must be a JSON value");
        assert.equal(r.extraNotObject.message, "Invalid input: extra must be an object");
        for (const e of [r.notObject, r.countType, r.badId, r.noKey, r.badUrl, r.badSignal]) {
          assert.equal(e?.code, "invalid_input", JSON.stringify(e));
        }
        assert.equal(r.balance, 10, "nothing was created");
      });

      it("an advanced create sends its extra fields as given", async () => {
        const apiKey = await emulator.freshKey(10);
        const r = await page.evaluate(
          async ({ apiKey, baseUrl }) => {
            const { ClipCloud } = window.clipcloud;
            // The package uses the page's fetch: keep the body it sends.
            const bodies = [];
            const pageFetch = window.fetch;
            window.fetch = (url, init) => {
              if (init?.method === "POST") bodies.push(init.body);
              return pageFetch(url, init);
            };
            try {
              const cc = new ClipCloud({ apiKey, baseUrl });
              const done = await cc.generate({
                prompt: "a red apple",
                width: 512,
                extra: { sampler: "euler", cfg: { scale: 7.5, list: [1, null, true] } },
              });
              return { bodies, images: done.images.length };
            } finally {
              window.fetch = pageFetch;
            }
          },
          { apiKey, baseUrl: emulator.url },
        );
        assert.equal(r.images, 1);
        assert.deepEqual(r.bodies.map((b) => JSON.parse(b)), [
          { prompt: "a red apple", width: 512, sampler: "euler", cfg: { scale: 7.5, list: [1, null, true] } },
        ]);
      });

      it("timeoutMs bounds a whole call", async () => {
        const apiKey = await emulator.freshKey(10);
        const r = await page.evaluate(
          async ({ apiKey, baseUrl }) => {
            const { ClipCloud } = window.clipcloud;
            const cc = new ClipCloud({ apiKey, baseUrl });
            const id = await cc.create({ prompt: "a slow tower", style: "standard" });
            const started = performance.now();
            const e = await cc.wait(id, { timeoutMs: 300 }).catch((e) => e);
            return { code: e.code, ms: performance.now() - started };
          },
          { apiKey, baseUrl: emulator.url },
        );
        assert.equal(r.code, "timeout");
        assert.ok(r.ms >= 290 && r.ms < 1_000, `${r.ms} ms`);
      });
    });
  }

  describe("without apiKey (for a gateway that adds its own key)", () => {
    let page;
    let gateway;
    before(async () => {
      page = await context.newPage();
      await page.goto(pageOrigin + "/plain.html");
      await page.waitForFunction(() => window.clipcloud !== undefined, null, { timeout: 10_000 });
    });
    after(async () => {
      await page?.close();
      await gateway?.stop();
    });

    it("is refused without a baseUrl, naming apiKey; with one, sends no key", async () => {
      const r = await page.evaluate(async (baseUrl) => {
        const { ClipCloud } = window.clipcloud;
        const fail = (p) => p.then(() => null, (e) => ({ code: e.code, message: e.message }));
        const sent = [];
        const pageFetch = window.fetch;
        window.fetch = (url, init) => (sent.push(String(url)), pageFetch(url, init));
        try {
          return {
            noBaseUrl: await fail(new ClipCloud({}).balance()),
            theService: await fail(new ClipCloud({ baseUrl: "https://clipcloud.clipai.pro/" }).styles()),
            nullKey: await fail(new ClipCloud({ apiKey: null }).balance()),
            emptyKey: await fail(new ClipCloud({ apiKey: "", baseUrl }).balance()),
            // The emulator wants a key: refused there, but the request went out without one.
            emulator: await fail(new ClipCloud({ baseUrl }).balance()),
            sent,
          };
        } finally {
          window.fetch = pageFetch;
        }
      }, emulator.url);
      for (const e of [r.noBaseUrl, r.theService, r.nullKey]) {
        assert.equal(e?.code, "invalid_input", JSON.stringify(e));
        assert.match(e.message, /^Invalid input: apiKey is required: only a ClipCloud gateway/);
      }
      assert.equal(r.emptyKey?.message, "Invalid input: API key must not be empty");
      assert.equal(r.emulator?.code, "unauthorized", JSON.stringify(r.emulator));
      const api = r.sent.filter((url) => url.startsWith(emulator.url));
      assert.deepEqual(api, [`${emulator.url}/api/balance`], "only the last one was sent, without a key");
    });

    it(
      "works through a gateway in operator-key mode, and shows its refusals",
      async () => {
        assert.ok(existsSync(gatewayBin), `no gateway binary at ${gatewayBin} (cargo build -p clipcloud-gateway)`);
        const key = await emulator.freshKey(50);
        gateway = await startGateway({ upstream: emulator.url, key, origin: pageOrigin, dailyCap: 3 });
        const info = await (await fetch(`${gateway.url}/gateway/info`)).json();
        const r = await page.evaluate(async (baseUrl) => {
          const { ClipCloud } = window.clipcloud;
          const sent = [];
          const prefer = [];
          const pageFetch = window.fetch;
          window.fetch = (url, init) => {
            sent.push(String(url));
            prefer.push(init?.headers?.Prefer ?? null);
            return pageFetch(url, init);
          };
          try {
            const cc = new ClipCloud({ baseUrl });
            const done = await cc.generate({ prompt: "a red apple", style: "standard" });
            const overCap = await cc.create({ prompt: "a red apple", style: "standard", count: 4 }).then(
              () => null,
              (e) => ({ code: e.code, status: e.status, message: e.message, mayHaveStarted: e.mayHaveStarted }),
            );
            return { images: done.images.length, overCap, sent, prefer };
          } finally {
            window.fetch = pageFetch;
          }
        }, gateway.url);
        assert.equal(info.mode, "operator");
        assert.equal(info.apikey, "none");
        assert.equal(r.images, 1);
        assert.ok(r.sent.length >= 2 && r.sent.every((url) => !/apikey/i.test(url)), r.sent.join("\n"));
        // Held checks across origins (Prefer needs the gateway's preflight): asked once, then
        // one check, held until the images were ready.
        const paths = r.sent.map((url) => new URL(url).pathname.replace(/[0-9a-f-]{36}$/, "{id}"));
        assert.deepEqual(paths, ["/gateway/info", "/api/creation", "/api/creation/{id}", "/api/creation"]);
        assert.deepEqual(r.prefer, [null, null, "wait=30", null]);
        assert.equal(r.overCap?.code, "insufficient_balance", JSON.stringify(r.overCap));
        assert.equal(r.overCap.status, 402);
        assert.equal(r.overCap.mayHaveStarted, false);
        assert.match(r.overCap.message, /^Not enough credit \(HTTP 402\): \S/);
        const left = await (await fetch(`${emulator.url}/api/balance?apikey=${key}`)).json();
        assert.ok(left.balance > 50 - 3, `the operator's key spent ${50 - left.balance}, the cap is 3`);
      },
    );
  });
});
