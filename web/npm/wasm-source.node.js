// Node.js (and Deno, Bun): `fetch` cannot read a file: URL, so the bytes beside this module
// are read from disk, once, on the first call.
import { readFile } from "node:fs/promises";

export const wasmSource = () => readFile(new URL("clipcloud_bg.wasm", import.meta.url));
