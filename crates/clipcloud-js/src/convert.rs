//! The current call's arguments (set by `web/npm/wasm.js`) ⇄ the core's types. `index.js`
//! checks the types of what a caller gives (only JavaScript can) and hands the values over
//! in arrays, by position; the core checks the values themselves. camelCase in JS; the
//! core knows the wire names.

use crate::host;
use clipcloud::{AdvancedRequest, CreateRequest, StyleRequest};
use core::time::Duration;

/// Argument `i`, when it is a string.
pub fn string(i: u32) -> Option<String> {
    host::take(host::clipcloud_arg_string(i))
}

/// Argument `i`, when it is given: a number (a whole one ≥ 0 within JS's safe integers:
/// index.js checked it), or a boolean as 0 or 1.
fn given(i: u32) -> Option<f64> {
    Some(host::clipcloud_arg_number(i)).filter(|n| !n.is_nan())
}

/// Argument `i` as a whole number, when it is given.
pub fn number(i: u32) -> Option<u64> {
    given(i).map(|n| n as u64)
}

/// Argument `i`, when it is `true` or `false`.
pub fn boolean(i: u32) -> Option<bool> {
    given(i).map(|n| n != 0.0)
}

/// Larger than `u32` reads as `u32::MAX`, which the core's range checks then refuse
/// with the allowed range in the message.
fn number32(i: u32) -> Option<u32> {
    number(i).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// The longest `setTimeout` holds (2^31 − 1 ms, about 24.8 days): a longer one fires at
/// once. Longer limits are clamped to it (index.js does the same for a call's `timeoutMs`).
const MAX_TIMER_MS: u64 = 2_147_483_647;

pub fn millis(i: u32) -> Option<Duration> {
    number(i).map(|ms| Duration::from_millis(ms.min(MAX_TIMER_MS)))
}

/// A duration for `setTimeout`, which cannot hold more than [`MAX_TIMER_MS`].
pub fn timer_millis(d: Duration) -> u32 {
    millis32(d).min(MAX_TIMER_MS as u32)
}

/// `d.as_millis()`, or `u32::MAX` when it is more (49.7 days: past any timer). Without
/// `u128` arithmetic, which the wasm would carry for this alone.
pub fn millis32(d: Duration) -> u32 {
    match d.as_secs() {
        secs @ 0..=4_294_967 => {
            u32::try_from(secs * 1_000 + u64::from(d.subsec_millis())).unwrap_or(u32::MAX)
        }
        _ => u32::MAX,
    }
}

/// `[prompt, negativePrompt, count, softId, style, model, width, height, quality, steps,
/// seed, ...extra]` (index.js's `input`; `extra`: key and JSON text pairs) → by style when
/// `style` is there, else advanced.
pub fn create_request() -> CreateRequest {
    let prompt = string(0).unwrap_or_default();
    let negative_prompt = string(1);
    let count = number32(2);
    let soft_id = number(3);
    if let Some(style_name) = string(4) {
        return StyleRequest { prompt, style_name, negative_prompt, count, soft_id }.into();
    }
    let mut r = AdvancedRequest::new(prompt);
    r.negative_prompt = negative_prompt;
    r.count = count;
    r.soft_id = soft_id;
    r.model = string(5);
    r.width = number32(6);
    r.height = number32(7);
    r.quality = number32(8);
    r.steps = number32(9);
    r.seed = number(10);
    let mut i = 11;
    while let (Some(key), Some(json)) = (string(i), string(i + 1)) {
        r.extra.insert(key, json);
        i += 2;
    }
    r.into()
}
