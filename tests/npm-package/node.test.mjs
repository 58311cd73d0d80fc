// The packed package in Node.js, installed from its tarball into this project (not the
// source tree), against the real emulator: imported as an ES module with no init() call,
// required from CommonJS, with bad input, an aborted signal and an injected fetch; held
// checks through the real gateway in front of it, and straight to it.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ClipCloud, ClipCloudError } from "clipcloud";
import { existsSync } from "node:fs";
import { gatewayBin, runNode, startEmulator, startGateway } from "./support.mjs";

let emulator;
before(async () => {
  emulator = await startEmulator(300);
});
after(() => emulator?.stop());

const realFetch = globalThis.fetch; // a test below replaces the global one

/** A fetch that counts what it is asked to send, then sends it. */
function countingFetch() {
  const sent = [];
  const counted = (url, init) => {
    sent.push({ url: String(url), method: init?.method });
    return realFetch(url, init);
  };
  return { sent, fetch: counted };
}

/**
 * A fetch that keeps each request's path (a creation id as `{id}`), `Prefer` header and
 * signal, and the `Preference-Applied` of its answer, then sends it.
 */
function recordingFetch() {
  const sent = [];
  const recorded = async (url, init) => {
    const entry = {
      path: new URL(url).pathname.replace(/[0-9a-f-]{36}$/, "{id}"),
      method: init.method,
      prefer: init.headers?.Prefer ?? null,
      signal: init.signal,
    };
    sent.push(entry);
    const answer = await realFetch(url, init);
    entry.applied = answer.headers.get("preference-applied");
    return answer;
  };
  return { sent, fetch: recorded, summary: () => sent.map(({ method, path, prefer }) => `${method} ${path} ${prefer}`) };
}

/** The rejection of `promise` as plain fields, or a failure if it resolved. */
async function refusal(promise) {
  const e = await promise.then(
    (value) => assert.fail(`resolved with ${JSON.stringify(value)}`),
    (e) => e,
  );
  assert.ok(e instanceof ClipCloudError, `not a ClipCloudError: ${e}`);
  return { code: e.code, message: e.message, mayHaveStarted: e.mayHaveStarted };
}

it("resolves to the Node.js build through the `node` exports condition", () => {
  assert.match(import.meta.resolve("clipcloud"), /\/node_modules\/clipcloud\/node\.js$/);
});

it("runs as an ES module with no init() call: generate, images, balance", async () => {
  const apiKey = await emulator.freshKey(20);
  const cc = new ClipCloud({ apiKey, baseUrl: emulator.url });
  const progress = [];
  const done = await cc.generate(
    { prompt: "a red apple on a table", style: "HD-HQ", count: 2 },
    { onProgress: (p) => progress.push(p.checks) },
  );
  assert.equal(done.images.length, 2);
  assert.equal(done.censored, 0);
  assert.equal(progress[0], 0, "reported once the create was accepted");
  const image = await fetch(done.images[0]);
  assert.equal(image.headers.get("content-type"), "image/webp");
  assert.equal((await image.arrayBuffer()).byteLength > 0, true);
  assert.ok(Math.abs((await cc.balance()) - (20 - done.cost)) < 1e-9);
});

it("loads from CommonJS with require(), sharing one wasm with import() in a process", async () => {
  const apiKey = await emulator.freshKey(5);
  const r = await runNode(["require.cjs"], { CLIPCLOUD_API_KEY: apiKey, CLIPCLOUD_BASE_URL: emulator.url });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.balances, [5, 5]);
  assert.equal(out.sameClass, true, "require() and import() give the same module");
  assert.deepEqual(out.wasmReads, ["clipcloud_bg.wasm"], "the wasm was read once");
  assert.equal(r.stderr, "", "no warning");
});

describe("bad input is refused before anything is sent, naming the option passed", () => {
  const MAX = 2 ** 31 - 1;
  const cases = [
    ["client timeoutMs not whole", (o) => new ClipCloud({ ...o, timeoutMs: 1.5 }).balance(),
      "timeoutMs must be a whole number"],
    ["client softId", (o) => new ClipCloud({ ...o, softId: "7" }).balance(), "softId must be a whole number"],
    ["client fetch", (o) => new ClipCloud({ ...o, fetch: "fetch" }).balance(), "fetch must be a function"],
    ["call timeoutMs negative", (o) => new ClipCloud(o).styles({ timeoutMs: -1 }), "timeoutMs must be a whole number"],
    ["call signal", (o) => new ClipCloud(o).wait("an-id", { signal: "stop" }), "signal must be an AbortSignal"],
    ["call onProgress", (o) => new ClipCloud(o).generate({ prompt: "x", style: "standard" }, { onProgress: true }),
      "onProgress must be a function"],
    ["input softId", (o) => new ClipCloud(o).create({ prompt: "x", style: "standard", softId: -3 }),
      "softId must be a whole number"],
    ["input seed", (o) => new ClipCloud(o).create({ prompt: "x", seed: 0.5 }), "seed must be a whole number"],
    ["input steps", (o) => new ClipCloud(o).create({ prompt: "x", steps: "30" }), "steps must be a whole number"],
    ["input negativePrompt", (o) => new ClipCloud(o).create({ prompt: "x", style: "standard", negativePrompt: 1 }),
      "negativePrompt must be a string"],
    ["input styleName", (o) => new ClipCloud(o).create({ prompt: "x", styleName: 1 }), "styleName must be a string"],
    ["input count", (o) => new ClipCloud(o).create({ prompt: "x", style: "standard", count: 9 }),
      "count must be between 1 and 4 (got 9)"],
  ];
  for (const [name, call, message] of cases) {
    it(name, async () => {
      const { sent, fetch } = countingFetch();
      const logged = emulator.log.length;
      const e = await refusal(call({ apiKey: "demo-key", baseUrl: emulator.url, fetch }));
      assert.deepEqual(e, { code: "invalid_input", message: `Invalid input: ${message}`, mayHaveStarted: false });
      assert.deepEqual(sent, [], "nothing was sent");
      assert.equal(emulator.log.length, logged, "the emulator saw no request");
    });
  }

  it("timeoutMs above what setTimeout holds (2^31 − 1) is clamped: no end at once, no warning", async () => {
    const warnings = [];
    const warned = (w) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", warned);
    try {
      for (const timeoutMs of [MAX, MAX + 1, 2 ** 40]) {
        const { sent, fetch } = countingFetch();
        const cc = new ClipCloud({ apiKey: "demo-key", baseUrl: emulator.url, fetch, timeoutMs });
        assert.equal(typeof (await cc.balance({ timeoutMs })), "number", `timeoutMs ${timeoutMs}`);
        // The question where the key goes (the emulator is no gateway: in the URL), then the call.
        assert.deepEqual(sent.map(({ url }) => new URL(url).pathname), ["/gateway/info", "/api/balance"]);
      }
      // A warning is emitted on a later tick.
      await new Promise((ok) => setImmediate(ok));
    } finally {
      process.off("warning", warned);
    }
    assert.deepEqual(warnings, []);
  });
});

describe("an AbortSignal aborted before the call", () => {
  const calls = {
    create: (cc, o) => cc.create({ prompt: "a red apple", style: "standard" }, o),
    generate: (cc, o) => cc.generate({ prompt: "a red apple", style: "standard" }, o),
    check: (cc, o) => cc.check("f13abc05-1349-a26a-6c7f-7206fc01d6bf", o),
    wait: (cc, o) => cc.wait("f13abc05-1349-a26a-6c7f-7206fc01d6bf", o),
    balance: (cc, o) => cc.balance(o),
    styles: (cc, o) => cc.styles(o),
  };
  for (const [name, call] of Object.entries(calls)) {
    it(`rejects ${name} at once with code aborted, and sends nothing`, async () => {
      const apiKey = await emulator.freshKey(10);
      const { sent, fetch } = countingFetch();
      const logged = emulator.log.length;
      const cc = new ClipCloud({ apiKey, baseUrl: emulator.url, fetch });
      const e = await refusal(call(cc, { signal: AbortSignal.abort() }));
      assert.deepEqual(e, { code: "aborted", message: "The call was cancelled.", mayHaveStarted: false });
      assert.deepEqual(sent, []);
      assert.equal(emulator.log.length, logged, "the emulator saw no request");
      assert.equal(await cc.balance(), 10, "nothing was created");
    });
  }
});

describe("an injected fetch", () => {
  it("carries every request of the client, and the global fetch none", async () => {
    const apiKey = await emulator.freshKey(10);
    const { sent, fetch } = countingFetch();
    const globalFetch = globalThis.fetch;
    const unexpected = [];
    globalThis.fetch = (url, init) => (unexpected.push(String(url)), globalFetch(url, init));
    try {
      const cc = new ClipCloud({ apiKey, baseUrl: emulator.url, fetch });
      const done = await cc.generate({ prompt: "a lighthouse", style: "standard" });
      assert.equal(done.images.length, 1);
    } finally {
      globalThis.fetch = globalFetch;
    }
    assert.deepEqual(unexpected, []);
    // The question whether the emulator holds checks (it is not a gateway: no), without the key.
    assert.deepEqual(sent[0], { url: `${emulator.url}/gateway/info`, method: "GET" });
    assert.deepEqual(sent[1], { url: `${emulator.url}/api/creation?apikey=${apiKey}`, method: "POST" });
    assert.ok(sent.length >= 3, JSON.stringify(sent));
    for (const { url, method } of sent.slice(2)) {
      assert.equal(method, "GET");
      assert.ok(url.startsWith(`${emulator.url}/api/creation/`), url);
    }
  });

  it("that fails: a read is a network error naming the cause, and the key is in no error", async () => {
    const apiKey = "secret-key-0123456789";
    const fetch = async (url) => {
      throw new TypeError(`connect ECONNREFUSED (${new URL(url).host})`);
    };
    const e = await refusal(new ClipCloud({ apiKey, baseUrl: "http://127.0.0.1:9", fetch }).balance());
    assert.equal(e.code, "network");
    assert.match(e.message, /ECONNREFUSED/);
    assert.ok(!JSON.stringify(e).includes(apiKey));
  });

  it("that answers itself: a test double needs no server", async () => {
    const fetch = async () => new Response(JSON.stringify({ success: true, balance: 42.5 }), { status: 200 });
    assert.equal(await new ClipCloud({ apiKey: "k", fetch }).balance(), 42.5);
  });
});

describe("the key", () => {
  it("goes to a gateway in Authorization, in no URL, once it knows (calls begun meanwhile wait)", async () => {
    assert.ok(existsSync(gatewayBin), `no gateway binary at ${gatewayBin} (cargo build -p clipcloud-gateway)`);
    const relay = await startGateway({ upstream: emulator.url }); // relay mode: visitors bring their key
    try {
      const apiKey = await emulator.freshKey(10);
      const sent = [];
      const fetch = (url, init) => {
        sent.push({ url: String(url), authorization: init?.headers?.Authorization ?? null });
        return realFetch(url, init);
      };
      const cc = new ClipCloud({ apiKey, baseUrl: relay.url, fetch });
      // Two calls at once: the second waits for the first's question.
      const [balance, styles] = await Promise.all([cc.balance(), cc.styles()]);
      const done = await cc.generate({ prompt: "a red apple", style: "standard" });
      assert.equal(balance, 10);
      assert.ok(styles.length > 0 && done.images.length === 1);
      assert.deepEqual(sent[0], { url: `${relay.url}/gateway/info`, authorization: null });
      assert.ok(sent.length >= 5, JSON.stringify(sent));
      for (const { url, authorization } of sent.slice(1)) {
        assert.ok(!/apikey/i.test(url) && !url.includes(apiKey), url);
        assert.equal(authorization, `Bearer ${apiKey}`);
      }
    } finally {
      await relay.stop();
    }
  });
});

describe("held checks", () => {
  const apple = { prompt: "a red apple", style: "standard" };
  let key;
  let gateway;
  before(async () => {
    assert.ok(existsSync(gatewayBin), `no gateway binary at ${gatewayBin} (cargo build -p clipcloud-gateway)`);
    key = await emulator.freshKey(50);
    gateway = await startGateway({ upstream: emulator.url, key, dailyCap: 20 });
  });
  after(() => gateway?.stop());

  it("through a gateway: asked once per client, then one check per creation, held until ready", async () => {
    const { sent, fetch, summary } = recordingFetch();
    const cc = new ClipCloud({ baseUrl: gateway.url, fetch });
    const progress = [];
    for (let i = 0; i < 2; i++) {
      const done = await cc.generate(apple, { onProgress: (p) => progress.push(p.checks) });
      assert.equal(done.images.length, 1);
    }
    assert.deepEqual(summary(), [
      "GET /gateway/info null",
      "POST /api/creation null",
      "GET /api/creation/{id} wait=30",
      "POST /api/creation null",
      "GET /api/creation/{id} wait=30",
    ]);
    assert.deepEqual([sent[2].applied, sent[4].applied], ["wait=30", "wait=30"], "the gateway held both");
    assert.deepEqual(progress, [0, 0], "reported on acceptance only: no check found them running");
  });

  it("straight to the emulator: asked once (404: no gateway), then polled without Prefer", async () => {
    const apiKey = await emulator.freshKey(10);
    const { sent, fetch, summary } = recordingFetch();
    const cc = new ClipCloud({ apiKey, baseUrl: emulator.url, fetch });
    const id = await cc.create(apple);
    await cc.generate(apple);
    await cc.wait(id);
    const lines = summary();
    assert.equal(lines.filter((l) => l.includes("/gateway/info")).length, 1, lines.join("\n"));
    assert.equal(lines[0], "GET /gateway/info null", "asked first: where the key goes depends on it");
    assert.ok(lines.filter((l) => l.startsWith("GET /api/creation/")).length >= 2, lines.join("\n"));
    assert.deepEqual(sent.filter((r) => r.prefer !== null), [], "no Prefer header");
  });

  it("heldChecks: false asks nothing and sends no Prefer; true holds without asking", async () => {
    const off = recordingFetch();
    await new ClipCloud({ baseUrl: gateway.url, fetch: off.fetch, heldChecks: false }).generate(apple);
    assert.ok(off.sent.length >= 2, off.summary().join("\n"));
    assert.deepEqual(off.sent.filter((r) => r.path === "/gateway/info" || r.prefer !== null), []);

    // The emulator holds checks too (it is not a gateway, so only when told).
    const apiKey = await emulator.freshKey(10);
    const on = recordingFetch();
    await new ClipCloud({ apiKey, baseUrl: emulator.url, fetch: on.fetch, heldChecks: true }).generate(apple);
    // Asked all the same, as the client has a key: where it goes depends on the answer.
    assert.deepEqual(on.summary(), [
      "GET /gateway/info null",
      "POST /api/creation null",
      "GET /api/creation/{id} wait=30",
    ]);
  });

  it("refuses a heldChecks that is not true or false, naming it", async () => {
    const { sent, fetch } = countingFetch();
    const e = await refusal(new ClipCloud({ baseUrl: gateway.url, fetch, heldChecks: "yes" }).generate(apple));
    assert.deepEqual(e, {
      code: "invalid_input",
      message: "Invalid input: heldChecks must be true or false",
      mayHaveStarted: false,
    });
    assert.deepEqual(sent, []);
  });

  // The bound fails the test if the gateway kept the hold for its 30 s.
  it("an abort during a held check ends it at once, on the gateway too", { timeout: 20_000 }, async () => {
    // A creation that takes a minute: the check is surely held when the abort comes.
    const slow = await startEmulator(60_000);
    const slowGateway = await startGateway({ upstream: slow.url, key: await slow.freshKey(10), dailyCap: 5 });
    try {
      const { sent, fetch } = recordingFetch();
      const cc = new ClipCloud({ baseUrl: slowGateway.url, fetch });
      const controller = new AbortController();
      const call = cc.generate(apple, { signal: controller.signal });
      // Until the gateway holds the check (a condition, polled; not a time).
      while ((await slowGateway.holds()).held === 0) await new Promise((ok) => setTimeout(ok, 20));
      const held = sent.at(-1);
      assert.equal(held.prefer, "wait=30");
      controller.abort();
      const e = await refusal(call);
      assert.deepEqual(e, { code: "aborted", message: "The call was cancelled.", mayHaveStarted: false });
      assert.equal(held.signal.aborted, true, "the held request itself was aborted");
      // The gateway sees the connection go and lets the hold go (well before its 30 s).
      while ((await slowGateway.holds()).held !== 0) await new Promise((ok) => setTimeout(ok, 20));
      assert.equal(sent.length, 3, "nothing was sent after the abort");
    } finally {
      await slowGateway.stop();
      slow.stop();
    }
  });
});
