//! Object keys chosen by the server, and the gallery's paging cursor.
//!
//! A key is `images/<inverted ms timestamp>-<uuid v4>.<ext>`. The inverted, zero-padded
//! timestamp makes S3's lexicographic listing newest-first, so one ListObjectsV2 page is the
//! newest page however many images the bucket holds; the UUID makes the key unguessable.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use crate::content_type::ImageType;

pub const IMAGES_PREFIX: &str = "images/";

/// Where the thumbnail function writes each image's thumbnail, under the same name.
pub const THUMBS_PREFIX: &str = "thumbs/";

/// `thumbs/NAME` for `images/NAME`.
pub fn thumbnail_key(image_key: &str) -> Option<String> {
    let name = image_key.strip_prefix(IMAGES_PREFIX)?;
    Some(format!("{THUMBS_PREFIX}{name}"))
}

/// Larger than any millisecond timestamp until the year 2286, and 13 digits wide.
const INVERSION_BASE: u64 = 9_999_999_999_999;

/// A fresh key for an upload made at `now_ms` (Unix milliseconds).
pub fn new_image_key(image_type: ImageType, now_ms: u64, id: Uuid) -> String {
    let inverted = INVERSION_BASE.saturating_sub(now_ms);
    format!(
        "{IMAGES_PREFIX}{inverted:013}-{id}.{}",
        image_type.extension()
    )
}

/// The opaque cursor for the page that follows `last_key`.
pub fn encode_cursor(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_key)
}

/// The key a cursor continues after; `None` when the cursor was not made by [`encode_cursor`]
/// for a key under `images/`.
pub fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let key = String::from_utf8(bytes).ok()?;
    key.starts_with(IMAGES_PREFIX).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> ImageType {
        ImageType::parse("image/png").unwrap()
    }

    #[test]
    fn key_is_prefixed_unguessable_and_typed() {
        let id = Uuid::new_v4();
        let key = new_image_key(png(), 1_764_000_000_000, id);
        assert_eq!(key, format!("images/8235999999999-{id}.png"));
    }

    #[test]
    fn newer_keys_sort_first() {
        let id = Uuid::nil();
        let older = new_image_key(png(), 1_000, id);
        let newer = new_image_key(png(), 1_001, id);
        let much_newer = new_image_key(png(), 1_764_000_000_000, id);
        assert!(newer < older);
        assert!(much_newer < newer);
    }

    #[test]
    fn cursor_round_trips_and_rejects_foreign_values() {
        let key = "images/8235999999999-abc.png";
        assert_eq!(decode_cursor(&encode_cursor(key)).as_deref(), Some(key));
        assert_eq!(decode_cursor(&encode_cursor("secrets/x")), None);
        assert_eq!(decode_cursor("!!not base64!!"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode([0xff, 0xfe])), None);
    }
}
