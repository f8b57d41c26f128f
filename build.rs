//! Embeds the function's zip, and the site beside it, when `CATUP_FUNCTION_ZIP` names the zip
//! (scripts/package, the release workflow): such a catup deploys with no Rust toolchain. Without
//! the variable nothing is embedded and catup builds the function from source, as before.
//!
//! Always writes `function.zip` (empty when nothing is embedded) and `site.rs` to OUT_DIR, so
//! src/package/embedded.rs compiles the same way in both cases.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const ZIP_ENV: &str = "CATUP_FUNCTION_ZIP";
/// The thumbnail function's zip (`catup package --function thumbs`), carried beside it.
const THUMBS_ENV: &str = "CATUP_THUMBS_ZIP";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed={ZIP_ENV}");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    let given = std::env::var_os(ZIP_ENV).filter(|v| !v.is_empty());
    let (zip, site, carried) = match given {
        None => (
            Vec::new(),
            Vec::new(),
            "builds its function from source".to_owned(),
        ),
        Some(path) => {
            let zip = checked_zip(ZIP_ENV, &PathBuf::from(path));
            let sha256 = hex(&Sha256::digest(&zip));
            println!("cargo::rustc-env=CATUP_FUNCTION_SHA256={sha256}");
            let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it");
            let frontend = Path::new(&manifest).join("frontend");
            println!("cargo::rerun-if-changed={}", frontend.display());
            (zip, site_files(&frontend), format!("function {sha256}"))
        }
    };
    std::fs::write(out.join("function.zip"), zip).expect("write function.zip to OUT_DIR");
    let thumbs = thumbs_zip();
    let thumbs_said = match thumbs.is_empty() {
        true => String::new(),
        false => format!(" + thumbnail function {}", hex(&Sha256::digest(&thumbs))),
    };
    std::fs::write(out.join("thumbs.zip"), thumbs).expect("write thumbs.zip to OUT_DIR");
    std::fs::write(out.join("site.rs"), site_source(&site)).expect("write site.rs to OUT_DIR");
    println!("cargo::rustc-env=CATUP_LONG_VERSION={version} ({carried}){thumbs_said}");
}

/// The thumbnail function's zip when `CATUP_THUMBS_ZIP` names one (checked as the function's
/// is), else nothing.
fn thumbs_zip() -> Vec<u8> {
    println!("cargo::rerun-if-env-changed={THUMBS_ENV}");
    let Some(path) = std::env::var_os(THUMBS_ENV).filter(|v| !v.is_empty()) else {
        return Vec::new();
    };
    let zip = checked_zip(THUMBS_ENV, &PathBuf::from(path));
    println!(
        "cargo::rustc-env=CATUP_THUMBS_SHA256={}",
        hex(&Sha256::digest(&zip))
    );
    zip
}

/// The zip `env` names, read and checked (a build with a damaged one fails here).
fn checked_zip(env: &str, path: &Path) -> Vec<u8> {
    println!("cargo::rerun-if-changed={}", path.display());
    let zip = std::fs::read(path)
        .unwrap_or_else(|e| panic!("{env}={}: cannot read it: {e}", path.display()));
    if let Err(why) = check_zip(&zip) {
        panic!("{env}={}: {why}", path.display());
    }
    zip
}

/// What Lambda's custom runtime needs and catup's zip is: one entry named `bootstrap`, a
/// regular file with mode 0755 recorded as made on Unix. Read from the central directory,
/// which is all the check needs (the ELF inside was checked when `catup package` zipped it).
fn check_zip(zip: &[u8]) -> Result<(), String> {
    let u16_at = |at: usize| {
        zip.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        zip.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    // End of central directory: the last 22 bytes, as catup's zips carry no comment.
    let end = zip
        .len()
        .checked_sub(22)
        .filter(|&at| zip[at..].starts_with(b"PK\x05\x06"));
    let end = end.ok_or("not a zip written by `catup package` (no end record at its end)")?;
    let entries = u16_at(end + 10).unwrap_or(0);
    if entries != 1 {
        return Err(format!(
            "{entries} entries; the function's zip holds one `bootstrap`"
        ));
    }
    let central = u32_at(end + 16).unwrap_or(u32::MAX) as usize;
    if !zip
        .get(central..)
        .is_some_and(|c| c.starts_with(b"PK\x01\x02"))
    {
        return Err("damaged zip: no central directory where its end record says".into());
    }
    let name_len = u16_at(central + 28).unwrap_or(0) as usize;
    let name = zip
        .get(central + 46..central + 46 + name_len)
        .unwrap_or_default();
    if name != b"bootstrap" {
        return Err(format!(
            "its entry is {:?}, not `bootstrap`",
            String::from_utf8_lossy(name)
        ));
    }
    let made_on_unix = zip.get(central + 5) == Some(&3);
    let mode = u32_at(central + 38).unwrap_or(0) >> 16;
    if !made_on_unix || mode != 0o100_755 {
        return Err(format!(
            "`bootstrap` has mode {mode:o}, not a regular file with 0755"
        ));
    }
    Ok(())
}

/// The site's files by key, as catup would upload them from the folder: hidden names and
/// config.js (written at deploy time) are left out.
fn site_files(root: &Path) -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, prefix: &str, files: &mut Vec<(String, PathBuf)>) {
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read the site's folder {}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.expect("read the site's folder");
            let name = entry.file_name().into_string().expect("UTF-8 file names");
            let path = entry.path();
            if name.starts_with('.') {
                continue;
            }
            let key = format!("{prefix}{name}");
            if path.is_dir() {
                walk(&path, &format!("{key}/"), files);
            } else if key != "config.js" {
                files.push((key, path));
            }
        }
    }
    let mut files = Vec::new();
    walk(root, "", &mut files);
    files.sort();
    assert!(
        files.iter().any(|(key, _)| key == "index.html"),
        "{} has no index.html",
        root.display()
    );
    files
}

fn site_source(files: &[(String, PathBuf)]) -> String {
    let mut source = String::from("/// The site's files a release catup carries: (key, bytes).\n");
    source.push_str("pub const SITE: &[(&str, &[u8])] = &[\n");
    for (key, path) in files {
        let path = path.to_str().expect("a UTF-8 path");
        writeln!(source, "    ({key:?}, include_bytes!({path:?})),").unwrap();
    }
    source.push_str("];\n");
    source
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
