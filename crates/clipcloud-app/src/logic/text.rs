//! Text as the app shows it: elapsed times, download file names, and lower case for
//! search, which has a browser seam like the core's `json`: natively Rust's own, in the
//! browser the browser's (which keeps Rust's Unicode case tables out of the shipped wasm).

/// Lower case, for case-insensitive search.
#[cfg(not(target_arch = "wasm32"))]
pub fn lowercase(text: &str) -> String {
    text.to_lowercase()
}

#[cfg(target_arch = "wasm32")]
pub fn lowercase(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

/// "4 s", "1 min 05 s".
pub fn elapsed(ms: f64) -> String {
    let secs = (ms.max(0.0) / 1000.0) as u64;
    if secs < 60 {
        return secs.to_string() + " s";
    }
    let rest = secs % 60;
    (secs / 60).to_string() + " min " + if rest < 10 { "0" } else { "" } + &rest.to_string() + " s"
}

/// A file name for a downloaded image.
pub fn file_name(creation_id: &str, index: usize) -> String {
    let short: String = creation_id.chars().take(8).collect();
    "clipcloud-".to_owned() + &short + "-" + &(index + 1).to_string() + ".webp"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_beyond_ascii() {
        assert_eq!(lowercase("Äpfel im HD-HQ Stil"), "äpfel im hd-hq stil");
    }

    #[test]
    fn elapsed_in_seconds_then_minutes() {
        assert_eq!(elapsed(-5.0), "0 s");
        assert_eq!(elapsed(4_999.0), "4 s");
        assert_eq!(elapsed(59_999.0), "59 s");
        assert_eq!(elapsed(65_000.0), "1 min 05 s");
        assert_eq!(elapsed(725_000.0), "12 min 05 s");
        assert_eq!(elapsed(130_000.0), "2 min 10 s");
    }

    #[test]
    fn file_names_keep_the_id_short() {
        assert_eq!(file_name("12345678-abcd-ef12", 0), "clipcloud-12345678-1.webp");
        assert_eq!(file_name("ab", 2), "clipcloud-ab-3.webp");
    }
}
