//! The JSON seam of the codec: a parsed value, read through a few accessors, and an
//! object writer for request bodies. Natively it is serde_json; in the browser it is
//! the browser's own `JSON` over plain JS values, which keeps a JSON parser, a float
//! formatter, serde's deserializers and their `core::fmt` error messages out of the
//! shipped wasm. The codec is written once over these functions, so the native tests
//! pin the behaviour of both.

/// A parsed JSON value.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type Value = serde_json::Value;
#[cfg(target_arch = "wasm32")]
pub(crate) type Value = wasm_bindgen::JsValue;

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::Value;

    pub(crate) fn parse(text: &str) -> Option<Value> {
        serde_json::from_str(text).ok()
    }

    /// A field of an object; `None` when absent, `null`, or `v` is not an object.
    pub(crate) fn get(v: &Value, key: &str) -> Option<Value> {
        v.as_object()?.get(key).filter(|f| !f.is_null()).cloned()
    }

    pub(crate) fn string(v: &Value) -> Option<String> {
        v.as_str().map(str::to_owned)
    }

    pub(crate) fn number(v: &Value) -> Option<f64> {
        v.as_f64()
    }

    pub(crate) fn boolean(v: &Value) -> Option<bool> {
        v.as_bool()
    }

    /// Every item of an array, each read by `read`; `None` when `v` is not an array or
    /// `read` refuses an item.
    pub(crate) fn items<T>(v: &Value, read: impl FnMut(&Value) -> Option<T>) -> Option<Vec<T>> {
        v.as_array()?.iter().map(read).collect()
    }

    pub(crate) fn is_array(v: &Value) -> bool {
        v.is_array()
    }

    pub(crate) fn is_object(v: &Value) -> bool {
        v.is_object()
    }

    /// A decimal number in text (surrounding spaces allowed).
    pub(crate) fn parse_number(text: &str) -> Option<f64> {
        text.trim().parse().ok()
    }

    /// Writes `{"key":value,...}` in the order the fields are given.
    #[derive(Default)]
    pub(crate) struct ObjectWriter(String);

    impl ObjectWriter {
        fn key(&mut self, key: &str) {
            self.0.push(if self.0.is_empty() { '{' } else { ',' });
            self.0.push_str(&serde_json::to_string(key).unwrap_or_default());
            self.0.push(':');
        }

        pub(crate) fn string(&mut self, key: &str, value: &str) {
            self.key(key);
            self.0.push_str(&serde_json::to_string(value).unwrap_or_default());
        }

        pub(crate) fn integer(&mut self, key: &str, value: u64) {
            self.key(key);
            self.0.push_str(&value.to_string());
        }

        /// `json`: a JSON value's text (validated before); written in its compact form,
        /// or left out if it is not JSON after all.
        pub(crate) fn json(&mut self, key: &str, json: &str) {
            if let Some(value) = parse(json) {
                self.key(key);
                self.0.push_str(&value.to_string());
            }
        }

        pub(crate) fn finish(mut self) -> String {
            if self.0.is_empty() {
                self.0.push('{');
            }
            self.0.push('}');
            self.0
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::Value;
    use js_sys::{Array, Object, Reflect, JSON};
    use wasm_bindgen::JsCast;

    pub(crate) fn parse(text: &str) -> Option<Value> {
        JSON::parse(text).ok()
    }

    /// A field of an object; `None` when absent, `null`, or `v` is not an object.
    /// Arrays are not objects here, as in JSON.
    pub(crate) fn get(v: &Value, key: &str) -> Option<Value> {
        // The codec asks only for its own field names, none of which an object inherits.
        if !is_object(v) {
            return None;
        }
        Reflect::get(v, &Value::from_str(key)).ok().filter(|f| !f.is_null() && !f.is_undefined())
    }

    pub(crate) fn string(v: &Value) -> Option<String> {
        v.as_string()
    }

    pub(crate) fn number(v: &Value) -> Option<f64> {
        v.as_f64()
    }

    pub(crate) fn boolean(v: &Value) -> Option<bool> {
        v.as_bool()
    }

    /// Every item of an array, each read by `read`; `None` when `v` is not an array or
    /// `read` refuses an item. Items are read in place: no copy of the array.
    pub(crate) fn items<T>(v: &Value, mut read: impl FnMut(&Value) -> Option<T>) -> Option<Vec<T>> {
        if !is_array(v) {
            return None;
        }
        let array = v.unchecked_ref::<Array>();
        let mut out = Vec::new();
        for i in 0..array.length() {
            out.push(read(&array.get(i))?);
        }
        Some(out)
    }

    pub(crate) fn is_array(v: &Value) -> bool {
        Array::is_array(v)
    }

    pub(crate) fn is_object(v: &Value) -> bool {
        v.is_object() && !Array::is_array(v)
    }

    /// A decimal number in text (surrounding spaces allowed). The browser's unary `+`
    /// does the work; it reads "" as 0, which is not a number here.
    pub(crate) fn parse_number(text: &str) -> Option<f64> {
        if text.trim().is_empty() {
            return None;
        }
        let n = Value::from_str(text).unchecked_into_f64();
        (!n.is_nan()).then_some(n)
    }

    /// Builds a JS object in the order the fields are given; `JSON.stringify` writes it.
    pub(crate) struct ObjectWriter(Object);

    impl Default for ObjectWriter {
        fn default() -> Self {
            Self(Object::new())
        }
    }

    impl ObjectWriter {
        fn set(&mut self, key: &str, value: &Value) {
            let _ = Reflect::set(&self.0, &Value::from_str(key), value);
        }

        pub(crate) fn string(&mut self, key: &str, value: &str) {
            self.set(key, &Value::from_str(value));
        }

        pub(crate) fn integer(&mut self, key: &str, value: u64) {
            // Request integers (counts, sizes, ids) are far below 2^53.
            self.set(key, &Value::from_f64(value as f64));
        }

        /// `json`: a JSON value's text (validated before); left out if it is not JSON
        /// after all.
        pub(crate) fn json(&mut self, key: &str, json: &str) {
            if let Some(value) = parse(json) {
                self.set(key, &value);
            }
        }

        pub(crate) fn finish(self) -> String {
            JSON::stringify(&self.0).ok().and_then(|s| s.as_string()).unwrap_or_else(|| "{}".into())
        }
    }
}

pub(crate) use imp::*;
