//! Bytes as lower-case hexadecimal text: how digests are shown in ids, names and logs.

/// Two lower-case hex digits per byte: `[0x0f, 0xa0]` → `"0fa0"`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_lower_case_digits_per_byte() {
        assert_eq!(super::encode(&[]), "");
        assert_eq!(super::encode(&[0x0f, 0xa0, 0x00, 0xff]), "0fa000ff");
        let all: Vec<u8> = (0..=255).collect();
        let expected: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(super::encode(&all), expected);
    }
}
