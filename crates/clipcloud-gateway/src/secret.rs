//! Secrets (the operator's API key, the signing keys, the passphrase, the admin token):
//! read from files only (a flag would show in `ps`), never shown by `Debug`, compared in
//! constant time, and used as HMAC-SHA256 keys (the `hmac` crate).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The first line of a file that is neither empty nor a `#` comment, trimmed.
    pub fn from_file(flag: &str, path: &str) -> Result<Self, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("{flag} {path}: cannot read it: {e}"))?;
        let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'));
        let line = line.ok_or_else(|| format!("{flag} {path}: the file holds no value"))?;
        Ok(Self(line.as_bytes().to_vec()))
    }

    /// 32 random bytes from the operating system.
    pub fn random() -> Result<Self, String> {
        let mut bytes = vec![0; 32];
        getrandom::getrandom(&mut bytes).map_err(|e| format!("no randomness from the system: {e}"))?;
        Ok(Self(bytes))
    }

    /// The secret itself, to put into an upstream request. Never log it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as text (files are read as UTF-8, so it is). Never log it.
    pub fn expose_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Whether `candidate` equals the secret, in time that does not depend on where
    /// they differ.
    pub fn matches(&self, candidate: &[u8]) -> bool {
        // Comparing digests makes the time independent of the lengths too.
        let (a, b) = (Sha256::digest(&self.0), Sha256::digest(candidate));
        a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// HMAC-SHA256 (RFC 2104) of `message` under this secret.
    pub fn sign(&self, message: &[u8]) -> [u8; 32] {
        self.mac(message).finalize().into_bytes().into()
    }

    /// Whether `signature` (lowercase hex) is this secret's HMAC of `message`, compared in
    /// constant time.
    pub fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        lower_hex_bytes(signature_hex)
            .is_some_and(|signature| self.mac(message).verify_slice(&signature).is_ok())
    }

    fn mac(&self, message: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length (a longer one is hashed first): this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(message);
        mac
    }
}

/// The first 16 bytes of `text`'s SHA-256, in hex: a name for a visitor or a creation
/// in shared storage that does not show who or what it is.
pub fn short_hash(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes())[..16])
}

/// Lowercase hex (what [`hex`] writes) as bytes; `None` for anything else, capitals
/// included, so that a signature has one spelling.
fn lower_hex_bytes(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let pairs = text.as_bytes().chunks(2);
    pairs.map(|pair| Some(digit(*pair.first()?)? << 4 | digit(*pair.get(1)?)?)).collect()
}

/// Digests and signatures as text: the core's one hex encoder.
pub use clipcloud::hex::encode as hex;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test cases 1 and 6 (a key longer than the block).
        let key = Secret::new(vec![0x0b; 20]);
        assert_eq!(
            hex(&key.sign(b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        let long = Secret::new(vec![0xaa; 131]);
        assert_eq!(
            hex(&long.sign(b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        let sig = hex(&key.sign(b"m"));
        assert!(key.verify(b"m", &sig));
        assert!(!key.verify(b"n", &sig));
        assert!(!key.verify(b"m", &sig[..63]));
    }

    #[test]
    fn never_shown_and_compared_whole() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert!(s.matches(b"hunter2"));
        assert!(!s.matches(b"hunter"));
        assert!(!s.matches(b"hunter22"));
    }
}
