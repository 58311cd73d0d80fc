// ClipCloud for JavaScript: the Rust client (crates/clipcloud, compiled to wasm) behind a
// small class. Every rule about the API lives in the wasm: for each call it says what to
// send and how long to wait; this file only checks the types of what it is given, performs
// those steps with `fetch` and timers, and makes the wasm's plain lists of values into the
// objects and `ClipCloudError`s a caller sees (less wasm and glue than the wasm making
// them: docs/sizes.md).
import { load, Core } from "./wasm.js"; // the wasm's host, bundled in at build time
// Where the wasm is by default, per runtime: `cargo xtask package` bundles this file once
// for browsers (index.js), once for Node.js (node.js), once for workerd (workerd.js).
import { wasmSource } from "./wasm-source.js";

let loading;

/**
 * Loads the wasm once. Calls do it themselves; call `init()` early to start loading
 * sooner, or pass where the wasm is (URL, Response, bytes or WebAssembly.Module).
 */
export function init(wasm) {
  return (loading ??= load(wasm ?? wasmSource()).then(
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
      // [fetch, apiKey, baseUrl, softId, timeoutMs, heldChecks] (`fetch` is used here only).
      this.#core ??= new Core(read(this.#options, "fetch:f apiKey:s baseUrl:s softId:w timeoutMs:w heldChecks:b"));
      read(options, "signal:a onProgress:f timeoutMs:w");
      run = this.#core.begin(op, op % 4 ? [arg] : input(arg));
      // The global fetch is looked up per call, so a page may wrap it later.
      return await drive(this.#core, run, options ?? {}, this.#options.fetch ?? fetch);
    } catch (e) {
      // The wasm reports errors as [3, code, message, status, mayHaveStarted (0 or 1)].
      throw Array.isArray(e) ? new ClipCloudError(e[1], e[2], e[3], e[4] == 1) : e;
    } finally {
      if (run !== undefined) this.#core.next(run, 5); // ends it in the wasm
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

// What only JavaScript can check: the types of the options and the input (every rule
// about their values is the wasm's). A value is read as the wasm would: a missing or null
// one is not given, and neither is any of a non-object or one whose getter throws. The
// wasm gets the checked values in arrays, by position.
const KINDS = {
  s: ["a string", (v) => typeof v == "string"],
  w: ["a whole number", (v) => Number.isSafeInteger(v) && v >= 0],
  b: ["true or false", (v) => typeof v == "boolean"],
  f: ["a function", (v) => typeof v == "function"],
  a: ["an AbortSignal", (v) => v instanceof AbortSignal],
};
const invalid = (message) => new ClipCloudError("invalid_input", "Invalid input: " + message);

function get(o, key) {
  try {
    if (typeof o == "object" && o) return o[key] ?? undefined;
  } catch {}
}

// `fields`: "key:kind ...", kind one of KINDS; the values in that order.
function read(o, fields) {
  return fields.split(" ").map((field) => {
    const [key, kind] = field.split(":");
    const v = get(o, key);
    const [what, fits] = KINDS[kind];
    if (v !== undefined && !fits(v)) throw invalid(`${key} must be ${what}`);
    return v;
  });
}

// A create's input: [prompt, negativePrompt, count, softId, style, model, width, height,
// quality, steps, seed, ...extra's key and JSON text pairs].
function input(x) {
  if (typeof x != "object" || !x) throw invalid("the input must be an object with a prompt");
  const v = read(x, "prompt:s negativePrompt:s count:w softId:w style:s");
  if ((v[4] ??= read(x, "styleName:s")[0]) !== undefined) {
    // The style sets these; ignoring them silently would surprise.
    const key = "model width height quality steps seed extra".split(" ").find((key) => get(x, key) !== undefined);
    if (key) throw invalid(key + " is for advanced creates (without a style)");
    return v;
  }
  v.push(...read(x, "model:s width:w height:w quality:w steps:w seed:w"));
  const extra = get(x, "extra");
  if (extra !== undefined) {
    if (typeof extra != "object" || Array.isArray(extra)) throw invalid("extra must be an object");
    for (const key of Object.keys(extra)) {
      let json;
      try {
        // `undefined`, functions and symbols have no JSON form; a BigInt makes it throw.
        json = JSON.stringify(extra[key]);
      } catch {}
      if (json === undefined) throw invalid(`extra.${key} must be a JSON value`);
      v.push(key, json);
    }
  }
  return v;
}

// What a call gives, from its last step: [2, kind, ...] (crates/clipcloud-js/src/lib.rs).
function output(step) {
  const [, kind, id, cost, censored, ...images] = step;
  const styles = [];
  // Styles: name, description, width, height each (through JSON: the ones not given left out).
  for (let i = 2; kind == 5 && i < step.length; i += 4) {
    const [name, description, width, height] = step.slice(i);
    styles.push(JSON.parse(JSON.stringify({ name, description, width, height })));
  }
  return kind == 5
    ? styles
    : kind == 1
      ? { state: "in_progress", creationId: id }
      : kind == 2 || kind == 3
        ? { creationId: id, images, cost, censored, ...(kind == 2 && { state: "done" }) }
        : id; // created: the id; balance
}

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
    // The wasm's events (crates/clipcloud-js): 0 start, 1 answer, 2 failed, 3 woke, 4 stop, 5 end.
    const wasm = (event, number, text, body) => core.next(run, event, number, text, body, Date.now());
    const stop = (timedOut) => {
      if (!over) {
        end();
        reject(wasm(4, timedOut));
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
    const follow = (step) => {
      const [kind, a, b, c, d, e, f] = step;
      // The steps the wasm asks for (crates/clipcloud-js/src/lib.rs): 0 send, 1 sleep,
      // 2 done, 3 failed.
      if (kind === 0) {
        const controller = (request = new AbortController());
        let timedOut = false;
        timer = setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, d);
        // A body (a create) is JSON; `e`: a held check's `Prefer`, sent only where the wasm
        // knows holds are offered (not a CORS-safelisted header); `f`: the key, to a gateway.
        const headers = {};
        if (c !== undefined) headers["Content-Type"] = "application/json";
        if (e) headers.Prefer = e;
        if (f) headers.Authorization = f;
        send(b, { method: a, body: c, headers, signal: controller.signal })
          .then((r) => r.text().then((body) => [r.status, r.headers.get("retry-after") ?? undefined, body]))
          .then(
            ([status, retryAfter, body]) => {
              clearTimeout(timer);
              next(() => wasm(1, status, retryAfter, body));
            },
            (e) => {
              clearTimeout(timer);
              next(() => wasm(2, timedOut, String(e?.message ?? e)));
            },
          );
      } else if (kind === 1) {
        if (b !== undefined && onProgress) {
          try {
            onProgress({ state: e ? "retrying" : "in_progress", creationId: b, elapsedMs: c, checks: d, ...(e && { error: e }) });
          } catch {
            // A throwing callback must not stop the polling.
          }
        }
        timer = setTimeout(() => next(() => wasm(3)), a);
      } else {
        end();
        kind === 2 ? resolve(output(step)) : reject(step);
      }
    };
    if (signal?.aborted) return aborted();
    signal?.addEventListener("abort", aborted);
    // setTimeout holds at most 2^31 - 1 ms (24.8 days); longer would fire at once.
    if (timeoutMs !== undefined && timeoutMs !== null) limit = setTimeout(() => stop(true), Math.min(timeoutMs, 2 ** 31 - 1));
    next(() => wasm(0));
  });
}
