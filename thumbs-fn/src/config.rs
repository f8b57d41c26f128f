//! The function's settings, read once at init from its environment.

use thiserror::Error;

/// The longest side of a thumbnail unless `THUMB_MAX_SIDE` says otherwise.
pub const DEFAULT_MAX_SIDE: u32 = 400;
/// Outside Lambda (tests, `catup dev`) the decoded image may take this much memory.
pub const DEFAULT_MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The longest side of a thumbnail, in pixels; smaller images keep their size.
    pub max_side: u32,
    /// The most memory one decoded image may take; a larger one is refused from its header.
    pub max_decoded_bytes: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_side: DEFAULT_MAX_SIDE,
            max_decoded_bytes: DEFAULT_MAX_DECODED_BYTES,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("THUMB_MAX_SIDE must be a whole number of pixels from 1 to 4096, got {0:?}")]
    BadMaxSide(String),
    #[error("THUMB_MAX_DECODED_BYTES must be a whole number of bytes of at least 1, got {0:?}")]
    BadBudget(String),
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// `THUMB_MAX_SIDE`; `THUMB_MAX_DECODED_BYTES`, else half the function's memory
    /// (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, MB: the other half holds the original's bytes, the
    /// thumbnail and the runtime), else [`DEFAULT_MAX_DECODED_BYTES`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let number = |raw: &str| raw.trim().parse::<u64>().ok();
        let max_side = match lookup("THUMB_MAX_SIDE") {
            None => DEFAULT_MAX_SIDE,
            Some(raw) => number(&raw)
                .filter(|side| (1..=4096).contains(side))
                .map(|side| side as u32)
                .ok_or(ConfigError::BadMaxSide(raw))?,
        };
        let from_memory = lookup("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
            .and_then(|mb| number(&mb))
            .map(|mb| mb * MIB / 2);
        let max_decoded_bytes = match lookup("THUMB_MAX_DECODED_BYTES") {
            None => from_memory.unwrap_or(DEFAULT_MAX_DECODED_BYTES),
            Some(raw) => number(&raw)
                .filter(|bytes| *bytes >= 1)
                .ok_or(ConfigError::BadBudget(raw))?,
        };
        Ok(Config {
            max_side,
            max_decoded_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_without_settings() {
        assert_eq!(config(&[]), Ok(Config::default()));
    }

    #[test]
    fn the_budget_is_half_the_functions_memory_unless_set() {
        let in_lambda = config(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")]).unwrap();
        assert_eq!(in_lambda.max_decoded_bytes, 512 * MIB);
        let set = config(&[
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"),
            ("THUMB_MAX_DECODED_BYTES", "1000"),
            ("THUMB_MAX_SIDE", "200"),
        ]);
        assert_eq!(
            set,
            Ok(Config {
                max_side: 200,
                max_decoded_bytes: 1000
            })
        );
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        for side in ["0", "4097", "x", "-1"] {
            let error = config(&[("THUMB_MAX_SIDE", side)]).unwrap_err();
            assert_eq!(error, ConfigError::BadMaxSide(side.into()));
        }
        let error = config(&[("THUMB_MAX_DECODED_BYTES", "0")]).unwrap_err();
        assert!(error.to_string().contains("THUMB_MAX_DECODED_BYTES"));
    }
}
