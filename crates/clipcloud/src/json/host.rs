//! JSON through the host's own `JSON`, without wasm-bindgen (wasm32 without the `bindgen`
//! feature: the npm package). The host keeps every value the wasm reads or builds in a
//! table and hands out its number; a [`Value`] is that number, and the host forgets the
//! value when it is dropped. Strings go to the host as UTF-8 (address and length in the
//! wasm's memory); a string the wasm asks for is encoded by the host, which gives its length
//! in bytes and then copies it into memory the wasm made room in.
//!
//! The imports are declared below, each with what the host must do; `web/npm/wasm.js`
//! implements them, with the JS the `bindgen` backend calls through wasm-bindgen (so both
//! read and write the same). Only what a build uses is imported.

use super::SyntaxError;

/// A JS value the host keeps: its number in the host's table (0: `undefined`, never kept).
#[derive(Debug, Default)]
pub struct Value(u32);

impl Drop for Value {
    fn drop(&mut self) {
        if self.0 != 0 {
            ffi::clipcloud_json_drop(self.0);
        }
    }
}

impl Clone for Value {
    fn clone(&self) -> Self {
        Self(ffi::clipcloud_json_keep(self.0))
    }
}

/// The host's side. The only unsafe code of the crate: declarations of what the host
/// provides. Numbers of values are `u32`; `i32` results are -1 for "none".
#[allow(unsafe_code)]
mod ffi {
    #[link(wasm_import_module = "clipcloud")]
    unsafe extern "C" {
        /// `JSON.parse` of the text at `at`: the value's number, or minus the number of
        /// what it threw.
        pub safe fn clipcloud_json_parse(at: *const u8, len: usize) -> i32;
        /// Keeps value `v` once more (a copy to drop on its own): the new number.
        pub safe fn clipcloud_json_keep(v: u32) -> u32;
        /// Forgets value `v`.
        pub safe fn clipcloud_json_drop(v: u32);
        /// What value `v` is: 0 a number, 1 a boolean, 2 an object (not an array, not
        /// null), 3 an array; -1 anything else.
        pub safe fn clipcloud_json_kind(v: u32) -> i32;
        /// Value `v` as a number (`+v`); asked only of numbers and booleans.
        pub safe fn clipcloud_json_number(v: u32) -> f64;
        /// When value `v` is a string: encodes it for [`clipcloud_take`] and gives its
        /// length in bytes; else -1.
        pub safe fn clipcloud_json_string(v: u32) -> i32;
        /// `JSON.stringify(v)`, encoded for [`clipcloud_take`]: its length, or -1 when it
        /// throws or gives no text.
        pub safe fn clipcloud_json_stringify(v: u32) -> i32;
        /// Field `key` (the text at `at`) of value `v`, an object: the field's number, or 0
        /// when it is `null` or `undefined`.
        pub safe fn clipcloud_json_get(v: u32, at: *const u8, len: usize) -> u32;
        /// Sets field `key` (the text at `at`) of object `o` to value `v`.
        pub safe fn clipcloud_json_set(o: u32, at: *const u8, len: usize, v: u32);
        /// The length of array `v`.
        pub safe fn clipcloud_json_length(v: u32) -> u32;
        /// Item `i` of array `v`: its number (`null` and `undefined` items are kept too).
        pub safe fn clipcloud_json_item(v: u32, i: u32) -> u32;
        /// Appends value `v` to array `a`.
        pub safe fn clipcloud_json_push(a: u32, v: u32);
        /// A new empty object (`{}`): its number.
        pub safe fn clipcloud_json_object() -> u32;
        /// A new empty array (`[]`): its number.
        pub safe fn clipcloud_json_array() -> u32;
        /// The string at `at`, kept: its number.
        pub safe fn clipcloud_json_text(at: *const u8, len: usize) -> u32;
        /// The number `n` (or boolean: 0 false, 1 true, when `boolean` is 1), kept: its number.
        pub safe fn clipcloud_json_scalar(n: f64, boolean: u32) -> u32;
        /// The text at `at` as a number, as the unary `+` reads it (`NaN` when it is not one).
        pub safe fn clipcloud_json_number_of(at: *const u8, len: usize) -> f64;
        /// Copies the string encoded last (by [`clipcloud_json_string`] or
        /// [`clipcloud_json_stringify`]) to `to`, which has room for its length.
        pub fn clipcloud_take(to: *mut u8);
    }

    /// The string the host encoded last, `len` bytes of it (as it gave them; -1: none).
    pub fn take(len: i32) -> Option<String> {
        let mut bytes = vec![0; usize::try_from(len).ok()?];
        // SAFETY: `bytes` has room for the `len` bytes the host copies (the length it gave
        // for that string); the host encodes with `TextEncoder`, which writes UTF-8.
        unsafe {
            clipcloud_take(bytes.as_mut_ptr());
            Some(String::from_utf8_unchecked(bytes))
        }
    }
}

const NUMBER: i32 = 0;
const BOOLEAN: i32 = 1;
const OBJECT: i32 = 2;
const ARRAY: i32 = 3;

fn kind(v: &Value) -> i32 {
    ffi::clipcloud_json_kind(v.0)
}

/// The value written in `text`.
pub fn parse(text: &str) -> Result<Value, SyntaxError> {
    let n = ffi::clipcloud_json_parse(text.as_ptr(), text.len());
    if n > 0 {
        Ok(Value(n.unsigned_abs()))
    } else {
        Err(SyntaxError(Value(n.unsigned_abs())))
    }
}

impl SyntaxError {
    /// The parser's explanation, for people (it differs between builds and browsers).
    pub fn message(&self) -> String {
        super::field(&self.0, "message", string).unwrap_or_default()
    }
}

/// The value as compact JSON text.
pub fn stringify(v: &Value) -> String {
    ffi::take(ffi::clipcloud_json_stringify(v.0)).unwrap_or_default()
}

/// Text as a JSON (and JavaScript) string literal, quotes included.
pub fn quote(text: &str) -> String {
    stringify(&Value(ffi::clipcloud_json_text(text.as_ptr(), text.len())))
}

/// A field of an object; `None` when absent, `null`, or `v` is not an object.
/// Arrays are not objects here, as in JSON.
pub fn get(v: &Value, key: &str) -> Option<Value> {
    // Callers ask for field names of their own, none of which an object inherits.
    if !is_object(v) {
        return None;
    }
    let field = ffi::clipcloud_json_get(v.0, key.as_ptr(), key.len());
    (field != 0).then_some(Value(field))
}

pub fn string(v: &Value) -> Option<String> {
    ffi::take(ffi::clipcloud_json_string(v.0))
}

pub fn number(v: &Value) -> Option<f64> {
    (kind(v) == NUMBER).then(|| ffi::clipcloud_json_number(v.0))
}

pub fn boolean(v: &Value) -> Option<bool> {
    (kind(v) == BOOLEAN).then(|| ffi::clipcloud_json_number(v.0) != 0.0)
}

/// Every item of an array, each read by `read`; `None` when `v` is not an array or
/// `read` refuses an item. Items are read in place: no copy of the array.
pub fn items<T>(v: &Value, mut read: impl FnMut(&Value) -> Option<T>) -> Option<Vec<T>> {
    if !is_array(v) {
        return None;
    }
    let mut out = Vec::new();
    for i in 0..ffi::clipcloud_json_length(v.0) {
        out.push(read(&Value(ffi::clipcloud_json_item(v.0, i)))?);
    }
    Some(out)
}

pub fn is_array(v: &Value) -> bool {
    kind(v) == ARRAY
}

/// An object, not an array.
pub fn is_object(v: &Value) -> bool {
    kind(v) == OBJECT
}

/// A decimal number in text (surrounding spaces allowed). The host's unary `+` does the
/// work; it reads "" as 0, which is not a number here.
pub fn parse_number(text: &str) -> Option<f64> {
    if crate::text::trim(text).is_empty() {
        return None;
    }
    let n = ffi::clipcloud_json_number_of(text.as_ptr(), text.len());
    (!n.is_nan()).then_some(n)
}

fn text(value: &str) -> Value {
    Value(ffi::clipcloud_json_text(value.as_ptr(), value.len()))
}

fn scalar(n: f64, boolean: bool) -> Value {
    Value(ffi::clipcloud_json_scalar(n, u32::from(boolean)))
}

/// Builds a JS object, the members in the order they are given; `JSON.stringify`
/// writes it.
#[derive(Debug)]
pub struct ObjectWriter(Value);

impl Default for ObjectWriter {
    fn default() -> Self {
        Self(Value(ffi::clipcloud_json_object()))
    }
}

impl ObjectWriter {
    fn set(&mut self, key: &str, value: &Value) {
        ffi::clipcloud_json_set(self.0 .0, key.as_ptr(), key.len(), value.0);
    }

    pub fn string(&mut self, key: &str, value: &str) {
        self.set(key, &text(value));
    }

    /// A count, a size, an id: exact below 2^53 in the browser, where numbers are `f64`.
    pub fn integer(&mut self, key: &str, value: u64) {
        self.set(key, &scalar(value as f64, false));
    }

    pub fn number(&mut self, key: &str, value: f64) {
        self.set(key, &scalar(value, false));
    }

    pub fn boolean(&mut self, key: &str, value: bool) {
        self.set(key, &scalar(f64::from(u8::from(value)), true));
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
        ffi::take(ffi::clipcloud_json_stringify(self.0 .0)).unwrap_or_else(|| "{}".into())
    }

    /// The object as a value, to put in another object or array.
    pub fn into_value(self) -> Value {
        self.0
    }
}

/// Builds a JS array, the items in the order they are given; `JSON.stringify` writes it.
#[derive(Debug)]
pub struct ArrayWriter(Value);

impl Default for ArrayWriter {
    fn default() -> Self {
        Self(Value(ffi::clipcloud_json_array()))
    }
}

impl ArrayWriter {
    fn push(&mut self, value: &Value) {
        ffi::clipcloud_json_push(self.0 .0, value.0);
    }

    pub fn string(&mut self, value: &str) {
        self.push(&text(value));
    }

    pub fn number(&mut self, value: f64) {
        self.push(&scalar(value, false));
    }

    /// Any value, e.g. an object another writer made.
    pub fn value(&mut self, value: &Value) {
        self.push(value);
    }

    /// The array as JSON text.
    pub fn finish(self) -> String {
        stringify(&self.0)
    }

    /// The array as a value, to put in an object or another array.
    pub fn into_value(self) -> Value {
        self.0
    }
}
