//! The pictures: deterministic from (prompt, image index) at the creation's size, as
//! lossless WebP. Same prompt and index, same bytes; images of one creation differ.
//! Drawing and encoding live in the `clipcloud-emulator-render` crate (optimized even in
//! the dev profile); this module picks the seed.

use crate::ids;

/// What to draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSpec {
    pub prompt: String,
    pub index: u32,
    pub width: u32,
    pub height: u32,
}

impl ImageSpec {
    /// The 32 bytes every colour and shape of the picture comes from.
    pub fn seed(&self) -> [u8; 32] {
        ids::digest(&[b"picture", self.prompt.as_bytes(), &self.index.to_le_bytes()])
    }
}

/// Renders and encodes. `Err` only for sizes WebP cannot hold.
pub fn render_webp(spec: &ImageSpec) -> Result<Vec<u8>, String> {
    clipcloud_emulator_render::render_webp(&spec.seed(), spec.width, spec.height)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(prompt: &str, index: u32) -> ImageSpec {
        ImageSpec { prompt: prompt.into(), index, width: 512, height: 512 }
    }

    #[test]
    fn deterministic_and_distinct() {
        let a = render_webp(&spec("a cat", 0)).unwrap();
        assert_eq!(a, render_webp(&spec("a cat", 0)).unwrap());
        assert_ne!(a, render_webp(&spec("a cat", 1)).unwrap());
        assert_ne!(a, render_webp(&spec("a dog", 0)).unwrap());
    }
}
