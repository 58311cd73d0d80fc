//! The core's types ⇄ plain JS values. `index.js` checks the types of what a caller gives
//! (only JavaScript can) and hands the values over in arrays, by position; the core
//! checks the values themselves. camelCase in JS; the core knows the wire names.

use clipcloud::{AdvancedRequest, CreateRequest, StyleRequest};
use core::time::Duration;
use js_sys::Array;

/// Item `i`, when it is a string.
pub fn string(values: &Array, i: u32) -> Option<String> {
    values.get(i).as_string()
}

/// Item `i`, when it is a number (a whole one ≥ 0 within JS's safe integers: index.js
/// checked it).
pub fn number(values: &Array, i: u32) -> Option<u64> {
    values.get(i).as_f64().map(|n| n as u64)
}

/// Larger than `u32` reads as `u32::MAX`, which the core's range checks then refuse
/// with the allowed range in the message.
fn number32(values: &Array, i: u32) -> Option<u32> {
    number(values, i).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// The longest `setTimeout` holds (2^31 − 1 ms, about 24.8 days): a longer one fires at
/// once. Longer limits are clamped to it (index.js does the same for a call's `timeoutMs`).
const MAX_TIMER_MS: u64 = 2_147_483_647;

pub fn millis(values: &Array, i: u32) -> Option<Duration> {
    number(values, i).map(|ms| Duration::from_millis(ms.min(MAX_TIMER_MS)))
}

/// A duration for `setTimeout`, which cannot hold more than [`MAX_TIMER_MS`].
pub fn timer_millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis().min(u128::from(MAX_TIMER_MS))).unwrap_or(0)
}

/// `[prompt, negativePrompt, count, softId, style, model, width, height, quality, steps,
/// seed, ...extra]` (index.js's `input`; `extra`: key and JSON text pairs) → by style when
/// `style` is there, else advanced.
pub fn create_request(v: &Array) -> CreateRequest {
    let prompt = string(v, 0).unwrap_or_default();
    let negative_prompt = string(v, 1);
    let count = number32(v, 2);
    let soft_id = number(v, 3);
    if let Some(style_name) = string(v, 4) {
        return StyleRequest { prompt, style_name, negative_prompt, count, soft_id }.into();
    }
    let mut r = AdvancedRequest::new(prompt);
    r.negative_prompt = negative_prompt;
    r.count = count;
    r.soft_id = soft_id;
    r.model = string(v, 5);
    r.width = number32(v, 6);
    r.height = number32(v, 7);
    r.quality = number32(v, 8);
    r.steps = number32(v, 9);
    r.seed = number(v, 10);
    let mut i = 11;
    while let (Some(key), Some(json)) = (string(v, i), string(v, i + 1)) {
        r.extra.insert(key, json);
        i += 2;
    }
    r.into()
}
