// Run by runtimes.test.mjs with Deno and with Bun (their npm packages), in this project:
// the package as each resolves it from node_modules. Prints what it got as JSON.
import { ClipCloud } from "clipcloud";

const [apiKey, baseUrl] = globalThis.Deno?.args ?? process.argv.slice(2);
const cc = new ClipCloud({ apiKey, baseUrl });
const done = await cc.generate({ prompt: "a red apple", style: "standard" });
const aborted = await cc.balance({ signal: AbortSignal.abort() }).catch((e) => e.code);
const resolved = import.meta.resolve("clipcloud");
console.log(JSON.stringify({ resolved, images: done.images.length, balance: await cc.balance(), aborted }));
