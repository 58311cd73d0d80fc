//! The app's JSON seam, built as the core's (`clipcloud::json`): natively it is
//! serde_json (so the native tests pin the behaviour), in the browser it is the
//! browser's own `JSON` over plain JS values. That keeps a JSON parser, a float
//! formatter and serde's (de)serializers out of the shipped wasm. What the app keeps
//! (form, settings, pending creations, history) and the article helper are written
//! once over these few functions.

/// A parsed JSON value, or one being built.
#[cfg(not(target_arch = "wasm32"))]
pub type Value = serde_json::Value;
#[cfg(target_arch = "wasm32")]
pub type Value = wasm_bindgen::JsValue;

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::Value;

    /// The value, or the parser's reason (for people) why the text is not JSON.
    pub fn parse(text: &str) -> Result<Value, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

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

    pub fn array(v: &Value) -> Option<Vec<Value>> {
        v.as_array().cloned()
    }

    pub fn is_object(v: &Value) -> bool {
        v.is_object()
    }

    pub fn from_str(s: &str) -> Value {
        Value::from(s)
    }

    pub fn from_f64(n: f64) -> Value {
        // Whole numbers as integers, as serde writes them.
        if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
            Value::from(n as i64)
        } else {
            Value::from(n)
        }
    }

    pub fn from_bool(b: bool) -> Value {
        Value::from(b)
    }

    pub fn from_array(items: Vec<Value>) -> Value {
        Value::Array(items)
    }

    /// An object, its fields in the order they are set.
    #[derive(Default)]
    pub struct Object(serde_json::Map<String, Value>);

    impl Object {
        pub fn set(&mut self, key: &str, value: Value) {
            self.0.insert(key.to_owned(), value);
        }

        pub fn finish(self) -> Value {
            Value::Object(self.0)
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::Value;
    use js_sys::{Array, Reflect, JSON};
    use wasm_bindgen::JsCast;

    /// The value, or the browser's reason (for people) why the text is not JSON.
    pub fn parse(text: &str) -> Result<Value, String> {
        JSON::parse(text)
            .map_err(|e| e.dyn_into::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default())
    }

    pub fn stringify(v: &Value) -> String {
        JSON::stringify(v).ok().and_then(|s| s.as_string()).unwrap_or_default()
    }

    /// A field of an object; `None` when absent, `null`, or `v` is not an object.
    /// Arrays are not objects here, as in JSON. The app asks only for its own field
    /// names, none of which an object inherits.
    pub fn get(v: &Value, key: &str) -> Option<Value> {
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

    pub fn array(v: &Value) -> Option<Vec<Value>> {
        Array::is_array(v).then(|| v.unchecked_ref::<Array>().to_vec())
    }

    pub fn is_object(v: &Value) -> bool {
        v.is_object() && !Array::is_array(v)
    }

    pub fn from_str(s: &str) -> Value {
        Value::from_str(s)
    }

    pub fn from_f64(n: f64) -> Value {
        Value::from_f64(n)
    }

    pub fn from_bool(b: bool) -> Value {
        Value::from_bool(b)
    }

    pub fn from_array(items: Vec<Value>) -> Value {
        items.into_iter().collect::<Array>().into()
    }

    /// An object, its fields in the order they are set.
    pub struct Object(js_sys::Object);

    impl Default for Object {
        fn default() -> Self {
            Self(js_sys::Object::new())
        }
    }

    impl Object {
        pub fn set(&mut self, key: &str, value: Value) {
            let _ = Reflect::set(&self.0, &Value::from_str(key), &value);
        }

        pub fn finish(self) -> Value {
            self.0.into()
        }
    }
}

pub use imp::*;

/// A text field; `None` when absent or not text.
pub fn get_string(v: &Value, key: &str) -> Option<String> {
    get(v, key).as_ref().and_then(string)
}

/// A whole number that fits a `u32`, e.g. a count or a size.
pub fn to_u32(v: &Value) -> Option<u32> {
    let n = number(v)?;
    ((0.0..=f64::from(u32::MAX)).contains(&n) && n.fract() == 0.0).then_some(n as u32)
}

/// A whole number that fits a `u64` (exact up to 2^53, as the browser keeps numbers).
pub fn to_u64(v: &Value) -> Option<u64> {
    let n = number(v)?;
    ((0.0..18_446_744_073_709_551_616.0).contains(&n) && n.fract() == 0.0).then_some(n as u64)
}

pub fn get_u32(v: &Value, key: &str) -> Option<u32> {
    get(v, key).as_ref().and_then(to_u32)
}

pub fn get_u64(v: &Value, key: &str) -> Option<u64> {
    get(v, key).as_ref().and_then(to_u64)
}

pub fn get_f64(v: &Value, key: &str) -> Option<f64> {
    get(v, key).as_ref().and_then(number)
}

impl Object {
    pub fn string(&mut self, key: &str, value: &str) {
        self.set(key, from_str(value));
    }

    pub fn number(&mut self, key: &str, value: f64) {
        self.set(key, from_f64(value));
    }

    pub fn opt_string(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.string(key, v);
        }
    }

    pub fn opt_number(&mut self, key: &str, value: Option<f64>) {
        if let Some(v) = value {
            self.number(key, v);
        }
    }
}

/// Text as a JSON (and JavaScript) string literal, quotes included.
pub fn quote(text: &str) -> String {
    stringify(&from_str(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes() {
        let v = parse(
            r#"{"a": "x", "n": 3, "f": 1.5, "neg": -1, "big": 1e20, "b": true, "z": null, "l": [1, 2]}"#,
        )
        .unwrap();
        assert_eq!(get_string(&v, "a").as_deref(), Some("x"));
        assert_eq!(get_u32(&v, "n"), Some(3));
        assert_eq!(
            (get_u32(&v, "f"), get_u32(&v, "neg"), get_u32(&v, "big"), get_u32(&v, "a")),
            (None, None, None, None)
        );
        assert_eq!(get_f64(&v, "f"), Some(1.5));
        assert_eq!(get(&v, "b").as_ref().and_then(boolean), Some(true));
        assert!(get(&v, "z").is_none() && get(&v, "missing").is_none());
        assert_eq!(get(&v, "l").as_ref().and_then(array).map(|l| l.len()), Some(2));
        assert!(get(&get(&v, "l").unwrap(), "0").is_none(), "an array is not an object");
        assert!(parse("{nope").is_err());

        let mut o = Object::default();
        o.string("s", "a \"quoted\" word");
        o.number("n", 512.0);
        o.number("f", 2.25);
        o.opt_string("none", None);
        o.set("l", from_array(vec![from_bool(false)]));
        let text = stringify(&o.finish());
        assert!(text.contains(r#""n":512,"#) && !text.contains("none"), "{text}");
        let back = parse(&text).unwrap();
        assert_eq!(get_string(&back, "s").as_deref(), Some("a \"quoted\" word"));
        assert_eq!((get_u32(&back, "n"), get_f64(&back, "f")), (Some(512), Some(2.25)));
        assert_eq!(quote("line\nbreak"), r#""line\nbreak""#);
    }
}
