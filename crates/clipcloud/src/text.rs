//! Text routines the shipped wasm builds need, written so that they bring none of core's
//! char searchers (which `str`'s own bring with them; docs/sizes.md has the bytes).

/// `text.trim()` (Unicode white space at both ends) in one forward pass: no reverse char
/// searcher in the wasm.
pub(crate) fn trim(text: &str) -> &str {
    let (mut start, mut end) = (text.len(), 0);
    for (i, c) in text.char_indices() {
        if !c.is_whitespace() {
            start = start.min(i);
            end = i + c.len_utf8();
        }
    }
    text.get(start.min(end)..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_takes_what_str_trim_takes() {
        for text in ["", " ", "a", " a ", "\t\u{3000}é b\u{a0}\n", "\u{2029}", "x\u{200b} "] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    // Native only: proptest needs an OS random source.
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn trim_is_str_trim(text in "[ \t\n\u{85}\u{a0}\u{2000}\u{3000}\u{feff}aé\u{1f600}]{0,12}", any in ".*") {
            proptest::prop_assert_eq!(trim(&text), text.trim());
            proptest::prop_assert_eq!(trim(&any), any.trim());
        }
    }
}
