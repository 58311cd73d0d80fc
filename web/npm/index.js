// ClipCloud for web pages: the Rust client (crates/clipcloud, compiled to wasm) behind a
// small class. Every rule about the API lives in the wasm; this file only loads it and
// turns its errors into `ClipCloudError`s.
import load, { Core } from "./clipcloud.js"; // the wasm-bindgen glue, bundled in at build time

let loading;

/**
 * Loads the wasm once. Calls do it themselves; call `init()` early to start loading
 * sooner, or pass where the wasm is (URL, Response, bytes or WebAssembly.Module).
 */
export function init(wasm) {
  return (loading ??= load(wasm === undefined ? undefined : { module_or_path: wasm }).then(
    () => {},
    (e) => {
      loading = undefined;
      throw new ClipCloudError("network", `Could not load the ClipCloud wasm: ${e?.message ?? e}`);
    },
  ));
}

export class ClipCloudError extends Error {
  constructor(code, message, status, mayHaveStarted = false) {
    super(message);
    this.name = "ClipCloudError";
    this.code = code;
    this.status = status;
    this.mayHaveStarted = mayHaveStarted;
  }
}

export class ClipCloud {
  #options;
  #core;

  constructor(options) {
    this.#options = { ...options };
  }

  // op: 0 create, 1 check, 2 balance, 3 styles, 4 generate, 5 wait (crates/clipcloud-js).
  async #call(op, arg, options) {
    try {
      await init();
      this.#core ??= new Core(this.#options);
      return await this.#core.call(op, arg, options);
    } catch (e) {
      // The wasm rejects with [code, message, status, mayHaveStarted].
      throw Array.isArray(e) ? new ClipCloudError(...e) : e;
    }
  }

  create(input, options) {
    return this.#call(0, input, options);
  }
  check(creationId, options) {
    return this.#call(1, creationId, options);
  }
  balance(options) {
    return this.#call(2, undefined, options);
  }
  styles(options) {
    return this.#call(3, undefined, options);
  }
  generate(input, options) {
    return this.#call(4, input, options);
  }
  wait(creationId, options) {
    return this.#call(5, creationId, options);
  }
}
