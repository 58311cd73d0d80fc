// What the Node.js tests share: the real emulator (CLIPCLOUD_EMULATOR_BIN, passed by
// `cargo xtask test`; default ../../target/debug/clipcloud-emulator), fresh keys, and a
// child process's output.

import { spawn } from "node:child_process";
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
  const child = spawn(process.execPath, args, { cwd: here, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((ok, fail) => {
    child.once("error", fail);
    child.once("close", (code) => ok({ code, stdout, stderr }));
  });
}
