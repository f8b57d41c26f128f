//! The image work, over bytes: decode within a memory budget, shrink, stand upright, encode
//! in the original's format. No I/O, so tests and the benchmark call it directly.

use std::io::Cursor;

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use thiserror::Error;

use crate::config::Config;
use crate::jpeg;

/// JPEG thumbnails: small files with no visible blocks at 400 px.
const JPEG_QUALITY: u8 = 82;
/// NeuQuant's speed for GIF palettes, 1 (best) to 30: 10 is its own default trade-off.
const GIF_QUANTIZER_SPEED: i32 = 10;

/// The image types uploads may have (lambda-fn's `content_type`), told by the key's extension
/// because the upload function chose that extension from the signed Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Gif,
    WebP,
}

impl Kind {
    pub fn of_key(key: &str) -> Option<Kind> {
        let (_, extension) = key.rsplit_once('.')?;
        match extension.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Some(Kind::Jpeg),
            "png" => Some(Kind::Png),
            "gif" => Some(Kind::Gif),
            "webp" => Some(Kind::WebP),
            _ => None,
        }
    }

    pub fn mime(self) -> &'static str {
        self.format().to_mime_type()
    }

    fn format(self) -> ImageFormat {
        match self {
            Kind::Jpeg => ImageFormat::Jpeg,
            Kind::Png => ImageFormat::Png,
            Kind::Gif => ImageFormat::Gif,
            Kind::WebP => ImageFormat::WebP,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Why an object gets no thumbnail. None of these improves on a retry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error("the name does not end in .jpg, .jpeg, .png, .gif or .webp")]
    NotAnImageName,
    #[error("the content is not the {claimed} its name claims (found: {found})")]
    NotTheClaimedImage {
        claimed: &'static str,
        found: &'static str,
    },
    #[error("too large to decode: {0}")]
    TooLarge(String),
    #[error("cannot be decoded (damaged or cut short): {0}")]
    Undecodable(String),
    #[error("the thumbnail cannot be encoded: {0}")]
    Unencodable(String),
}

/// The thumbnail of `bytes`, an image of `kind`: longest side at most `config.max_side`
/// (smaller images keep their size), EXIF orientation applied, the first frame of an
/// animation, encoded as `kind` again. A decoder that panics on a hostile file is a refusal
/// too: the same file would panic again on every retry.
pub fn make_thumbnail(bytes: &[u8], kind: Kind, config: &Config) -> Result<Thumbnail, Refusal> {
    std::panic::catch_unwind(|| thumbnail_of(bytes, kind, config)).unwrap_or_else(|_| {
        Err(Refusal::Undecodable(
            "the decoder stopped on this file (panic)".into(),
        ))
    })
}

fn thumbnail_of(bytes: &[u8], kind: Kind, config: &Config) -> Result<Thumbnail, Refusal> {
    check_claim(bytes, kind)?;
    let scaled = match kind {
        Kind::Jpeg => jpeg::decode_scaled(bytes, config)?,
        _ => None,
    };
    let (image, orientation) = match scaled {
        Some(decoded) => decoded,
        None => decode(bytes, kind, config)?,
    };
    let mut small = shrink(&image, config.max_side);
    drop(image);
    small.apply_orientation(orientation);
    encode(&small, kind)
}

/// The content is what the name says, and a JPEG is whole (its decoder would fill a cut one
/// with grey and call it done; a thumbnail half grey is worse than none).
fn check_claim(bytes: &[u8], kind: Kind) -> Result<(), Refusal> {
    let found = image::guess_format(bytes).ok();
    if found != Some(kind.format()) {
        return Err(Refusal::NotTheClaimedImage {
            claimed: kind.mime(),
            found: found.map_or("no image type known here", |f| f.to_mime_type()),
        });
    }
    if kind == Kind::Jpeg && !jpeg::is_whole(bytes) {
        return Err(Refusal::Undecodable(
            "the JPEG ends before its end-of-image marker".into(),
        ));
    }
    Ok(())
}

/// The whole image at full size with its EXIF orientation, through `image`'s decoders.
fn decode(
    bytes: &[u8],
    kind: Kind,
    config: &Config,
) -> Result<(DynamicImage, Orientation), Refusal> {
    let mut decoder = open(bytes, kind, config)?;
    // A damaged EXIF block is no reason to refuse the picture: it stays as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(|e| refusal(e, config))?;
    Ok((image, orientation))
}

/// A decoder for `bytes` once the header has shown that the decoded image fits the budget:
/// nothing the size of the image is allocated before that.
fn open<'a>(
    bytes: &'a [u8],
    kind: Kind,
    config: &Config,
) -> Result<impl ImageDecoder + 'a, Refusal> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    let mut limits = Limits::default();
    limits.max_alloc = Some(config.max_decoded_bytes);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(|e| refusal(e, config))?;
    let (width, height) = decoder.dimensions();
    check_budget(width, height, decoder.total_bytes(), config)?;
    Ok(decoder)
}

/// Refuses an image whose decoded pixels would take more than the budget.
pub(crate) fn check_budget(
    width: u32,
    height: u32,
    needed: u64,
    config: &Config,
) -> Result<(), Refusal> {
    if needed <= config.max_decoded_bytes {
        return Ok(());
    }
    Err(Refusal::TooLarge(format!(
        "{width} x {height} pixels would take {needed} bytes decoded, more than the budget of {} bytes",
        config.max_decoded_bytes
    )))
}

fn refusal(error: ImageError, config: &Config) -> Refusal {
    match error {
        ImageError::Limits(limit) => Refusal::TooLarge(format!(
            "{limit} (budget {} bytes)",
            config.max_decoded_bytes
        )),
        other => Refusal::Undecodable(other.to_string()),
    }
}

/// The size that fits `image` in a `max_side` square, aspect kept, at least 1 px a side.
pub fn fitted(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= max_side {
        return (width, height);
    }
    let scale = |side: u32| {
        let scaled =
            (u64::from(side) * u64::from(max_side) + u64::from(longest) / 2) / u64::from(longest);
        (scaled as u32).max(1)
    };
    (scale(width), scale(height))
}

pub(crate) fn shrink(image: &DynamicImage, max_side: u32) -> DynamicImage {
    let (width, height) = fitted(image.width(), image.height(), max_side);
    if (width, height) == (image.width(), image.height()) {
        return image.clone();
    }
    // Area averaging: every source pixel counts once, quick and free of aliasing when
    // shrinking by large factors, as thumbnails do.
    image.thumbnail_exact(width, height)
}

/// 8 bits a channel in the original's format; alpha kept where the format has it.
fn encode(image: &DynamicImage, kind: Kind) -> Result<Thumbnail, Refusal> {
    let eight_bit = match (kind, image.color().has_alpha()) {
        (Kind::Jpeg, _) | (_, false) => DynamicImage::ImageRgb8(image.to_rgb8()),
        (_, true) => DynamicImage::ImageRgba8(image.to_rgba8()),
    };
    let mut bytes = Vec::new();
    let out = &mut bytes;
    let written = match kind {
        Kind::Jpeg => {
            eight_bit.write_with_encoder(JpegEncoder::new_with_quality(out, JPEG_QUALITY))
        }
        Kind::Png => eight_bit.write_with_encoder(PngEncoder::new(out)),
        Kind::Gif => {
            eight_bit.write_with_encoder(GifEncoder::new_with_speed(out, GIF_QUANTIZER_SPEED))
        }
        Kind::WebP => eight_bit.write_with_encoder(WebPEncoder::new_lossless(out)),
    };
    written.map_err(|e| Refusal::Unencodable(e.to_string()))?;
    Ok(Thumbnail {
        bytes,
        content_type: kind.mime(),
        width: eight_bit.width(),
        height: eight_bit.height(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_side_fits_and_the_aspect_is_kept() {
        let cases = [
            ((4000, 3000), (400, 300)),
            ((3000, 4000), (300, 400)),
            ((400, 400), (400, 400)),
            ((1, 1), (1, 1)),
            ((399, 10), (399, 10)),
            ((10_000, 3), (400, 1)),
            ((801, 400), (400, 200)),
        ];
        for ((w, h), expected) in cases {
            assert_eq!(fitted(w, h, 400), expected, "{w}x{h}");
        }
    }

    #[test]
    fn kinds_come_from_the_extension_in_any_case() {
        assert_eq!(Kind::of_key("images/a.JPG"), Some(Kind::Jpeg));
        assert_eq!(Kind::of_key("images/a.jpeg"), Some(Kind::Jpeg));
        assert_eq!(Kind::of_key("images/a.webp"), Some(Kind::WebP));
        assert_eq!(Kind::of_key("images/a.tiff"), None);
        assert_eq!(Kind::of_key("images/png"), None);
        assert_eq!(Kind::WebP.mime(), "image/webp");
    }
}
