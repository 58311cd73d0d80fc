// The wasm's host: what it imports, loading it, and its exports behind a small class, for
// index.js. No wasm-bindgen: the wasm takes and gives plain numbers, and strings as UTF-8
// in its memory (crates/clipcloud-js/src/host.rs); the JSON values the core reads and
// writes stay here, in a table, the wasm holding their numbers (crates/clipcloud/src/json/
// host.rs says what each import does). `cargo xtask package` shortens the import and export
// names, in the wasm and here alike.
let wasm; // the instance's exports
let args = []; // the arguments of the current call, which the wasm asks for one by one
let out = []; // the values the wasm put during the current call
let encoded; // the string the wasm copies next

const encoder = new TextEncoder();
const bytes = (at, length) => new Uint8Array(wasm.memory.buffer, at, length);
const text = (at, length) => new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes(at, length));
// A string, for the wasm to copy (the `take` import): its length in bytes; -1: not a string.
const give = (s) => (typeof s == "string" ? (encoded = encoder.encode(s)).length : -1);

// The values the wasm holds by number; 0 is `undefined`, never freed.
const values = [undefined];
const freed = [];
const keep = (v) => {
  const n = freed.pop() ?? values.length;
  values[n] = v;
  return n;
};
const stringified = (v) => {
  try {
    return JSON.stringify(v);
  } catch {}
};

const imports = {
  clipcloud: {
    clipcloud_arg_string: (i) => give(args[i]),
    clipcloud_arg_number: (i) => +args[i],
    clipcloud_take: (at) => bytes(at, encoded.length).set(encoded),
    clipcloud_put_string: (at, length) => out.push(text(at, length)),
    clipcloud_put_number: (n) => out.push(n),
    clipcloud_put_none: () => out.push(undefined),
    clipcloud_json_parse: (at, length) => {
      try {
        return keep(JSON.parse(text(at, length)));
      } catch (e) {
        return -keep(e);
      }
    },
    clipcloud_json_drop: (v) => {
      values[v] = undefined;
      freed.push(v);
    },
    clipcloud_json_kind: (v) =>
      Array.isArray(values[v]) ? 3 : ["number", "boolean", "object"].indexOf(values[v] === null ? "" : typeof values[v]),
    clipcloud_json_number: (v) => values[v],
    clipcloud_json_string: (v) => give(values[v]),
    clipcloud_json_stringify: (v) => give(stringified(values[v])),
    clipcloud_json_get: (v, at, length) => {
      const field = values[v][text(at, length)];
      return field === null || field === undefined ? 0 : keep(field);
    },
    clipcloud_json_set: (o, at, length, v) => {
      values[o][text(at, length)] = values[v];
    },
    clipcloud_json_length: (v) => values[v].length,
    clipcloud_json_item: (v, i) => keep(values[v][i]),
    clipcloud_json_object: () => keep({}),
    clipcloud_json_text: (at, length) => keep(text(at, length)),
    clipcloud_json_scalar: (n, boolean) => keep(boolean ? n != 0 : n),
    clipcloud_json_number_of: (at, length) => +text(at, length),
  },
};

/** Loads the wasm from `source` (see index.d.ts's `WasmSource`), once per call. */
export async function load(source) {
  source ??= new URL("clipcloud_bg.wasm", import.meta.url); // bundlers see this and emit the file
  if (typeof source == "string" || source instanceof URL || (typeof Request == "function" && source instanceof Request)) {
    source = fetch(source);
  }
  source = await source;
  let loaded;
  if (typeof Response == "function" && source instanceof Response) {
    if (!source.ok) throw new Error(`failed to fetch Wasm: ${source.status} ${source.statusText} fetching '${source.url}'`);
    try {
      loaded = await WebAssembly.instantiateStreaming(source, imports);
    } catch (e) {
      // A server that sends the wasm with another MIME type: read it whole instead.
      const readable = ["basic", "cors", "default"].includes(source.type);
      if (!readable || source.headers.get("Content-Type") == "application/wasm") throw e;
      loaded = await WebAssembly.instantiate(await source.arrayBuffer(), imports);
    }
  } else {
    loaded = await WebAssembly.instantiate(source, imports);
  }
  // Bytes give the module and the instance; a module gives the instance.
  wasm = (loaded.instance ?? loaded).exports;
}

// A call of the wasm with `values` as its arguments: its result (a step's kind, a number)
// and the values it put.
const call = (f, values, ...numbers) => {
  args = values;
  out = [];
  return [f(...numbers), ...out];
};

const cores = globalThis.FinalizationRegistry && new FinalizationRegistry((core) => wasm.clipcloud_free(core));

/** One configured client of the wasm (crates/clipcloud-js/src/lib.rs). */
export class Core {
  #core;
  // Throws the error value (a failed step) when the options are unusable.
  constructor(options) {
    const [core, ...error] = call(wasm.clipcloud_new, options, Math.random());
    if (core < 0) throw [3, ...error];
    this.#core = core;
    cores?.register(this, core);
  }
  begin(op, values) {
    return call(wasm.clipcloud_begin, values, this.#core, op)[0];
  }
  next(run, event, number, retryAfterOrMessage, body, now) {
    return call(wasm.clipcloud_next, [retryAfterOrMessage, body], this.#core, run, event, number, now);
  }
}
