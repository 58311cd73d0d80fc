//! Pictures for the ClipCloud emulator: a two-colour diagonal gradient with diamond rings
//! in a third colour, every choice taken from a 32-byte seed, encoded as lossless WebP.
//!
//! Only non-generic functions are exported, so image-webp's generic encoder is
//! instantiated here and runs at this crate's optimization level (the workspace's dev
//! profile optimizes this crate; see the workspace Cargo.toml).

#![forbid(unsafe_code)]

use image_webp::{ColorType, WebPEncoder};

/// The largest side WebP can hold.
pub const MAX_SIDE: u32 = 16383;

/// Renders `width × height` from `seed` and encodes it. `Err` only for sizes WebP cannot hold.
pub fn render_webp(seed: &[u8; 32], width: u32, height: u32) -> Result<Vec<u8>, String> {
    if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
        return Err(format!("cannot encode a {width}×{height} image"));
    }
    encode_rgb(&render_rgb(seed, width, height), width, height)
}

/// Lossless WebP of RGB bytes; `Err` if the buffer is not `width * height * 3` bytes or
/// the size is out of WebP's range.
pub fn encode_rgb(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
        return Err(format!("cannot encode a {width}×{height} image"));
    }
    // Checked so the encoder's size assertion cannot fire.
    if rgb.len() as u64 != u64::from(width) * u64::from(height) * 3 {
        return Err(format!("{} bytes are not a {width}×{height} RGB image", rgb.len()));
    }
    let mut out = Vec::with_capacity(rgb.len() / 8);
    WebPEncoder::new(&mut out)
        .encode(rgb, width, height, ColorType::Rgb8)
        .map_err(|e| format!("WebP encoding failed: {e}"))?;
    Ok(out)
}

/// RGB bytes, `width * height * 3` of them.
pub fn render_rgb(seed: &[u8; 32], width: u32, height: u32) -> Vec<u8> {
    let h = seed;
    let (w, ht) = (width as usize, height as usize);
    let from = [h[0], h[1], h[2]];
    let to = [h[3], h[4], h[5]];
    let ring = [h[6], h[7], h[8]];
    // Weight of x versus y in the gradient direction, 0..=255.
    let tilt = u32::from(h[9]);
    let cx = (usize::from(u16::from_le_bytes([h[10], h[11]])) % w.max(1)) as i64;
    let cy = (usize::from(u16::from_le_bytes([h[12], h[13]])) % ht.max(1)) as i64;
    let period = 24 + i64::from(h[14] % 64);

    // Per-column share of the gradient (0..=255 times tilt), computed once.
    let column: Vec<u32> = (0..w).map(|x| (x as u32 * 255 / w.max(2) as u32) * tilt).collect();
    let mut rgb = vec![0u8; w * ht * 3];
    for (y, row) in rgb.chunks_exact_mut(w * 3).enumerate() {
        let row_share = (y as u32 * 255 / ht.max(2) as u32) * (255 - tilt);
        let dy = (y as i64 - cy).abs();
        for ((x, px), col) in row.chunks_exact_mut(3).enumerate().zip(&column) {
            // t in 0..=255: the shares sum to at most 255 × 255.
            let t = (col + row_share) / 255;
            let on_ring = (((x as i64 - cx).abs() + dy) / period) % 2 == 1;
            for c in 0..3 {
                let base = (u32::from(from[c]) * (255 - t) + u32::from(to[c]) * t) / 255;
                let value = if on_ring { (base * 3 + u32::from(ring[c])) / 4 } else { base };
                // A weighted mean of bytes is at most 255.
                px[c] = value as u8;
            }
        }
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_to_the_size_and_depends_on_the_seed() {
        let a = render_webp(&[1; 32], 1280, 720).unwrap();
        assert_eq!((&a[..4], &a[8..12]), (&b"RIFF"[..], &b"WEBP"[..]));
        let decoder = image_webp::WebPDecoder::new(std::io::Cursor::new(&a)).unwrap();
        assert_eq!(decoder.dimensions(), (1280, 720));
        assert_eq!(a, render_webp(&[1; 32], 1280, 720).unwrap());
        assert_ne!(a, render_webp(&[2; 32], 1280, 720).unwrap());
    }

    #[test]
    fn bad_sizes_are_errors_not_panics() {
        assert!(render_webp(&[0; 32], 0, 10).is_err());
        assert!(render_webp(&[0; 32], 10, MAX_SIDE + 1).is_err());
        assert!(encode_rgb(&[0; 5], 1, 2).is_err());
        assert!(render_webp(&[0; 32], 1, 1).is_ok());
    }
}
