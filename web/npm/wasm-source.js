// Browsers: the glue's default, `new URL("clipcloud_bg.wasm", import.meta.url)` (bundlers
// see that pattern and emit the file).
export const wasmSource = () => {};
