//! The function a release catup carries, embedded by build.rs from `CATUP_FUNCTION_ZIP`
//! (scripts/package, the release workflow), and the site beside it: an installed catup has no
//! checkout to read `lambda-fn/` or `frontend/` from. A plain `cargo build` carries neither.

use std::io::Cursor;

use base64::Engine as _;

use super::{code_sha256, Package, PackageError, ENTRY_NAME};
use crate::resources::site_files::{cache_control, SiteFile};

/// The zip `catup package` wrote; empty when nothing was embedded.
const ZIP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/function.zip"));

// `SITE`: (key, bytes) of frontend/ at build time; empty when nothing was embedded.
include!(concat!(env!("OUT_DIR"), "/site.rs"));

/// Hex SHA-256 of the embedded zip, computed at build time (`catup --version` prints it).
pub const SHA256_HEX: Option<&str> = option_env!("CATUP_FUNCTION_SHA256");

/// The thumbnail function's zip (`CATUP_THUMBS_ZIP`); empty when nothing was embedded.
const THUMBS_ZIP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/thumbs.zip"));
pub const THUMBS_SHA256_HEX: Option<&str> = option_env!("CATUP_THUMBS_SHA256");

/// Whether this catup carries the thumbnail function too.
pub fn carries_thumbs() -> bool {
    !THUMBS_ZIP.is_empty()
}

/// The carried thumbnail function (call only when [`carries_thumbs`]).
pub fn thumbs() -> Result<Package, PackageError> {
    carried(THUMBS_ZIP, THUMBS_SHA256_HEX)
}

/// Whether this catup was built with a function to ship.
pub fn carries_function() -> bool {
    !ZIP.is_empty()
}

/// The carried function, ready to deploy (call only when [`carries_function`]).
pub fn function() -> Result<Package, PackageError> {
    carried(ZIP, SHA256_HEX)
}

fn carried(zip: &[u8], sha256_hex: Option<&str>) -> Result<Package, PackageError> {
    let binary_bytes = check_zip(zip)?;
    // Hashed at build time: a debug catup would spend a noticeable moment hashing megabytes.
    let code_sha256 = match sha256_hex.and_then(|h| hex::decode(h).ok()) {
        Some(digest) => base64::engine::general_purpose::STANDARD.encode(digest),
        None => code_sha256(zip),
    };
    Ok(Package {
        zip: zip.to_vec(),
        code_sha256,
        zipped_bytes: zip.len() as u64,
        binary_bytes,
        // Checked when `catup package` zipped it; not inflated again on every deploy.
        max_glibc: None,
    })
}

/// The carried site's files, as `frontend_files::load` would give them; `None` when nothing
/// is carried.
pub fn site() -> Option<Vec<SiteFile>> {
    if !carries_function() {
        return None;
    }
    let files = SITE.iter().map(|(key, body)| {
        let key = (*key).to_owned();
        let cache = cache_control(&key);
        SiteFile::new(key, body.to_vec(), cache)
    });
    Some(files.collect())
}

/// build.rs checked the zip already; this catches a damaged binary with a clear error rather
/// than a function Lambda cannot start. Reads the central directory only (no inflating).
/// Returns the bootstrap's unzipped size.
fn check_zip(zip: &[u8]) -> Result<u64, PackageError> {
    let damaged = |reason: String| PackageError::EmbeddedZip { reason };
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|e| damaged(e.to_string()))?;
    if archive.len() != 1 {
        return Err(damaged(format!("{} entries, not one", archive.len())));
    }
    let entry = archive
        .by_index_raw(0)
        .map_err(|e| damaged(e.to_string()))?;
    if entry.name_raw() != ENTRY_NAME.as_bytes() {
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        return Err(damaged(format!("its entry is {name:?}, not {ENTRY_NAME}")));
    }
    match entry.unix_mode() {
        Some(0o100_755) => Ok(entry.size()),
        mode => {
            let mode = mode.map_or("none".to_owned(), |m| format!("{m:o}"));
            let why = format!("{ENTRY_NAME} has mode {mode}, not a regular file with 0755");
            Err(damaged(why))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use zip::write::SimpleFileOptions;

    use super::*;
    use crate::package::zip_bootstrap;

    #[test]
    fn a_zip_from_catup_package_passes_and_gives_the_bootstrap_size() {
        let zip = zip_bootstrap(b"an executable").unwrap();
        assert_eq!(check_zip(&zip).unwrap(), 13);
    }

    fn zip_of(entries: &[(&str, u32)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, mode) in entries {
            let options = SimpleFileOptions::default().unix_permissions(*mode);
            writer.start_file(*name, options).unwrap();
            writer.write_all(b"x").unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn anything_else_is_refused_saying_what_is_wrong() {
        for (zip, said) in [
            (b"not a zip".to_vec(), "damaged"),
            (zip_of(&[("bootstrap", 0o755), ("x", 0o644)]), "2 entries"),
            (zip_of(&[("main", 0o755)]), "\"main\", not bootstrap"),
            (zip_of(&[("bootstrap", 0o644)]), "mode"),
        ] {
            let message = check_zip(&zip).unwrap_err().to_string();
            assert!(message.contains(said), "{said:?} in {message}");
            assert!(message.contains("--source DIR"), "{message}");
        }
    }

    #[test]
    fn a_plain_build_carries_nothing() {
        // The test build is a plain one: no CATUP_FUNCTION_ZIP.
        if option_env!("CATUP_FUNCTION_SHA256").is_none() {
            assert!(!carries_function());
            assert!(site().is_none());
        }
    }
}
