// The packed package in other runtimes whose npm packages ship the runtime itself, against
// the real emulator: Deno and Bun (both take the `node` build) and workerd,
// Cloudflare Workers' runtime (the `workerd` build, bundled as wrangler bundles: esbuild
// with the workerd conditions, the wasm a module of its own). Wrangler itself needs
// Node.js 22.12, newer than this project's Node 20.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { here, root, run, startEmulator } from "./support.mjs";

let emulator;
before(async () => {
  emulator = await startEmulator(300);
});
after(() => emulator?.stop());

const bin = (name) => join(here, "node_modules", ".bin", name);

/** Checks what runtimes/picture.mjs printed. */
function checkPicture(r) {
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.match(out.resolved, /\/node_modules\/clipcloud\/node\.js$/, "the Node.js build");
  assert.equal(out.images, 1);
  assert.ok(out.balance < 10);
  assert.equal(out.aborted, "aborted");
}

it("Deno: imports the Node.js build, makes a picture, refuses an aborted signal", async () => {
  const apiKey = await emulator.freshKey(10);
  const dir = await mkdtemp(join(tmpdir(), "clipcloud-deno-"));
  try {
    const args = ["run", "--allow-net", "--allow-read", "runtimes/picture.mjs", apiKey, emulator.url];
    checkPicture(await run(bin("deno"), args, { DENO_DIR: dir, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it("Bun: imports the Node.js build, makes a picture, refuses an aborted signal", async () => {
  const apiKey = await emulator.freshKey(10);
  checkPicture(await run(bin("bun"), ["runtimes/picture.mjs", apiKey, emulator.url], { NO_COLOR: "1" }));
});

/** A port free now (workerd takes its address from the command line). */
function freePort() {
  const server = createServer();
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    server.close(() => ok(port));
  }));
}

describe("workerd (Cloudflare Workers)", () => {
  let dir;
  let workerd;
  let url;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "clipcloud-workerd-"));
    // esbuild as wrangler runs it: the `workerd` and `worker` conditions, .wasm imports
    // left to the runtime, which compiles them before the Worker starts.
    const esbuild = createRequire(join(root, "crates", "clipcloud-js", "tools", "package.json"))("esbuild");
    await esbuild.build({
      entryPoints: [join(here, "runtimes", "worker.js")],
      bundle: true,
      format: "esm",
      conditions: ["workerd", "worker", "browser"],
      external: ["*.wasm"],
      outfile: join(dir, "worker.js"),
      logLevel: "warning",
    });
    await copyFile(join(here, "node_modules", "clipcloud", "clipcloud_bg.wasm"), join(dir, "clipcloud_bg.wasm"));
    await writeFile(join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "clipcloud_bg.wasm", wasm = embed "clipcloud_bg.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  globalOutbound = "internet",
);
`);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    workerd = spawn(bin("workerd"), ["serve", join(dir, "config.capnp"), "--socket-addr", `http=127.0.0.1:${port}`], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    // Up once it answers (a refused connection until then).
    for (let tries = 0; ; tries++) {
      const up = await fetch(`${url}/health`).then(() => true, () => false);
      if (up) break;
      if (tries > 200 || workerd.exitCode !== null) throw new Error("workerd did not start");
      await new Promise((ok) => setTimeout(ok, 50));
    }
  });
  after(async () => {
    workerd?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the bundle took the workerd build, which imports the wasm as a module", async () => {
    const bundle = await readFile(join(dir, "worker.js"), "utf8");
    assert.match(bundle, /import \w+ from "\.\/clipcloud_bg\.wasm"/);
    assert.doesNotMatch(bundle, /node:fs/);
  });

  it("a Worker makes a picture with it", async () => {
    const apiKey = await emulator.freshKey(10);
    const res = await fetch(`${url}/?key=${apiKey}&base=${encodeURIComponent(emulator.url)}`);
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.images, 1);
    assert.ok(body.balance < 10);
  });
});
