//! Text helpers with a browser seam, like `json`: natively Rust's own, in the browser
//! the browser's (which keeps Rust's Unicode case tables out of the shipped wasm).

/// Lower case, for case-insensitive search.
#[cfg(not(target_arch = "wasm32"))]
pub fn lowercase(text: &str) -> String {
    text.to_lowercase()
}

#[cfg(target_arch = "wasm32")]
pub fn lowercase(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn lowercases_beyond_ascii() {
        assert_eq!(super::lowercase("Äpfel im HD-HQ Stil"), "äpfel im hd-hq stil");
    }
}
