//! JSON text ⇄ values. In the browser the browser's own `JSON` does the text part
//! (serde-wasm-bindgen maps to and from JS values), which keeps a JSON parser and
//! float formatter out of the shipped wasm; natively serde_json does it all.

use serde::{de::DeserializeOwned, Serialize};

/// The text is not JSON, or not of the expected shape.
#[derive(Debug)]
pub(crate) struct NotJson;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn parse<T: DeserializeOwned>(text: &str) -> Result<T, NotJson> {
    serde_json::from_str(text).map_err(|_| NotJson)
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn to_string<T: Serialize>(value: &T) -> String {
    // Our request types serialize infallibly (string keys, no custom serializers).
    serde_json::to_string(value).unwrap_or_else(|_| String::from("{}"))
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn parse<T: DeserializeOwned>(text: &str) -> Result<T, NotJson> {
    let value = js_sys::JSON::parse(text).map_err(|_| NotJson)?;
    serde_wasm_bindgen::from_value(value).map_err(|_| NotJson)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn to_string<T: Serialize>(value: &T) -> String {
    // JSON-compatible: maps (the pass-through fields) become plain objects, not `Map`s.
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value
        .serialize(&serializer)
        .ok()
        .and_then(|v| js_sys::JSON::stringify(&v).ok())
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| String::from("{}"))
}
