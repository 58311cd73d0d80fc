//! Plain JS objects ⇄ the core's types. camelCase in JS; the core knows the wire names.

use clipcloud::{
    AdvancedRequest, CreateRequest, Error, Extra, Field, Finished, InvalidInput, Progress, Status, Style,
    StyleRequest,
};
use core::time::Duration;
use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

fn invalid(field: Field, message: String) -> Error {
    Error::InvalidInput(InvalidInput { field, message })
}

/// `undefined` and `null` read as "not given".
fn given(obj: &JsValue, key: &str) -> Option<JsValue> {
    let v = get(obj, key);
    (!v.is_undefined() && !v.is_null()).then_some(v)
}

pub fn opt_string(obj: &JsValue, key: &str, field: Field) -> Result<Option<String>, Error> {
    match given(obj, key) {
        None => Ok(None),
        Some(v) => match v.as_string() {
            Some(s) => Ok(Some(s)),
            None => Err(invalid(field, [key, " must be a string"].concat())),
        },
    }
}

/// `true` or `false`, when given.
pub fn opt_bool(obj: &JsValue, key: &str, field: Field) -> Result<Option<bool>, Error> {
    match given(obj, key) {
        None => Ok(None),
        Some(v) => match v.as_bool() {
            Some(b) => Ok(Some(b)),
            None => Err(invalid(field, [key, " must be true or false"].concat())),
        },
    }
}

/// A whole number ≥ 0 (within JS's safe integers).
fn whole(v: &JsValue) -> Option<u64> {
    let n = v.as_f64()?;
    ((0.0..=9_007_199_254_740_991.0).contains(&n) && n == (n as u64) as f64).then_some(n as u64)
}

pub fn opt_u64(obj: &JsValue, key: &str, field: Field, name: &str) -> Result<Option<u64>, Error> {
    match given(obj, key) {
        None => Ok(None),
        Some(v) => match whole(&v) {
            Some(n) => Ok(Some(n)),
            None => Err(invalid(field, [name, " must be a whole number"].concat())),
        },
    }
}

/// Larger than `u32` reads as `u32::MAX`, which the core's range checks then refuse
/// with the allowed range in the message.
fn opt_u32(obj: &JsValue, key: &str, field: Field) -> Result<Option<u32>, Error> {
    Ok(opt_u64(obj, key, field, key)?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
}

/// The longest `setTimeout` holds (2^31 − 1 ms, about 24.8 days): a longer one fires at
/// once. Longer limits are clamped to it (index.js does the same for a call's `timeoutMs`).
const MAX_TIMER_MS: u64 = 2_147_483_647;

pub fn opt_millis(obj: &JsValue, key: &str) -> Result<Option<Duration>, Error> {
    Ok(opt_u64(obj, key, Field::Timeout, key)?.map(|ms| Duration::from_millis(ms.min(MAX_TIMER_MS))))
}

/// A duration for `setTimeout`, which cannot hold more than [`MAX_TIMER_MS`].
pub fn timer_millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis().min(u128::from(MAX_TIMER_MS))).unwrap_or(0)
}

/// `key` (`onProgress`, `fetch`), when given, must be a function.
#[inline(never)] // one copy for both: bytes
pub fn check_function(obj: &JsValue, key: &str, field: Field) -> Result<(), Error> {
    if given(obj, key).is_some_and(|f| !f.is_function()) {
        return Err(invalid(field, [key, " must be a function"].concat()));
    }
    Ok(())
}

/// The per-call options `{ signal?, timeoutMs?, onProgress? }` must have the right types;
/// `index.js` then uses them as given.
pub fn check_call_options(options: &JsValue) -> Result<(), Error> {
    if given(options, "signal").is_some_and(|s| !s.is_instance_of::<AbortSignal>()) {
        return Err(invalid(Field::Signal, "signal must be an AbortSignal".into()));
    }
    check_function(options, "onProgress", Field::OnProgress)?;
    opt_millis(options, "timeoutMs").map(drop)
}

/// Input fields of an advanced create only.
const ADVANCED_ONLY: [&str; 7] = ["model", "width", "height", "quality", "steps", "seed", "extra"];

/// `{ prompt, style | styleName, ... }` → by style; `{ prompt, model?, width?, ... }` → advanced.
pub fn create_request(input: &JsValue) -> Result<CreateRequest, Error> {
    if !input.is_object() {
        return Err(invalid(Field::Input, "the input must be an object with a prompt".into()));
    }
    let prompt = opt_string(input, "prompt", Field::Prompt)?.unwrap_or_default();
    let negative_prompt = opt_string(input, "negativePrompt", Field::NegativePrompt)?;
    let count = opt_u32(input, "count", Field::Count)?;
    let soft_id = opt_u64(input, "softId", Field::SoftId, "softId")?;
    let style = match opt_string(input, "style", Field::Style)? {
        Some(s) => Some(s),
        None => opt_string(input, "styleName", Field::Style)?,
    };
    if let Some(style_name) = style {
        // The style sets these; ignoring them silently would surprise.
        if let Some(key) = ADVANCED_ONLY.into_iter().find(|key| given(input, key).is_some()) {
            return Err(invalid(Field::Style, [key, " is for advanced creates (without a style)"].concat()));
        }
        return Ok(StyleRequest { prompt, style_name, negative_prompt, count, soft_id }.into());
    }
    let mut r = AdvancedRequest::new(prompt);
    r.negative_prompt = negative_prompt;
    r.count = count;
    r.soft_id = soft_id;
    r.model = opt_string(input, "model", Field::Model)?;
    r.width = opt_u32(input, "width", Field::Width)?;
    r.height = opt_u32(input, "height", Field::Height)?;
    r.quality = opt_u32(input, "quality", Field::Quality)?;
    r.steps = opt_u32(input, "steps", Field::Steps)?;
    r.seed = opt_u64(input, "seed", Field::Seed, "seed")?;
    r.extra = extra(input)?;
    Ok(r.into())
}

/// `extra: { key: any JSON value }`, each value written by the browser's `JSON.stringify`.
fn extra(input: &JsValue) -> Result<Extra, Error> {
    let mut extra = Extra::default();
    let Some(fields) = given(input, "extra") else {
        return Ok(extra);
    };
    if !fields.is_object() || Array::is_array(&fields) {
        return Err(invalid(Field::Extra, "extra must be an object".into()));
    }
    for key in Object::keys(fields.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        // `undefined`, functions and symbols have no JSON form; a BigInt makes it throw.
        match JSON::stringify(&get(&fields, &key)).ok().and_then(|json| json.as_string()) {
            Some(json) => extra.insert(key, json),
            None => return Err(invalid(Field::Extra, ["extra.", &key, " must be a JSON value"].concat())),
        }
    }
    Ok(extra)
}

fn strings(items: &[String]) -> JsValue {
    items.iter().map(|s| JsValue::from_str(s)).collect::<Array>().into()
}

pub fn finished(f: &Finished) -> JsValue {
    let o = Object::new();
    set(&o, "creationId", &JsValue::from_str(&f.creation_id));
    set(&o, "images", &strings(&f.images));
    set(&o, "cost", &JsValue::from_f64(f.cost));
    set(&o, "censored", &JsValue::from(f.censored));
    o.into()
}

pub fn status(s: &Status, id: &str) -> JsValue {
    match s {
        Status::Done(f) => {
            let o = finished(f);
            let _ = Reflect::set(&o, &JsValue::from_str("state"), &JsValue::from_str("done"));
            o
        }
        Status::InProgress => {
            let o = Object::new();
            set(&o, "state", &JsValue::from_str("in_progress"));
            set(&o, "creationId", &JsValue::from_str(id));
            o.into()
        }
    }
}

pub fn style(s: &Style) -> JsValue {
    let o = Object::new();
    set(&o, "name", &JsValue::from_str(&s.name));
    if let Some(d) = &s.description {
        set(&o, "description", &JsValue::from_str(d));
    }
    if let Some(w) = s.width {
        set(&o, "width", &JsValue::from(w));
    }
    if let Some(h) = s.height {
        set(&o, "height", &JsValue::from(h));
    }
    o.into()
}

pub fn progress(p: &Progress<'_>) -> JsValue {
    let o = Object::new();
    let state = if p.transient_error.is_some() { "retrying" } else { "in_progress" };
    set(&o, "state", &JsValue::from_str(state));
    set(&o, "creationId", &JsValue::from_str(p.creation_id));
    set(&o, "elapsedMs", &JsValue::from(u32::try_from(p.elapsed.as_millis()).unwrap_or(u32::MAX)));
    set(&o, "checks", &JsValue::from(p.checks));
    if let Some(code) = p.transient_error {
        set(&o, "error", &JsValue::from_str(code.as_str()));
    }
    o.into()
}
