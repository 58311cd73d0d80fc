// What the Node.js tests share: the real emulator (CLIPCLOUD_EMULATOR_BIN, passed by
// `cargo xtask test`; default ../../target/debug/clipcloud-emulator), the real gateway
// (CLIPCLOUD_GATEWAY_BIN; default ../../target/debug/clipcloud-gateway), fresh keys, and a
// child process's output.

import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, "../..");

/**
 * Starts the emulator on a free port; its stderr lines (one per request, never a key) are
 * kept in `log` as `{ at: Date.now(), line }`.
 */
export function startEmulator(delayMs) {
  const bin = process.env.CLIPCLOUD_EMULATOR_BIN ?? join(root, "target", "debug", "clipcloud-emulator");
  const child = spawn(bin, ["--port", "0", "--delay-ms", String(delayMs)], { stdio: ["ignore", "pipe", "pipe"] });
  const log = [];
  createInterface({ input: child.stderr }).on("line", (line) => log.push({ at: Date.now(), line }));
  return new Promise((ok, fail) => {
    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`the emulator exited (${code}) before listening`)));
    createInterface({ input: child.stdout }).once("line", (first) => {
      const prefix = "clipcloud-emulator listening on ";
      if (!first.startsWith(prefix)) fail(new Error(`unexpected first line: ${first}`));
      const url = first.slice(prefix.length).trim();
      ok({ url, log, stop: () => child.kill(), freshKey: (balance) => freshKey(url, balance) });
    });
  });
}

/** A key of its own (the emulator mints it), so each test sees only its own requests. */
async function freshKey(url, balance) {
  const res = await fetch(`${url}/emulator/keys`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ balance }),
  });
  return (await res.json()).apikey;
}

/** Runs `node args…` in this project; resolves to { code, stdout, stderr }. */
export function runNode(args, env = {}) {
  return run(process.execPath, args, env);
}

/** Runs `command args…` in this project; resolves to { code, stdout, stderr, child }. */
export function run(command, args, env = {}) {
  const child = spawn(command, args, { cwd: here, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((ok, fail) => {
    child.once("error", fail);
    child.once("close", (code) => ok({ code, stdout, stderr, child }));
  });
}

export const gatewayBin = process.env.CLIPCLOUD_GATEWAY_BIN ?? join(root, "target", "debug", "clipcloud-gateway");

/**
 * The gateway in operator-key mode in front of the emulator at `upstream` (in relay mode
 * without `key`: visitors bring theirs): it adds `key` itself, lets pages of `origin` in (if given), and spends at most `dailyCap` credits a
 * day, all of it from one address if need be (the tests' one), reserving 1.1 per image
 * (the emulator's `standard` price) for a kind of create it has not seen yet. Resolves to
 * `{ url, stop, holds }`; `holds()` is its /healthz `holds` counts.
 */
export async function startGateway({ upstream, key, origin, dailyCap }) {
  const dir = await mkdtemp(join(tmpdir(), "clipcloud-npm-gateway-"));
  const args = ["--listen", "127.0.0.1:0", "--upstream", upstream, "--log-format", "off"];
  if (origin) args.push("--allow-origin", origin);
  // Without a key: relay mode, visitors bring theirs.
  if (key !== undefined) {
    const keyFile = join(dir, "key.txt");
    await writeFile(keyFile, `${key}\n`);
    args.push("--key-file", keyFile, "--ledger", ":memory:", "--daily-cap", String(dailyCap));
    args.push("--address-share", "100", "--max-price-per-image", "1.1");
  }
  // Only these flags: no setting from this process's environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CLIPCLOUD_GATEWAY_")));
  const child = spawn(gatewayBin, args, { stdio: ["ignore", "pipe", "inherit"], env });
  const stop = async () => {
    child.kill();
    await rm(dir, { recursive: true, force: true });
  };
  return new Promise((resolveStart, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the gateway exited (${code}) before listening`)));
    createInterface({ input: child.stdout }).once("line", (first) => {
      const prefix = "clipcloud-gateway listening on ";
      if (!first.startsWith(prefix)) reject(new Error(`unexpected first line: ${first}`));
      const url = first.slice(prefix.length).trim();
      const holds = async () => (await (await fetch(`${url}/healthz`)).json()).holds;
      resolveStart({ url, stop, holds });
    });
  });
}
