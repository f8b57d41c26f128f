//! The zip's SHA-256 remembered per binary, so that `plan` compares the function's code
//! without deflating megabytes again: deploy records what it zipped, plan looks it up. The
//! zip is deterministic, so the binary's own SHA-256 decides. Kept under the user's cache
//! folder (never a shared temporary one, where another user could plant a wrong answer);
//! without one, nothing is remembered.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// Changes whenever the zip's bytes would (entry name, mode, time, deflate level).
const ZIP_FORMAT: &str = "bootstrap-0755-1980-deflate6";

/// What was remembered of one binary's zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    pub code_sha256: String,
    pub zipped_bytes: u64,
}

fn folder() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("catup").join("zip-sha256"))
}

fn key(binary: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(ZIP_FORMAT.as_bytes());
    hasher.update(binary);
    hex::encode(hasher.finalize())
}

/// The remembered zip of this binary, if any.
pub fn lookup(binary: &[u8]) -> Option<Remembered> {
    let text = std::fs::read_to_string(folder()?.join(key(binary))).ok()?;
    let (code_sha256, zipped_bytes) = text.trim().split_once(' ')?;
    Some(Remembered {
        code_sha256: code_sha256.to_owned(),
        zipped_bytes: zipped_bytes.parse().ok()?,
    })
}

/// Remembers a zip; best effort (a read-only home only means plan zips again).
pub fn record(binary: &[u8], remembered: &Remembered) {
    let Some(folder) = folder() else { return };
    let path = folder.join(key(binary));
    let partial = path.with_extension(format!("{}.part", std::process::id()));
    let text = format!("{} {}\n", remembered.code_sha256, remembered.zipped_bytes);
    // Written aside, then renamed: a reader never sees half a line.
    let _ = std::fs::create_dir_all(&folder)
        .and_then(|()| std::fs::write(&partial, text))
        .and_then(|()| std::fs::rename(&partial, &path));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_binary_and_the_zip_format() {
        assert_eq!(key(b"abc"), key(b"abc"));
        assert_ne!(key(b"abc"), key(b"abd"));
        assert_eq!(key(b"abc").len(), 64);
    }
}
