// The README's Node.js examples (examples/*.mjs), run as a user runs them, against the
// real emulator; and the README holds each one verbatim, so what it shows is what ran.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { here, runNode, startEmulator } from "./support.mjs";

let emulator;
let dir;
before(async () => {
  emulator = await startEmulator(300);
  dir = await mkdtemp(join(tmpdir(), "clipcloud-examples-"));
});
after(async () => {
  emulator?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const EXAMPLES = ["quick-start.mjs", "illustrate.mjs", "route.mjs"];

it("the package's README shows each example verbatim", async () => {
  const readme = await readFile(join(here, "node_modules", "clipcloud", "README.md"), "utf8");
  for (const name of EXAMPLES) {
    const code = await readFile(join(here, "examples", name), "utf8");
    assert.ok(readme.includes("```js\n" + code + "```\n"), `README.md lacks examples/${name} as it is`);
  }
});

it("every other js block of the README parses as a module (node --check)", async () => {
  const readme = await readFile(join(here, "node_modules", "clipcloud", "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```\n/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 6, `${blocks.length} blocks`);
  for (const [i, code] of blocks.entries()) {
    const file = join(dir, `readme-${i}.mjs`);
    await writeFile(file, code);
    const r = await runNode(["--check", file]);
    assert.equal(r.code, 0, `block ${i}:\n${code}\n${r.stderr}`);
  }
});

it("quick-start.mjs prints the images of one generate", async () => {
  const apiKey = await emulator.freshKey(5);
  const r = await runNode(["examples/quick-start.mjs"], { CLIPCLOUD_API_KEY: apiKey, CLIPCLOUD_BASE_URL: emulator.url });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /http:\/\/127\.0\.0\.1:\d+\/images\/[0-9a-f]+\.webp/);
});

it("illustrate.mjs creates every picture at once, then writes each file", async () => {
  const apiKey = await emulator.freshKey(50);
  const pictures = [
    { picture_number: 1, query: "A lighthouse on a cliff at dawn", negative_prompt: "", style: "HD-HQ" },
    { picture_number: 2, query: "A fishing boat in a storm", negative_prompt: "people", style: "aquarelle" },
    { picture_number: 3, query: "A harbour market at noon", negative_prompt: "", style: "smallHQ" },
  ];
  const file = join(dir, "pictures.json");
  await writeFile(file, JSON.stringify(pictures));
  const out = join(dir, "out");
  const r = await runNode(["examples/illustrate.mjs", file, out], {
    CLIPCLOUD_API_KEY: apiKey,
    CLIPCLOUD_BASE_URL: emulator.url,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await readdir(out)).sort(), ["picture-1-1.webp", "picture-2-1.webp", "picture-3-1.webp"]);
  const webp = await readFile(join(out, "picture-2-1.webp"));
  assert.equal(webp.subarray(8, 12).toString(), "WEBP");
  // All three were created before the first was ready (the emulator takes 300 ms each).
  const creations = await (await fetch(`${emulator.url}/emulator/creations?apikey=${apiKey}`)).json();
  const list = creations.creations;
  assert.equal(list.length, 3, JSON.stringify(creations));
  const lastCreated = Math.max(...list.map((c) => c.created_ms));
  const firstReady = Math.min(...list.map((c) => c.ready_ms));
  assert.ok(lastCreated < firstReady, JSON.stringify(list));
  const stats = await (await fetch(`${emulator.url}/emulator/stats?apikey=${apiKey}`)).json();
  assert.equal(stats.duplicate_creates, 0);
});

describe("route.mjs", () => {
  let server;
  let url;
  const apiKey = "demo-key";
  before(async () => {
    server = spawn(process.execPath, ["examples/route.mjs"], {
      cwd: here,
      env: { ...process.env, CLIPCLOUD_API_KEY: apiKey, CLIPCLOUD_BASE_URL: emulator.url, PORT: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const first = await new Promise((ok) => createInterface({ input: server.stdout }).once("line", ok));
    url = first.replace("listening on ", "");
  });
  after(() => server?.kill());

  const post = async (body) => {
    const res = await fetch(`${url}/api/picture`, { method: "POST", body });
    return { status: res.status, text: await res.text() };
  };

  it("creates with the server's key and answers only the image links", async () => {
    const r = await post(JSON.stringify({ prompt: "a red apple", style: "standard" }));
    assert.equal(r.status, 200, r.text);
    const answer = JSON.parse(r.text);
    assert.deepEqual(Object.keys(answer), ["images"]);
    assert.equal(answer.images.length, 1);
    assert.ok(!r.text.includes(apiKey), "no key in the answer");
    const image = await fetch(answer.images[0]);
    assert.equal(image.headers.get("content-type"), "image/webp");
  });

  it("refuses bad input with the package's message, and sends nothing", async () => {
    const logged = emulator.log.length;
    const r = await post(JSON.stringify({ prompt: " ", style: "standard" }));
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.text), { error: "invalid_input", message: "Invalid input: prompt must not be empty" });
    assert.equal((await post("{")).status, 400);
    assert.equal(emulator.log.length, logged);
  });
});
