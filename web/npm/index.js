// ClipCloud for JavaScript: the Rust client (crates/clipcloud, compiled to wasm) behind a
// small class. Every rule about the API lives in the wasm: for each call it says what to
// send and how long to wait; this file only performs those steps with `fetch` and timers,
// and turns errors into `ClipCloudError`s.
import load, { Core } from "./clipcloud.js"; // the wasm-bindgen glue, bundled in at build time
// Where the wasm is by default, per runtime: `cargo xtask package` bundles this file once
// for browsers (index.js), once for Node.js (node.js), once for workerd (workerd.js).
import { wasmSource } from "./wasm-source.js";

let loading;

/**
 * Loads the wasm once. Calls do it themselves; call `init()` early to start loading
 * sooner, or pass where the wasm is (URL, Response, bytes or WebAssembly.Module).
 */
export function init(wasm) {
  return (loading ??= load({ module_or_path: wasm ?? wasmSource() }).then(
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
    let run;
    try {
      await init();
      this.#core ??= new Core(this.#options);
      run = this.#core.begin(op, arg, options); // checks the input and the options
      // The global fetch is looked up per call, so a page may wrap it later.
      return await drive(this.#core, run, options ?? {}, this.#options.fetch ?? fetch);
    } catch (e) {
      // The wasm reports errors as [code, message, status, mayHaveStarted].
      throw Array.isArray(e) ? new ClipCloudError(...e) : e;
    } finally {
      run?.free();
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

// The steps the wasm asks for (crates/clipcloud-js/src/lib.rs).
const SEND = 0;
const SLEEP = 1;
const DONE = 2;

// Performs a call's steps until the wasm says it is done, the signal aborts or
// `timeoutMs` passes; then the pending fetch is aborted and every timer cleared.
function drive(core, run, { signal, timeoutMs, onProgress }, send) {
  return new Promise((resolve, reject) => {
    let over = false;
    let request; // the pending fetch's AbortController
    let timer; // the pending sleep, or the pending fetch's time limit
    let limit; // timeoutMs
    const end = () => {
      over = true;
      request?.abort();
      clearTimeout(timer);
      clearTimeout(limit);
      signal?.removeEventListener("abort", aborted);
    };
    const stop = (timedOut) => {
      if (!over) {
        end();
        reject(core.stop(run, timedOut));
      }
    };
    const aborted = () => stop(false);
    // `step` computes the next step; nothing runs once the call is over.
    const next = (step) => {
      if (over) return;
      try {
        follow(step());
      } catch (e) {
        end();
        reject(e);
      }
    };
    const follow = ([kind, a, b, c, d, e]) => {
      if (kind === SEND) {
        const controller = (request = new AbortController());
        let timedOut = false;
        timer = setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, d);
        // A body (a create) is JSON; `e`: a held check's `Prefer`, sent only where the wasm
        // knows holds are offered (not a CORS-safelisted header).
        const headers = {};
        if (c !== undefined) headers["Content-Type"] = "application/json";
        if (e) headers.Prefer = e;
        send(b, { method: a, body: c, headers, signal: controller.signal })
          .then((r) => r.text().then((body) => [r.status, r.headers.get("retry-after") ?? undefined, body]))
          .then(
            ([status, retryAfter, body]) => {
              clearTimeout(timer);
              next(() => core.answer(run, status, retryAfter, body, Date.now()));
            },
            (e) => {
              clearTimeout(timer);
              next(() => core.failed(run, timedOut, String(e?.message ?? e), Date.now()));
            },
          );
      } else if (kind === SLEEP) {
        if (b !== undefined && onProgress) {
          try {
            onProgress(b);
          } catch {
            // A throwing callback must not stop the polling.
          }
        }
        timer = setTimeout(() => next(() => core.woke(run, Date.now())), a);
      } else {
        end();
        (kind === DONE ? resolve : reject)(a);
      }
    };
    if (signal?.aborted) return aborted();
    signal?.addEventListener("abort", aborted);
    // setTimeout holds at most 2^31 - 1 ms (24.8 days); longer would fire at once.
    if (timeoutMs !== undefined && timeoutMs !== null) limit = setTimeout(() => stop(true), Math.min(timeoutMs, 2 ** 31 - 1));
    next(() => core.start(run, Date.now()));
  });
}
