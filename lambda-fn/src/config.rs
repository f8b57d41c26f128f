//! The function's settings, read once at init from its environment.

use thiserror::Error;

pub const DEFAULT_URL_TTL_SECONDS: u32 = 300;
/// Presigned URLs live at most 15 minutes: long enough for a slow upload, short enough
/// that a leaked gallery link dies soon.
pub const MAX_URL_TTL_SECONDS: u32 = 900;
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;
/// The most images a `MAX_IMAGES` cap may allow: one listing page counts them.
pub const MAX_IMAGES_CAP: u32 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub images_bucket: String,
    pub url_ttl_seconds: u32,
    pub max_upload_bytes: u64,
    /// POST is refused once the bucket holds this many images (`MAX_IMAGES`; none: no cap).
    pub max_images: Option<u32>,
    /// The stack makes thumbnails (`THUMBNAILS=1`): the gallery then says `"thumbUrl": null`
    /// of an image whose thumbnail is not made yet, so clients know one is coming.
    pub thumbnails: bool,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("IMAGES_BUCKET is not set: set it to the name of the private images bucket")]
    MissingBucket,
    #[error("URL_TTL_SECONDS must be a whole number from 1 to {MAX_URL_TTL_SECONDS}, got {0:?}")]
    BadTtl(String),
    #[error("MAX_UPLOAD_BYTES must be a whole number of bytes of at least 1, got {0:?}")]
    BadMaxUpload(String),
    #[error("MAX_IMAGES must be a whole number from 1 to {MAX_IMAGES_CAP}, got {0:?}")]
    BadMaxImages(String),
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let images_bucket = lookup("IMAGES_BUCKET")
            .map(|b| b.trim().to_owned())
            .filter(|b| !b.is_empty())
            .ok_or(ConfigError::MissingBucket)?;
        let url_ttl_seconds = match lookup("URL_TTL_SECONDS") {
            None => DEFAULT_URL_TTL_SECONDS,
            Some(raw) => raw
                .trim()
                .parse()
                .ok()
                .filter(|ttl| (1..=MAX_URL_TTL_SECONDS).contains(ttl))
                .ok_or(ConfigError::BadTtl(raw))?,
        };
        let max_upload_bytes = match lookup("MAX_UPLOAD_BYTES") {
            None => DEFAULT_MAX_UPLOAD_BYTES,
            Some(raw) => raw
                .trim()
                .parse()
                .ok()
                .filter(|max| *max >= 1)
                .ok_or(ConfigError::BadMaxUpload(raw))?,
        };
        let max_images = match lookup("MAX_IMAGES") {
            None => None,
            Some(raw) => Some(
                raw.trim()
                    .parse()
                    .ok()
                    .filter(|max| (1..=MAX_IMAGES_CAP).contains(max))
                    .ok_or(ConfigError::BadMaxImages(raw))?,
            ),
        };
        Ok(Config {
            images_bucket,
            url_ttl_seconds,
            max_upload_bytes,
            max_images,
            thumbnails: lookup("THUMBNAILS").is_some_and(|v| v.trim() == "1"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_apply_when_only_the_bucket_is_set() {
        assert_eq!(
            config(&[("IMAGES_BUCKET", "imgs")]),
            Ok(Config {
                images_bucket: "imgs".into(),
                url_ttl_seconds: 300,
                max_upload_bytes: 10 * 1024 * 1024,
                max_images: None,
                thumbnails: false,
            })
        );
    }

    #[test]
    fn missing_or_blank_bucket_is_a_clear_error() {
        assert_eq!(config(&[]), Err(ConfigError::MissingBucket));
        assert_eq!(
            config(&[("IMAGES_BUCKET", "  ")]),
            Err(ConfigError::MissingBucket)
        );
        assert!(ConfigError::MissingBucket
            .to_string()
            .contains("IMAGES_BUCKET"));
    }

    #[test]
    fn max_images_is_a_whole_number_up_to_one_listing_page() {
        let ok = config(&[("IMAGES_BUCKET", "b"), ("MAX_IMAGES", "1000")]).unwrap();
        assert_eq!(ok.max_images, Some(1000));
        for bad in ["0", "1001", "-1", "many", ""] {
            assert_eq!(
                config(&[("IMAGES_BUCKET", "b"), ("MAX_IMAGES", bad)]),
                Err(ConfigError::BadMaxImages(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn ttl_is_bounded_to_fifteen_minutes() {
        let ok = config(&[("IMAGES_BUCKET", "b"), ("URL_TTL_SECONDS", "900")]).unwrap();
        assert_eq!(ok.url_ttl_seconds, 900);
        for bad in ["0", "901", "-5", "abc", ""] {
            assert_eq!(
                config(&[("IMAGES_BUCKET", "b"), ("URL_TTL_SECONDS", bad)]),
                Err(ConfigError::BadTtl(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn max_upload_must_be_positive() {
        let ok = config(&[("IMAGES_BUCKET", "b"), ("MAX_UPLOAD_BYTES", "42")]).unwrap();
        assert_eq!(ok.max_upload_bytes, 42);
        for bad in ["0", "-1", "ten"] {
            assert_eq!(
                config(&[("IMAGES_BUCKET", "b"), ("MAX_UPLOAD_BYTES", bad)]),
                Err(ConfigError::BadMaxUpload(bad.into()))
            );
        }
    }
}
