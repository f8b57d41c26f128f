//! JPEG specifics: whether a file is whole, and decoding at a fraction of its size.

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};
use jpeg_decoder::{Decoder, PixelFormat};

use crate::config::Config;
use crate::thumbnail::{check_budget, fitted, Refusal};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;

/// True when the markers walk from SOI to the first scan (SOS) and an EOI follows it.
/// Markers before the scan carry their length, so an EXIF thumbnail inside APP1 (with its own
/// SOS and EOI) is stepped over; inside scans a 0xFF data byte is always stuffed (FF 00), so
/// FF D9 there is the real end. Bytes after EOI (camera trailers) are allowed.
pub fn is_whole(bytes: &[u8]) -> bool {
    if bytes.get(..2) != Some(&[0xFF, SOI]) {
        return false;
    }
    let mut at = 2;
    loop {
        // Markers may be preceded by fill bytes (0xFF).
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        if marker == EOI {
            return false; // an end before any image data
        }
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            at += 2; // TEM and RSTn stand alone
            continue;
        }
        let Some(&[high, low]) = bytes.get(at + 2..at + 4) else {
            return false;
        };
        let after = at + 2 + usize::from(u16::from_be_bytes([high, low]));
        if marker == SOS {
            let scans = bytes.get(after..).unwrap_or_default();
            return scans.windows(2).any(|pair| pair == [0xFF, EOI]);
        }
        at = after;
    }
}

/// The image decoded at the smallest of 1/8, 1/4, 1/2 and full scale that leaves at least
/// twice the thumbnail's size (the margin Pillow's `thumbnail` keeps, for the same sharpness),
/// with its EXIF orientation. The IDCT does the shrinking: a 24 MP photo decodes as 1.5 MP.
/// `None` for grey 16-bit and CMYK files, which `image`'s decoder takes at full size.
pub fn decode_scaled(
    bytes: &[u8],
    config: &Config,
) -> Result<Option<(DynamicImage, Orientation)>, Refusal> {
    let undecodable = |e: jpeg_decoder::Error| Refusal::Undecodable(e.to_string());
    let mut decoder = Decoder::new(bytes);
    decoder.read_info().map_err(undecodable)?;
    let info = decoder
        .info()
        .ok_or_else(|| Refusal::Undecodable("no frame".into()))?;
    if !matches!(info.pixel_format, PixelFormat::L8 | PixelFormat::RGB24) {
        return Ok(None);
    }
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let needed = u64::from(width) * u64::from(height) * info.pixel_format.pixel_bytes() as u64;
    check_budget(width, height, needed, config)?;
    let (wanted_w, wanted_h) = fitted(width, height, config.max_side.saturating_mul(2));
    let to_u16 = |side: u32| u16::try_from(side).unwrap_or(u16::MAX);
    let (w, h) = decoder
        .scale(to_u16(wanted_w), to_u16(wanted_h))
        .map_err(undecodable)?;
    let pixels = decoder.decode().map_err(undecodable)?;
    let (w, h) = (u32::from(w), u32::from(h));
    let image = match info.pixel_format {
        PixelFormat::L8 => GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8),
        _ => RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
    };
    let image = image.ok_or_else(|| Refusal::Undecodable("fewer pixels than declared".into()))?;
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    Ok(Some((image, orientation)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, an APP1 holding a whole small JPEG (as EXIF thumbnails do), SOS, data, EOI.
    fn jpeg(scan: &[u8], end: bool) -> Vec<u8> {
        let mut bytes = vec![0xFF, SOI, 0xFF, 0xE1, 0x00, 0x08];
        bytes.extend_from_slice(&[0xFF, SOI, 0xFF, SOS, 0xFF, EOI]);
        bytes.extend_from_slice(&[0xFF, 0xFF, SOS, 0x00, 0x03, 0x01]);
        bytes.extend_from_slice(scan);
        if end {
            bytes.extend_from_slice(&[0xFF, EOI]);
        }
        bytes
    }

    #[test]
    fn whole_files_pass_and_cut_ones_do_not() {
        assert!(is_whole(&jpeg(&[0x12, 0xFF, 0x00, 0xFF, 0xD0, 0x34], true)));
        let whole = [jpeg(&[1, 2], true), b"trailer".to_vec()].concat();
        assert!(is_whole(&whole));
        // The EXIF thumbnail's EOI does not count: the main scan has none.
        assert!(!is_whole(&jpeg(&[0x12, 0xFF, 0x00], false)));
        for length in 0..jpeg(&[1, 2], true).len() - 1 {
            assert!(!is_whole(&jpeg(&[1, 2], true)[..length]), "cut to {length}");
        }
        assert!(!is_whole(b"\xFF\xD8\xFF\xD9"));
        assert!(!is_whole(b"GIF89a"));
    }
}
