// Types of the `clipcloud` package (every build: browsers, Node.js, workerd). Hand-written
// to match crates/clipcloud-js exactly; tests/npm-package checks them with `tsc --noEmit`
// on examples that make every call (moduleResolution bundler and node16).

/** The styles the ClipCloud docs list, in the docs' order. `styles()` returns the live list. */
export type KnownStyle =
  | "standard"
  | "smallHQ"
  | "HD-HQ"
  | "FullHD-HQ-h"
  | "FullHD-HQ-v"
  | "graffiti"
  | "illustration"
  | "oldphoto"
  | "aquarelle"
  | "pixel-art"
  | "pop-art"
  | "tilt-shift"
  | "HQ-768-512-h"
  | "HQ-832-448-h"
  | "HQ-832-640-h"
  | "HQ-1024-640-h"
  | "HQ-1200-640-h"
  | "HQ-1280-720-h"
  | "HQ-512-768-v"
  | "HQ-640-1024-v";

/** A known style (with completion), or any other name the live styles list has. */
export type StyleName = KnownStyle | (string & {});

/** Stable error codes: `ClipCloudError.code`. */
export type ErrorCode =
  /** Refused before sending (a broken rule), or the API answered 400/415. */
  | "invalid_input"
  /** 401: missing or unknown API key; 403: a gateway refused this page's origin or token. */
  | "unauthorized"
  /** 402: the balance is too low for this creation (or a gateway's spending limit is reached). */
  | "insufficient_balance"
  /** 404: unknown creation id (or another key's). */
  | "not_found"
  /** 429: too many requests. */
  | "rate_limited"
  /** 5xx: trouble on the service's side. */
  | "server"
  /** Any other refusal by the API (another status, or 200 with `success: false`). */
  | "rejected"
  /** The request did not complete: offline, DNS, CORS, connection reset. */
  | "network"
  /** No answer within the time allowed (`timeoutMs`). */
  | "timeout"
  /** The call's `signal` was aborted. */
  | "aborted"
  /** The answer was not the JSON the API sends. */
  | "bad_response"
  /** A bug in this package, not the caller's doing nor the service's: please report it. */
  | "internal";

/** A client with a key (the usual case), or without one for a gateway that adds its own. */
export type ClipCloudOptions = KeyOptions | GatewayOptions;

export interface KeyOptions extends CommonOptions {
  /**
   * Your ClipCloud API key. It never appears in an error. For a ClipCloud gateway that asks
   * for a passphrase or a visitor token in the key's place, pass that here.
   */
  apiKey: string;
  /** Default `https://clipcloud.clipai.pro`; point it at a gateway, a proxy or the emulator. */
  baseUrl?: string;
}

/**
 * No key: for a ClipCloud gateway in operator-key mode (its `/gateway/info` says
 * `"apikey": "none"`), which adds its own key. The requests carry no `apikey` at all.
 */
export interface GatewayOptions extends CommonOptions {
  apiKey?: undefined;
  /** The gateway's URL (required: the ClipCloud service itself always needs a key). */
  baseUrl: string;
}

interface CommonOptions {
  /** Developer affiliate id, added to every create that sets none. */
  softId?: number;
  /** Limit for each HTTP request, in milliseconds (default 30000; at most 2^31 − 1, more counts as that). */
  timeoutMs?: number;
  /**
   * Held checks: while `generate` or `wait` waits, each check asks the server (`Prefer: wait=N`)
   * to answer only once the images are ready, at most 30 s; one check instead of polling.
   * `true`: always (a ClipCloud gateway or the emulator); `false`: never. Unset: never for the
   * service itself; for any other `baseUrl`, the first `generate` or `wait` asks its
   * `/gateway/info` once (one request per client) and holds only if a gateway offers them.
   */
  heldChecks?: boolean;
  /**
   * The HTTP function to send with (default: the global `fetch`, looked up at each call):
   * for instrumentation, tests, a custom agent or a proxy.
   */
  fetch?: FetchLike;
}

/** What the client needs of `fetch`: the global one, undici's, or a test double. */
export type FetchLike = (
  url: string,
  init: { method: string; body?: string; headers?: Record<string, string>; signal: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

/** Options every call takes. */
export interface CallOptions {
  /** Aborting it rejects the call at once with code `"aborted"` and cancels its requests and timers. */
  signal?: AbortSignal;
  /**
   * Limit for the whole call, in milliseconds (at most 2^31 − 1, more counts as that); past it
   * the call rejects with code `"timeout"`.
   */
  timeoutMs?: number;
}

/** Options of the calls that wait for images: `generate` and `wait`. */
export interface WaitOptions extends CallOptions {
  /**
   * Called after every check while the images are not ready yet, and by `generate` as soon
   * as its create is accepted (`checks: 0`).
   */
  onProgress?: (progress: Progress) => void;
}

export interface Progress {
  /** `"retrying"` when the last check failed in a way polling rides out (see `error`). */
  state: "in_progress" | "retrying";
  creationId: string;
  /** Since the call began. */
  elapsedMs: number;
  /** Checks made so far (0: `generate`'s create was just accepted). */
  checks: number;
  /** Set when `state` is `"retrying"`. */
  error?: ErrorCode;
}

interface CommonInput {
  /** What to draw; in English, as the docs advise. */
  prompt: string;
  /** What to keep out of the picture. */
  negativePrompt?: string;
  /** Images in this one creation, 1 to 4 (default 1). */
  count?: number;
  /** Developer affiliate id for this create (default: the client's `softId`). */
  softId?: number;
}

/** Create by style, the way the docs recommend: the style sets model, size and steps. */
export type StyleInput = CommonInput &
  ({ style: StyleName; styleName?: undefined } | { styleName: StyleName; style?: undefined });

/** Advanced create, "for rare cases": no style; set the parameters yourself. */
export interface AdvancedInput extends CommonInput {
  style?: undefined;
  styleName?: undefined;
  model?: string;
  /** 256 to 2048, a multiple of 8. */
  width?: number;
  /** 256 to 2048, a multiple of 8. */
  height?: number;
  /** 1 to 100. */
  quality?: number;
  /** 1 to 150. */
  steps?: number;
  seed?: number;
  /**
   * Fields the docs name after this release, sent as given (any JSON value). They may
   * not repeat a field above (`prompt`, `negative_prompt`, `width`, …).
   */
  extra?: Record<string, unknown>;
}

/** With `style` (or `styleName`) a create by style, else an advanced create. */
export type CreateInput = StyleInput | AdvancedInput;

/** A finished creation. */
export interface Finished {
  creationId: string;
  /** One temporary WebP link per delivered image. */
  images: string[];
  /** What the creation cost, in balance units. */
  cost: number;
  /** Images withheld by the content filter (`images` is shorter by this many). */
  censored: number;
}

/** What one `check` says. */
export type CheckResult =
  | { state: "in_progress"; creationId: string }
  | ({ state: "done" } & Finished);

/** One entry of the live styles list; only `name` is certain. */
export interface Style {
  name: StyleName;
  description?: string;
  width?: number;
  height?: number;
}

/** Every failure of a call. `message` reads well and never contains the API key. */
export declare class ClipCloudError extends Error {
  readonly name: "ClipCloudError";
  readonly code: ErrorCode;
  /** The HTTP status, when an answer arrived. */
  readonly status: number | undefined;
  /** True when a create failed in a way that leaves open whether it started (and costs). */
  readonly mayHaveStarted: boolean;
}

export declare class ClipCloud {
  constructor(options: ClipCloudOptions);
  /** Starts a creation and resolves to its id; collect it later with `wait` or `check`. */
  create(input: CreateInput, options?: CallOptions): Promise<string>;
  /** Asks once whether a creation is ready. */
  check(creationId: string, options?: CallOptions): Promise<CheckResult>;
  /** The key's balance. */
  balance(options?: CallOptions): Promise<number>;
  /** The live styles list (also used to check the style of later creates). */
  styles(options?: CallOptions): Promise<Style[]>;
  /** Create, then wait for the images. */
  generate(input: CreateInput, options?: WaitOptions): Promise<Finished>;
  /** Waits for a creation made earlier with `create`. */
  wait(creationId: string, options?: WaitOptions): Promise<Finished>;
}

/** Where the wasm comes from, for `init`. */
export type WasmSource =
  | string
  | URL
  | Request
  | Response
  | ArrayBuffer
  | ArrayBufferView
  | WebAssembly.Module
  | Promise<Response | ArrayBuffer | ArrayBufferView | WebAssembly.Module>;

// Without the DOM library (a Node.js project with @types/node) TypeScript knows no
// `WebAssembly`; an empty interface merges with the DOM's where it is there.
declare global {
  namespace WebAssembly {
    interface Module {}
  }
}

/**
 * Loads the wasm (once; calls do it themselves). Call it early to start loading sooner,
 * or to load the wasm from elsewhere than beside this module.
 */
export declare function init(wasm?: WasmSource): Promise<void>;
