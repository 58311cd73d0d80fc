// Cloudflare Workers (workerd): no wasm may be compiled at run time; the bundler (wrangler)
// compiles the imported file ahead and hands over a WebAssembly.Module.
import wasm from "./clipcloud_bg.wasm";

export const wasmSource = () => wasm;
