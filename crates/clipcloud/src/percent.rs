//! Percent-encoding (RFC 3986 §2.1) of URL parts: the client writes the API key into the
//! query string with it ([`encode_into`]); servers and tools that read URLs undo it with
//! one of the three decoders, which differ only in what they make of `+` and of a `%`
//! without two hex digits after it.

/// Appends `text` to `out` with every byte but RFC 3986's unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) written as `%XX` (upper-case hex).
pub fn encode_into(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// `text` percent-encoded, as [`encode_into`] writes it.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    encode_into(text, &mut out);
    out
}

/// `text` with each `%XX` (two hex digits, either case) as the byte it stands for; a `%`
/// without two hex digits after it stays as it is, as browsers read it. Bytes, not text:
/// an escape may stand for any byte. For a URL's user info, a path, a name compared as
/// bytes.
pub fn decode(text: &str) -> Vec<u8> {
    decode_with(text, false, false).unwrap_or_default()
}

/// A query string's name or value (`application/x-www-form-urlencoded`): [`decode`], with
/// `+` for a space, as text (a byte sequence that is not UTF-8 becomes U+FFFD).
pub fn decode_query(text: &str) -> String {
    let bytes = decode_with(text, true, false).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// [`decode`], strictly: `None` when a `%` has no two hex digits after it, for a path that
/// must mean one thing only (a server's file names).
pub fn decode_strict(text: &str) -> Option<Vec<u8>> {
    decode_with(text, false, true)
}

fn decode_with(text: &str, plus_is_space: bool, strict: bool) -> Option<Vec<u8>> {
    let hex = |b: Option<&u8>| char::from(*b?).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        match (b, hex(bytes.get(at + 1)), hex(bytes.get(at + 2))) {
            (b'%', Some(high), Some(low)) => {
                // Two hex digits make at most 255.
                out.push((high * 16 + low) as u8);
                at += 3;
                continue;
            }
            (b'%', _, _) if strict => return None,
            (b'+', _, _) if plus_is_space => out.push(b' '),
            (b, _, _) => out.push(b),
        }
        at += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_all_but_unreserved_characters() {
        assert_eq!(encode("k y&z"), "k%20y%26z");
        assert_eq!(encode("Az09-_.~"), "Az09-_.~");
        assert_eq!(encode("é/+%"), "%C3%A9%2F%2B%25");
        let mut out = "apikey=".to_owned();
        encode_into("a b", &mut out);
        assert_eq!(out, "apikey=a%20b");
    }

    #[test]
    fn decodes_escapes_in_either_case() {
        assert_eq!(decode("s3cr%21t%2a%2A"), b"s3cr!t**");
        assert_eq!(decode("%C3%A9"), "é".as_bytes());
        assert_eq!(decode("%FF"), [0xFF]);
        assert_eq!(decode("a+b"), b"a+b");
        assert_eq!(decode(""), b"");
    }

    #[test]
    fn a_broken_escape_stays_or_fails_strictly() {
        for broken in ["%", "%2", "%zz", "100%", "%%41"] {
            assert_eq!(decode_strict(broken), None, "{broken}");
        }
        assert_eq!(decode("%"), b"%");
        assert_eq!(decode("%2"), b"%2");
        assert_eq!(decode("%zz"), b"%zz");
        assert_eq!(decode("%%41"), b"%A");
        assert_eq!(decode_strict("b%20c.txt").as_deref(), Some(&b"b c.txt"[..]));
    }

    #[test]
    fn query_values_have_plus_for_space() {
        assert_eq!(decode_query("open+sesame%21"), "open sesame!");
        assert_eq!(decode_query("a%2Bb"), "a+b");
        assert_eq!(decode_query("%FF"), "\u{FFFD}");
    }

    #[test]
    fn decoding_undoes_encoding() {
        for text in ["", "k y&z", "é~ü+%/?#", "\u{1F600} \n"] {
            assert_eq!(decode(&encode(text)), text.as_bytes());
            assert_eq!(decode_strict(&encode(text)).as_deref(), Some(text.as_bytes()));
            assert_eq!(decode_query(&encode(text)), text);
        }
    }
}
