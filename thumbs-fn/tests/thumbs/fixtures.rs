//! Images made in code: a picture with a red marker in its top-left corner, in each format;
//! JPEGs carrying an EXIF orientation; an animated GIF; broken and hostile files.

use std::io::Cursor;

use image::codecs::gif::GifEncoder;
use image::{Delay, DynamicImage, Frame, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

pub const RED: Rgb<u8> = Rgb([230, 20, 20]);
pub const BLUE: Rgb<u8> = Rgb([20, 40, 220]);

/// `width` x `height`, blue, with a red marker over the top-left quarter of each side.
pub fn marked(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        if x < width / 4 && y < height / 4 {
            RED
        } else {
            BLUE
        }
    })
}

pub fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).expect("encode fixture");
    bytes.into_inner()
}

pub fn marked_as(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    encoded(&DynamicImage::ImageRgb8(marked(width, height)), format)
}

/// A JPEG of [`marked`] whose EXIF says `orientation` (1-8): an APP1 segment written by hand
/// right after SOI, a big-endian TIFF header and IFD0 with the one tag 0x0112.
pub fn jpeg_with_orientation(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let jpeg = marked_as(width, height, ImageFormat::Jpeg);
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // one value
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // the value field's padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let payload = [b"Exif\0\0".as_slice(), &tiff].concat();
    let length = u16::try_from(payload.len() + 2).unwrap();
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Two frames: red, then green. A thumbnail of the first is red.
pub fn animated_gif(width: u32, height: u32) -> Vec<u8> {
    let frame = |colour: [u8; 4]| {
        let pixels = RgbaImage::from_pixel(width, height, Rgba(colour));
        Frame::from_parts(pixels, 0, 0, Delay::from_numer_denom_ms(100, 1))
    };
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        let frames = [frame([230, 20, 20, 255]), frame([20, 200, 20, 255])];
        encoder.encode_frames(frames).expect("encode animated GIF");
    }
    bytes
}

/// A PNG whose header declares `width` x `height` RGBA, with one tiny IDAT and IEND: a
/// decompression bomb's header (40 GB decoded for 100,000 x 100,000) in 70 bytes.
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8 bits, RGBA, deflate, adaptive, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// PNG's CRC-32 (ISO 3309), bit by bit: fixtures are tiny.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// The colour nearest `pixel`: red or blue (JPEG blurs the edges, not the middles).
pub fn is_red(pixel: Rgb<u8>) -> bool {
    pixel[0] > 150 && pixel[2] < 110
}
