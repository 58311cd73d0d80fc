//! The emulator's styles (size and description) and its price list, as docs/api.md decides them.

use crate::money::Money;
use clipcloud::model::{Style, KNOWN_STYLES};
use std::sync::Arc;

/// Price of one image up to [`BASE_PIXELS`].
pub const BASE_PRICE: Money = Money::from_cents(110);
/// Added for each further started [`STEP_PIXELS`] beyond [`BASE_PIXELS`].
pub const STEP_PRICE: Money = Money::from_cents(110);
/// Half a megapixel.
pub const BASE_PIXELS: u64 = 500_000;
/// One megapixel (decimal).
pub const STEP_PIXELS: u64 = 1_000_000;

/// Size of the images a style makes, `None` for a name the emulator does not know.
pub fn style_size(name: &str) -> Option<(u32, u32)> {
    if !KNOWN_STYLES.contains(&name) {
        return None;
    }
    match name {
        "standard" | "smallHQ" => Some((512, 512)),
        "HD-HQ" => Some((1280, 720)),
        "FullHD-HQ-h" => Some((1920, 1080)),
        "FullHD-HQ-v" => Some((1080, 1920)),
        "graffiti" | "illustration" | "oldphoto" | "aquarelle" | "pixel-art" | "pop-art" | "tilt-shift" => {
            Some((768, 768))
        }
        _ => hq_size(name),
    }
}

/// `HQ-W-H-h` / `HQ-W-H-v` → W×H.
fn hq_size(name: &str) -> Option<(u32, u32)> {
    let mut parts = name.strip_prefix("HQ-")?.split('-');
    let width = parts.next()?.parse().ok()?;
    let height = parts.next()?.parse().ok()?;
    Some((width, height))
}

/// One line a person can read in the styles list.
pub fn style_description(name: &str) -> &'static str {
    match name {
        "standard" => "General purpose, 512×512; fast and cheap",
        "smallHQ" => "High quality at a small size, 512×512",
        "HD-HQ" => "High quality landscape in HD, 1280×720",
        "FullHD-HQ-h" => "High quality landscape in Full HD, 1920×1080; good for simple prompts",
        "FullHD-HQ-v" => "High quality portrait in Full HD, 1080×1920",
        "graffiti" => "Spray-painted street art on a wall",
        "illustration" => "Clean digital illustration, as in books and articles",
        "oldphoto" => "Faded, grainy photograph from another century",
        "aquarelle" => "Soft watercolour painting on paper",
        "pixel-art" => "Retro video-game pixel art",
        "pop-art" => "Bold pop art with flat colours and halftone dots",
        "tilt-shift" => "Miniature look with a narrow band of focus",
        "HQ-768-512-h" => "High quality landscape, 768×512",
        "HQ-832-448-h" => "High quality wide landscape, 832×448",
        "HQ-832-640-h" => "High quality landscape, 832×640",
        "HQ-1024-640-h" => "High quality landscape, 1024×640",
        "HQ-1200-640-h" => "High quality wide landscape, 1200×640",
        "HQ-1280-720-h" => "High quality landscape, 1280×720",
        "HQ-512-768-v" => "High quality portrait, 512×768",
        "HQ-640-1024-v" => "High quality portrait, 640×1024",
        _ => "Style",
    }
}

/// Every known style, in the docs' order, with size and description.
pub fn styles() -> Vec<Style> {
    KNOWN_STYLES
        .iter()
        .map(|&name| {
            let size = style_size(name);
            Style {
                name: name.to_string(),
                description: Some(style_description(name).to_string()),
                width: size.map(|(w, _)| w),
                height: size.map(|(_, h)| h),
            }
        })
        .collect()
}

/// [`styles`], built once and shared by the requests that need it (`GET /api/styles`,
/// create validation). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Styles(Arc<[Style]>);

impl Default for Styles {
    fn default() -> Self {
        Self(styles().into())
    }
}

impl Styles {
    pub fn as_slice(&self) -> &[Style] {
        &self.0
    }
}

/// Price of one image of this size: 1.1 up to half a megapixel, plus 1.1 for each
/// further started megapixel.
pub fn price_per_image(width: u32, height: u32) -> Money {
    let pixels = u64::from(width) * u64::from(height);
    let extra_steps = pixels.saturating_sub(BASE_PIXELS).div_ceil(STEP_PIXELS);
    // At most (2048² / 10⁶) + 1 = 5 steps for valid sizes; saturate anyway.
    BASE_PRICE.saturating_add(STEP_PRICE.saturating_mul(u32::try_from(extra_steps).unwrap_or(u32::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_style_has_a_size_and_description() {
        for name in KNOWN_STYLES {
            assert!(style_size(name).is_some(), "{name}");
            assert_ne!(style_description(name), "Style", "{name}");
        }
        assert_eq!(style_size("HQ-640-1024-v"), Some((640, 1024)));
        assert_eq!(style_size("HQ-999-999-h"), None);
        assert_eq!(style_size(""), None);
    }

    #[test]
    fn prices_follow_spec() {
        assert_eq!(price_per_image(512, 512), Money::from_cents(110));
        assert_eq!(price_per_image(768, 768), Money::from_cents(220));
        assert_eq!(price_per_image(1280, 720), Money::from_cents(220));
        assert_eq!(price_per_image(1920, 1080), Money::from_cents(330));
        assert_eq!(price_per_image(2048, 2048), Money::from_cents(110 * 5));
    }
}
