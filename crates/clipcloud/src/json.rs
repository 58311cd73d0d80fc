//! JSON through a few functions: parse text into a [`Value`], read it with accessors, and
//! write objects and arrays in the order their members are given.
//!
//! Natively it is serde_json; in the browser (wasm32) a [`Value`] is a plain JS value and
//! the browser's own `JSON` does the parsing and writing, which keeps a JSON parser, a float
//! formatter, serde's (de)serializers and their `core::fmt` error messages out of the
//! shipped wasm. The codec is written once over these functions, and so is what the app
//! keeps on the device; the native tests pin the behaviour of both builds.
//!
//! In the browser the JS values are wasm-bindgen's `JsValue`s with the `bindgen` feature
//! (the app). Without it (the npm package, whose wasm holds no wasm-bindgen) the page keeps
//! them in a table and the wasm holds their numbers: the host backend below, whose imports
//! the package's `web/npm/wasm.js` provides. The same browser functions do the work in both.
//!
//! ```
//! use clipcloud::json::{self, ArrayWriter, ObjectWriter};
//!
//! let v = json::parse(r#"{"name": "HD-HQ", "width": 1280, "tags": ["a", "b"], "x": null}"#)?;
//! assert_eq!(json::field(&v, "name", json::string).as_deref(), Some("HD-HQ"));
//! assert_eq!(json::field(&v, "width", json::whole), Some(1280));
//! let tags = json::get(&v, "tags").and_then(|t| json::items(&t, json::string));
//! assert_eq!(tags, Some(vec!["a".to_owned(), "b".to_owned()]));
//! assert!(json::get(&v, "x").is_none(), "null reads as absent");
//! assert!(json::parse("{nope").is_err());
//!
//! let mut size = ArrayWriter::default();
//! size.number(768.0);
//! size.number(512.0);
//! let mut o = ObjectWriter::default();
//! o.string("prompt", "a \"red\" apple");
//! o.integer("count", 2);
//! o.value("size", &size.into_value());
//! o.boolean("pinned", true);
//! assert_eq!(o.finish(), r#"{"prompt":"a \"red\" apple","count":2,"size":[768,512],"pinned":true}"#);
//! # Ok::<(), json::SyntaxError>(())
//! ```

/// A parsed JSON value, or one built by a writer: `serde_json::Value` natively, a plain JS
/// value (`wasm_bindgen::JsValue`) in the browser. Read it only through this module.
#[cfg(not(target_arch = "wasm32"))]
pub type Value = serde_json::Value;
/// A parsed JSON value, or one built by a writer: `serde_json::Value` natively, a plain JS
/// value (`wasm_bindgen::JsValue`) in the browser. Read it only through this module.
#[cfg(all(target_arch = "wasm32", feature = "bindgen"))]
pub type Value = wasm_bindgen::JsValue;
/// A parsed JSON value, or one built by a writer: `serde_json::Value` natively, a plain JS
/// value (`wasm_bindgen::JsValue`) in the browser; here (wasm32 without `bindgen`) one the
/// host keeps. Read it only through this module.
#[cfg(all(target_arch = "wasm32", not(feature = "bindgen")))]
pub use imp::Value;

/// Why a text is not JSON ([`parse`]).
#[derive(Debug)]
pub struct SyntaxError(
    #[cfg(not(target_arch = "wasm32"))] serde_json::Error,
    #[cfg(target_arch = "wasm32")] Value,
);

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::{SyntaxError, Value};

    /// The value written in `text`.
    pub fn parse(text: &str) -> Result<Value, SyntaxError> {
        serde_json::from_str(text).map_err(SyntaxError)
    }

    impl SyntaxError {
        /// The parser's explanation, for people (it differs between builds and browsers).
        pub fn message(&self) -> String {
            self.0.to_string()
        }
    }

    /// The value as compact JSON text.
    pub fn stringify(v: &Value) -> String {
        v.to_string()
    }

    /// A field of an object; `None` when absent, `null`, or `v` is not an object.
    pub fn get(v: &Value, key: &str) -> Option<Value> {
        v.as_object()?.get(key).filter(|f| !f.is_null()).cloned()
    }

    pub fn string(v: &Value) -> Option<String> {
        v.as_str().map(str::to_owned)
    }

    pub fn number(v: &Value) -> Option<f64> {
        v.as_f64()
    }

    pub fn boolean(v: &Value) -> Option<bool> {
        v.as_bool()
    }

    /// Every item of an array, each read by `read`; `None` when `v` is not an array or
    /// `read` refuses an item.
    pub fn items<T>(v: &Value, read: impl FnMut(&Value) -> Option<T>) -> Option<Vec<T>> {
        v.as_array()?.iter().map(read).collect()
    }

    pub fn is_array(v: &Value) -> bool {
        v.is_array()
    }

    /// An object, not an array.
    pub fn is_object(v: &Value) -> bool {
        v.is_object()
    }

    /// A decimal number in text (surrounding spaces allowed).
    pub fn parse_number(text: &str) -> Option<f64> {
        text.trim().parse().ok()
    }

    /// Text as a JSON (and JavaScript) string literal, quotes included.
    pub fn quote(text: &str) -> String {
        serde_json::to_string(text).unwrap_or_default()
    }

    /// A number as JSON writes it: whole numbers without a fraction (`512`, as the
    /// browser writes them), anything not finite as `null`.
    fn number_text(n: f64) -> String {
        if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
            (n as i64).to_string()
        } else {
            serde_json::to_string(&n).unwrap_or_default()
        }
    }

    /// Writes `{"key":value,...}`, the members in the order they are given.
    #[derive(Debug, Default)]
    pub struct ObjectWriter(String);

    impl ObjectWriter {
        fn key(&mut self, key: &str) {
            self.0.push(if self.0.is_empty() { '{' } else { ',' });
            self.0.push_str(&quote(key));
            self.0.push(':');
        }

        pub fn string(&mut self, key: &str, value: &str) {
            self.key(key);
            self.0.push_str(&quote(value));
        }

        /// A count, a size, an id: exact below 2^53 in the browser, where numbers are `f64`.
        pub fn integer(&mut self, key: &str, value: u64) {
            self.key(key);
            self.0.push_str(&value.to_string());
        }

        pub fn number(&mut self, key: &str, value: f64) {
            self.key(key);
            self.0.push_str(&number_text(value));
        }

        pub fn boolean(&mut self, key: &str, value: bool) {
            self.key(key);
            self.0.push_str(if value { "true" } else { "false" });
        }

        /// Any value, e.g. an object or array another writer made ([`ObjectWriter::into_value`]).
        pub fn value(&mut self, key: &str, value: &Value) {
            self.key(key);
            self.0.push_str(&value.to_string());
        }

        /// `json`: a JSON value's text (validated before); written in its compact form,
        /// or left out if it is not JSON after all.
        pub fn json(&mut self, key: &str, json: &str) {
            if let Ok(value) = parse(json) {
                self.value(key, &value);
            }
        }

        /// The object as JSON text.
        pub fn finish(mut self) -> String {
            if self.0.is_empty() {
                self.0.push('{');
            }
            self.0.push('}');
            self.0
        }

        /// The object as a value, to put in another object or array.
        pub fn into_value(self) -> Value {
            parse(&self.finish()).unwrap_or_default()
        }
    }

    /// Writes `[value,...]`, the items in the order they are given.
    #[derive(Debug, Default)]
    pub struct ArrayWriter(String);

    impl ArrayWriter {
        fn next(&mut self) {
            self.0.push(if self.0.is_empty() { '[' } else { ',' });
        }

        pub fn string(&mut self, value: &str) {
            self.next();
            self.0.push_str(&quote(value));
        }

        pub fn number(&mut self, value: f64) {
            self.next();
            self.0.push_str(&number_text(value));
        }

        /// Any value, e.g. an object another writer made.
        pub fn value(&mut self, value: &Value) {
            self.next();
            self.0.push_str(&value.to_string());
        }

        /// The array as JSON text.
        pub fn finish(mut self) -> String {
            if self.0.is_empty() {
                self.0.push('[');
            }
            self.0.push(']');
            self.0
        }

        /// The array as a value, to put in an object or another array.
        pub fn into_value(self) -> Value {
            parse(&self.finish()).unwrap_or_default()
        }
    }
}

#[cfg(all(target_arch = "wasm32", feature = "bindgen"))]
mod imp {
    use super::{SyntaxError, Value};
    use js_sys::{Array, Object, Reflect, JSON};
    use wasm_bindgen::JsCast;

    /// The value written in `text`.
    pub fn parse(text: &str) -> Result<Value, SyntaxError> {
        JSON::parse(text).map_err(SyntaxError)
    }

    impl SyntaxError {
        /// The parser's explanation, for people (it differs between builds and browsers).
        pub fn message(&self) -> String {
            self.0.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default()
        }
    }

    /// The value as compact JSON text.
    pub fn stringify(v: &Value) -> String {
        JSON::stringify(v).ok().and_then(|s| s.as_string()).unwrap_or_default()
    }

    /// Text as a JSON (and JavaScript) string literal, quotes included.
    pub fn quote(text: &str) -> String {
        stringify(&Value::from_str(text))
    }

    /// A field of an object; `None` when absent, `null`, or `v` is not an object.
    /// Arrays are not objects here, as in JSON.
    pub fn get(v: &Value, key: &str) -> Option<Value> {
        // Callers ask for field names of their own, none of which an object inherits.
        if !is_object(v) {
            return None;
        }
        Reflect::get(v, &Value::from_str(key)).ok().filter(|f| !f.is_null() && !f.is_undefined())
    }

    pub fn string(v: &Value) -> Option<String> {
        v.as_string()
    }

    pub fn number(v: &Value) -> Option<f64> {
        v.as_f64()
    }

    pub fn boolean(v: &Value) -> Option<bool> {
        v.as_bool()
    }

    /// Every item of an array, each read by `read`; `None` when `v` is not an array or
    /// `read` refuses an item. Items are read in place: no copy of the array.
    pub fn items<T>(v: &Value, mut read: impl FnMut(&Value) -> Option<T>) -> Option<Vec<T>> {
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

    pub fn is_array(v: &Value) -> bool {
        Array::is_array(v)
    }

    /// An object, not an array.
    pub fn is_object(v: &Value) -> bool {
        v.is_object() && !Array::is_array(v)
    }

    /// A decimal number in text (surrounding spaces allowed). The browser's unary `+`
    /// does the work; it reads "" as 0, which is not a number here.
    pub fn parse_number(text: &str) -> Option<f64> {
        if text.trim().is_empty() {
            return None;
        }
        let n = Value::from_str(text).unchecked_into_f64();
        (!n.is_nan()).then_some(n)
    }

    /// Builds a JS object, the members in the order they are given; `JSON.stringify`
    /// writes it.
    #[derive(Debug)]
    pub struct ObjectWriter(Object);

    impl Default for ObjectWriter {
        fn default() -> Self {
            Self(Object::new())
        }
    }

    impl ObjectWriter {
        fn set(&mut self, key: &str, value: &Value) {
            let _ = Reflect::set(&self.0, &Value::from_str(key), value);
        }

        pub fn string(&mut self, key: &str, value: &str) {
            self.set(key, &Value::from_str(value));
        }

        /// A count, a size, an id: exact below 2^53 in the browser, where numbers are `f64`.
        pub fn integer(&mut self, key: &str, value: u64) {
            self.set(key, &Value::from_f64(value as f64));
        }

        pub fn number(&mut self, key: &str, value: f64) {
            self.set(key, &Value::from_f64(value));
        }

        pub fn boolean(&mut self, key: &str, value: bool) {
            self.set(key, &Value::from_bool(value));
        }

        /// Any value, e.g. an object or array another writer made ([`ObjectWriter::into_value`]).
        pub fn value(&mut self, key: &str, value: &Value) {
            self.set(key, value);
        }

        /// `json`: a JSON value's text (validated before); left out if it is not JSON
        /// after all.
        pub fn json(&mut self, key: &str, json: &str) {
            if let Ok(value) = parse(json) {
                self.set(key, &value);
            }
        }

        /// The object as JSON text.
        pub fn finish(self) -> String {
            JSON::stringify(&self.0).ok().and_then(|s| s.as_string()).unwrap_or_else(|| "{}".into())
        }

        /// The object as a value, to put in another object or array.
        pub fn into_value(self) -> Value {
            self.0.into()
        }
    }

    /// Builds a JS array, the items in the order they are given; `JSON.stringify` writes it.
    #[derive(Debug)]
    pub struct ArrayWriter(Array);

    impl Default for ArrayWriter {
        fn default() -> Self {
            Self(Array::new())
        }
    }

    impl ArrayWriter {
        pub fn string(&mut self, value: &str) {
            self.0.push(&Value::from_str(value));
        }

        pub fn number(&mut self, value: f64) {
            self.0.push(&Value::from_f64(value));
        }

        /// Any value, e.g. an object another writer made.
        pub fn value(&mut self, value: &Value) {
            self.0.push(value);
        }

        /// The array as JSON text.
        pub fn finish(self) -> String {
            stringify(&self.0)
        }

        /// The array as a value, to put in an object or another array.
        pub fn into_value(self) -> Value {
            self.0.into()
        }
    }
}

#[cfg(all(target_arch = "wasm32", not(feature = "bindgen")))]
mod host;
#[cfg(all(target_arch = "wasm32", not(feature = "bindgen")))]
use host as imp;

pub use imp::*;

/// A field of an object, read by `read`; `None` when absent, `null`, of the wrong type
/// (`read` refuses it), or `v` is not an object.
pub fn field<T>(v: &Value, key: &str, read: impl FnOnce(&Value) -> Option<T>) -> Option<T> {
    get(v, key).as_ref().and_then(read)
}

/// The items of the JSON array `text` that `read` reads, in order: text that is not JSON
/// (or not an array) gives none, and an item `read` refuses is left out, not the rest. For
/// lists an app keeps, where one damaged entry must not lose the others.
pub fn readable_items<T>(text: &str, mut read: impl FnMut(&Value) -> Option<T>) -> Vec<T> {
    let mut out = Vec::new();
    if let Ok(list) = parse(text) {
        items(&list, |item| {
            out.extend(read(item));
            Some(())
        });
    }
    out
}

/// A whole number that fits a `u32`: a count, a size.
pub fn whole(v: &Value) -> Option<u32> {
    let n = number(v)?;
    (n >= 0.0 && n <= f64::from(u32::MAX) && n == f64::from(n as u32)).then_some(n as u32)
}

/// A whole number that fits a `u64`: a seed, an id (exact below 2^53, as the browser
/// keeps numbers).
pub fn whole_u64(v: &Value) -> Option<u64> {
    let n = number(v)?;
    ((0.0..18_446_744_073_709_551_616.0).contains(&n) && n.fract() == 0.0).then_some(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads() {
        let v = parse(
            r#"{"a": "x", "n": 3, "f": 1.5, "neg": -1, "big": 1e20, "b": true, "z": null, "l": [1, 2]}"#,
        )
        .unwrap();
        let field = |key| get(&v, key);
        assert_eq!(super::field(&v, "a", string).as_deref(), Some("x"));
        assert_eq!(super::field(&v, "n", string), None);
        assert_eq!(field("n").as_ref().and_then(whole), Some(3));
        for key in ["f", "neg", "big", "a"] {
            assert_eq!(field(key).as_ref().and_then(whole), None, "{key}");
        }
        assert_eq!(field("n").as_ref().and_then(whole_u64), Some(3));
        for key in ["f", "neg", "big", "a"] {
            assert_eq!(field(key).as_ref().and_then(whole_u64), None, "{key}");
        }
        let seed = parse("4294967296").unwrap();
        assert_eq!((whole(&seed), whole_u64(&seed)), (None, Some(1 << 32)));
        assert_eq!(field("f").as_ref().and_then(number), Some(1.5));
        assert_eq!(field("b").as_ref().and_then(boolean), Some(true));
        assert!(field("z").is_none() && field("missing").is_none());
        let list = field("l").unwrap();
        assert_eq!(items(&list, whole), Some(vec![1, 2]));
        assert_eq!(items(&list, string), None, "an item refused");
        assert!(is_array(&list) && !is_object(&list) && is_object(&v) && !is_array(&v));
        assert!(get(&list, "0").is_none(), "an array is not an object");
        assert_eq!(items(&v, whole), None, "an object is not an array");
        assert!(!parse("{nope").unwrap_err().message().is_empty());
        assert_eq!(parse_number(" 12.5 "), Some(12.5));
        assert_eq!(parse_number("lots"), None);
    }

    #[test]
    fn readable_items_skip_what_does_not_read() {
        assert_eq!(readable_items(r#"[1, "x", 2.5, 3]"#, whole), [1, 3]);
        assert_eq!(readable_items("{nope", whole), Vec::<u32>::new());
        assert_eq!(readable_items(r#"{"a": 1}"#, whole), Vec::<u32>::new());
    }

    #[test]
    fn writes_in_order_and_reads_back() {
        let mut inner = ArrayWriter::default();
        inner.string("a \"quoted\"\nword");
        inner.number(2.25);
        inner.number(1_764_000_000_123.0);
        let mut o = ObjectWriter::default();
        o.string("s", "✓");
        o.integer("n", 512);
        o.number("whole", 512.0);
        o.number("nan", f64::NAN);
        o.boolean("no", false);
        o.value("l", &inner.into_value());
        o.json("j", r#"{"x": [1, null]}"#);
        o.json("bad", "not json");
        let text = o.finish();
        assert_eq!(
            text,
            r#"{"s":"✓","n":512,"whole":512,"nan":null,"no":false,"l":["a \"quoted\"\nword",2.25,1764000000123],"j":{"x":[1,null]}}"#
        );
        let back = parse(&text).unwrap();
        assert_eq!(get(&back, "l").and_then(|l| items(&l, number)), None, "a text among numbers");
        assert_eq!(stringify(&get(&back, "j").unwrap()), r#"{"x":[1,null]}"#);
        assert_eq!(quote("line\nbreak \"q\""), r#""line\nbreak \"q\"""#);
        assert_eq!(ObjectWriter::default().finish(), "{}");
        assert_eq!(ArrayWriter::default().finish(), "[]");
        assert_eq!(stringify(&ArrayWriter::default().into_value()), "[]");
        let mut nested = ArrayWriter::default();
        nested.value(&ObjectWriter::default().into_value());
        assert_eq!(nested.finish(), "[{}]");
    }
}
