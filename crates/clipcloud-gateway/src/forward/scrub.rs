//! What must never reach a caller from the service's answers, and how it is found in the
//! text the gateway takes from them: the key that went upstream and the credentials of
//! `--upstream` (in any case, whole or in part, percent-encoded or in base64), and the
//! upstream's address. The JSON is decoded before this runs, so `\u` escapes are already
//! undone.

use crate::forward::upstream::Origin;
use clipcloud::base64;
use clipcloud::percent;
use std::collections::HashSet;

/// The length of the pieces of a secret looked for: a run this long of a secret, anywhere
/// (a prefix of the key, the key in the middle of a word), is redacted.
const WINDOW: usize = 8;
/// Shorter secrets cannot be told from ordinary text.
const SHORTEST: usize = 4;
const REDACTED: &str = "[redacted]";

/// The secrets and addresses to redact, lowercase (matching ignores ASCII case).
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    /// Every `WINDOW`-byte run of every spelling of every secret.
    windows: HashSet<[u8; WINDOW]>,
    /// Found only whole: secrets shorter than `WINDOW`, and addresses.
    whole: Vec<Vec<u8>>,
}

impl Secrets {
    /// The credentials and the addresses of the upstream and its image host.
    pub fn of_upstream(origins: &[&Origin]) -> Self {
        let mut secrets = Self::default();
        for origin in origins {
            if let Some(credentials) = origin.credentials() {
                let written = credentials.expose_str();
                let decoded = String::from_utf8_lossy(&percent::decode(written)).into_owned();
                for user_info in [written, &decoded] {
                    secrets.add_secret(user_info);
                    if let Some((_, password)) = user_info.split_once(':') {
                        secrets.add_secret(password);
                    }
                }
            }
            for address in [origin.authority(), origin.host()] {
                let address = address.to_ascii_lowercase().into_bytes();
                if address.len() >= SHORTEST && !secrets.whole.contains(&address) {
                    secrets.whole.push(address);
                }
            }
        }
        secrets
    }

    /// These, and `key` (the key a call sends upstream).
    pub fn with_key(&self, key: &str) -> Self {
        let mut secrets = self.clone();
        secrets.add_secret(key);
        secrets
    }

    /// `secret`, plain, percent-encoded (as the core sends a key, and with `+` for spaces)
    /// and in base64 at each of the three alignments it can have inside longer base64 text.
    fn add_secret(&mut self, secret: &str) {
        if secret.len() < SHORTEST {
            return;
        }
        let encoded = percent::encode(secret);
        let plus = secret.replace(' ', "+");
        let base64 = (0..3).map(|shift| base64_inside(secret.as_bytes(), shift));
        for form in [secret.to_owned(), encoded, plus].into_iter().chain(base64) {
            let form = form.to_ascii_lowercase().into_bytes();
            if form.len() >= WINDOW {
                for window in form.windows(WINDOW) {
                    self.windows.insert(window.try_into().unwrap_or_default());
                }
            } else if form.len() >= SHORTEST && !self.whole.contains(&form) {
                self.whole.push(form);
            }
        }
    }

    /// Whether `text` holds any of them.
    pub fn found_in(&self, text: &str) -> bool {
        self.marks(text).iter().any(|&marked| marked)
    }

    /// `text` with each run that holds one of them replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        let marks = self.marks(text);
        let mut out = String::with_capacity(text.len());
        let mut in_run = false;
        for (i, c) in text.char_indices() {
            // A character is redacted when any of its bytes is.
            if marks[i..i + c.len_utf8()].iter().any(|&marked| marked) {
                if !in_run {
                    out.push_str(REDACTED);
                }
                in_run = true;
            } else {
                out.push(c);
                in_run = false;
            }
        }
        out
    }

    /// Per byte of `text`: whether it is part of a secret or an address.
    fn marks(&self, text: &str) -> Vec<bool> {
        let lower = text.to_ascii_lowercase().into_bytes();
        let mut marks = vec![false; lower.len()];
        for (i, window) in lower.windows(WINDOW).enumerate() {
            if window.try_into().is_ok_and(|w: [u8; WINDOW]| self.windows.contains(&w)) {
                marks[i..i + WINDOW].fill(true);
            }
        }
        for form in &self.whole {
            for (i, window) in lower.windows(form.len()).enumerate() {
                if window == form.as_slice() {
                    marks[i..i + form.len()].fill(true);
                }
            }
        }
        marks
    }
}

/// The base64 characters that encode `secret` alone when it starts `shift` bytes into a
/// longer run of bytes (so `Basic dXNl...` and any base64 that holds the secret are found).
fn base64_inside(secret: &[u8], shift: usize) -> String {
    let mut bytes = vec![0; shift];
    bytes.extend_from_slice(secret);
    let encoded = base64::encode(&bytes);
    // Character i carries bits 6i..6i+6: keep those within the secret's bits.
    let first = (8 * shift).div_ceil(6);
    let end = 8 * (shift + secret.len()) / 6;
    encoded.get(first..end).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "Sk-Live-0123456789abcdef";

    #[test]
    fn the_key_is_found_in_any_case_whole_or_in_part() {
        let secrets = Secrets::default().with_key(KEY);
        for text in [
            KEY.to_owned(),
            KEY.to_uppercase(),
            format!("key {} is unknown", &KEY[..10]),
            format!("x{}y", &KEY[4..]),
        ] {
            let redacted = secrets.redact(&text);
            assert!(secrets.found_in(&text) && redacted.contains(REDACTED), "{text} → {redacted}");
            assert!(!redacted.to_lowercase().contains("0123456"), "{text} → {redacted}");
        }
        assert_eq!(secrets.redact("an ordinary message"), "an ordinary message");
        assert_eq!(secrets.redact(&format!("é{}é", KEY)), "é[redacted]é");
        assert_eq!(Secrets::default().with_key("abc").redact("abc"), "abc", "too short to redact safely");
        assert_eq!(Secrets::default().with_key("k&y!").redact("K%26Y%21 k&y!"), "[redacted] [redacted]");
    }

    #[test]
    fn credentials_and_addresses_are_found_in_base64_and_whole() {
        let origin = Origin::parse("http://svc-user:pa55%20word@Internal.Example:8443").unwrap();
        let secrets = Secrets::of_upstream(&[&origin]);
        let basic = base64::encode(b"svc-user:pa55%20word");
        for shift in 0..3 {
            let inside = base64::encode(format!("{}svc-user:pa55%20word!", "x".repeat(shift)).as_bytes());
            assert!(secrets.found_in(&inside), "{inside}");
        }
        for text in [
            format!("Basic {basic}"),
            "pa55 word".to_owned(),
            "PA55%20WORD".to_owned(),
            "see internal.example:8443/x".to_owned(),
            "host INTERNAL.EXAMPLE".to_owned(),
        ] {
            assert!(secrets.found_in(&text), "{text}");
        }
        assert_eq!(secrets.redact("http://internal.example:8443/images"), "http://[redacted]/images");
        assert!(!secrets.found_in("Images processed succesfully"));
    }
}
