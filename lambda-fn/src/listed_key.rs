//! Keys as S3 listings send them. Every ListObjectsV2 / ListObjectVersions asks for
//! `encoding-type=url`: without it S3 puts a key's raw characters into its XML answer, and a
//! key with a control character (U+0001, which anyone may upload) makes that XML 1.0
//! document unreadable, so one object would break every listing of its bucket. With it, S3
//! sends keys (and prefixes, markers) percent-encoded, a space as `+` as in a form, and says
//! so with `<EncodingType>url</EncodingType>`; an answer without it (an emulator that ignores
//! the parameter) has its keys raw.

use aws_sdk_s3::types::EncodingType;
use thiserror::Error;

/// What every listing asks for.
pub const LISTING_ENCODING: EncodingType = EncodingType::Url;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("S3 listed the key {listed:?}, which does not decode to UTF-8 text")]
pub struct UndecodableKey {
    pub listed: String,
}

/// The key itself, from a key (or prefix, or marker) of a listing answered with `encoding`.
pub fn decode(encoding: Option<&EncodingType>, listed: &str) -> Result<String, UndecodableKey> {
    if encoding != Some(&EncodingType::Url) {
        return Ok(listed.to_owned());
    }
    let spaced = listed.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|key| key.into_owned())
        .map_err(|_| UndecodableKey {
            listed: listed.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_keys_decode_to_the_key_itself() {
        let url = Some(&EncodingType::Url);
        for (listed, key) in [
            ("images/cat.png", "images/cat.png"),
            ("images/%01x.png", "images/\u{1}x.png"),
            ("a+b%2Bc%2541", "a b+c%41"),
            ("sp%20ace", "sp ace"),
            ("new%0Aline%0D", "new\nline\r"),
            ("caf%C3%A9", "café"),
        ] {
            assert_eq!(decode(url, listed).as_deref(), Ok(key), "{listed}");
        }
        assert!(decode(url, "bad%FF").is_err());
    }

    #[test]
    fn an_answer_that_was_not_encoded_is_taken_as_it_is() {
        assert_eq!(decode(None, "a+b%41").as_deref(), Ok("a+b%41"));
    }
}
