//! Deterministic ids: SHA-256 of a seed and a counter (or of a creation id and an
//! image index), shaped as the API shapes them.

use clipcloud::hex;
use sha2::{Digest, Sha256};

/// SHA-256 of the parts, each length-prefixed so `("ab","c")` and `("a","bc")` differ.
pub fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// `8-4-4-4-12` lowercase hex, like `12345678-abcd-ef12-3456-7890abcdef12`.
pub fn creation_id(seed: &str, sequence: u64) -> String {
    let h = hex::encode(&digest(&[b"creation", seed.as_bytes(), &sequence.to_le_bytes()])[..16]);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A fresh API key handed out by `POST /emulator/keys`.
pub fn api_key(seed: &str, sequence: u64) -> String {
    let h = hex::encode(&digest(&[b"apikey", seed.as_bytes(), &sequence.to_le_bytes()])[..12]);
    format!("emu-{h}")
}

/// The 64-hex name of image `index` of a creation (its URL is `/images/<name>.webp`).
pub fn image_id(creation_id: &str, index: u32) -> String {
    hex::encode(&digest(&[b"image", creation_id.as_bytes(), &index.to_le_bytes()]))
}

pub fn is_image_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let id = creation_id("seed", 1);
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(id.bytes().all(|b| b == b'-' || b.is_ascii_digit() || b.is_ascii_lowercase()));
        assert_ne!(id, creation_id("seed", 2));
        assert_eq!(id, creation_id("seed", 1));
        assert!(is_image_id(&image_id(&id, 0)));
        assert_ne!(image_id(&id, 0), image_id(&id, 1));
        assert!(!is_image_id(&"A".repeat(64)));
        assert!(api_key("seed", 0).starts_with("emu-"));
    }
}
