//! Packaging the function: building it for Lambda, bootstrap binary checks and the
//! deterministic zip.
//!
//! The zip is byte-identical for the same binary, so its SHA-256 equals the CodeSha256 Lambda
//! reports for deployed code and a redeploy of an unchanged binary can be skipped; the build
//! is reproducible too, so the same source gives the same zip on every machine.

pub mod build;
mod elf;
pub mod embedded;
pub mod hash_cache;
pub mod toolchain;

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipWriter};

pub use elf::{check_bootstrap, ElfInfo};

/// Amazon Linux 2023's glibc (the `provided.al2023` runtime): the newest the binary may need.
pub const MAX_GLIBC: (u32, u32) = (2, 34);

/// The one file a custom-runtime zip must hold; Lambda runs it.
const ENTRY_NAME: &str = "bootstrap";

const TARGET_HINT: &str = "pass the bootstrap built for x86_64-unknown-linux-gnu";

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("cannot read {path}: {reason}")]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    /// A check of the binary failed; says which file.
    #[error("{path}: {reason}")]
    Bootstrap {
        path: PathBuf,
        reason: Box<PackageError>,
    },
    #[error("the bootstrap file is empty; {TARGET_HINT}")]
    Empty,
    #[error("the bootstrap is not a Linux executable (ELF); {TARGET_HINT}")]
    NotElf,
    #[error("the bootstrap is a 32-bit ELF; Lambda needs a 64-bit binary: {TARGET_HINT}")]
    Not64Bit,
    #[error("the bootstrap is a big-endian ELF; {TARGET_HINT}")]
    BigEndian,
    #[error("the bootstrap is built for {arch}, but the function runs on x86_64; {TARGET_HINT}")]
    WrongArchitecture { arch: String },
    #[error(
        "the bootstrap is {kind}, not an executable; pass the linked binary (target/.../bootstrap)"
    )]
    NotExecutable { kind: String },
    #[error(
        "the bootstrap needs GLIBC_{major}.{minor}, but Lambda's provided.al2023 has glibc {}.{}; \
         rebuild with `cargo zigbuild --target x86_64-unknown-linux-gnu.2.34` (or pass such a --bootstrap)",
        MAX_GLIBC.0,
        MAX_GLIBC.1
    )]
    GlibcTooNew { major: u32, minor: u32 },
    #[error("the bootstrap is a damaged ELF file ({reason}); rebuild it")]
    Malformed { reason: String },
    #[error("cannot write the function zip: {reason}")]
    Zip { reason: String },
    #[error("cargo was not found; install Rust (https://rustup.rs) or pass --bootstrap PATH")]
    CargoNotFound,
    #[error(transparent)]
    Toolchain(#[from] toolchain::ToolchainError),
    #[error(
        "{tree} is not a catup checkout (no lambda-fn/ in it): pass --source DIR (a clone of \
         catup) or --bootstrap PATH (a bootstrap built for x86_64 Linux)"
    )]
    NoSourceTree { tree: PathBuf },
    #[error("cannot run cargo: {reason}")]
    CargoSpawn { reason: std::io::Error },
    #[error("building the function failed (cargo {status}); see cargo's output above")]
    BuildFailed { status: std::process::ExitStatus },
    #[error("cargo built lambda-fn but reported no `bootstrap` executable; pass --bootstrap PATH")]
    NoExecutable,
    #[error(
        "the function zip built into this catup is damaged ({reason}): reinstall catup, or pass \
         --source DIR (a catup checkout) or --bootstrap PATH"
    )]
    EmbeddedZip { reason: String },
}

/// Decides how to build lambda-fn from `tree` on this machine (a few short probes, no AWS
/// call): a missing tool fails here, with its install command, before anything else runs.
pub fn prepare_build(tree: &Path) -> Result<build::Build, PackageError> {
    prepare_build_of(tree, build::FunctionCrate::Upload)
}

/// [`prepare_build`] of either of the stack's functions.
pub fn prepare_build_of(
    tree: &Path,
    function: build::FunctionCrate,
) -> Result<build::Build, PackageError> {
    if !tree.join(function.package()).is_dir() {
        return Err(PackageError::NoSourceTree {
            tree: tree.to_owned(),
        });
    }
    let found = toolchain::probe(tree);
    let path = toolchain::choose(&toolchain::Host::current(), &found)?;
    Ok(build::Build::new(tree, path).of(function))
}

/// A checked, zipped bootstrap, ready for Lambda's `ZipFile`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// Empty in a package made only to compare (see [`compare_only`]).
    pub zip: Vec<u8>,
    /// Base64 SHA-256 of `zip`, comparable with the function's `CodeSha256`.
    pub code_sha256: String,
    pub zipped_bytes: u64,
    pub binary_bytes: u64,
    pub max_glibc: Option<(u32, u32)>,
}

impl Package {
    /// No package: `plan` of a function that does not exist yet compares no code.
    pub fn not_built() -> Package {
        Package {
            zip: Vec::new(),
            code_sha256: String::new(),
            zipped_bytes: 0,
            binary_bytes: 0,
            max_glibc: None,
        }
    }
}

/// Reads the file, checks it, zips it. Errors name the path.
pub fn package_file(path: &Path) -> Result<Package, PackageError> {
    let checked = check_file(path)?;
    package_checked(checked)
}

/// The package `catup dev` deploys to the emulator, which runs no code: a script that says
/// where the function really runs. Never deployed to AWS.
pub fn stub() -> Result<Package, PackageError> {
    let script = b"#!/bin/sh\necho 'this function runs inside catup dev, not here' >&2\nexit 1\n";
    let zip = zip_bootstrap(script)?;
    Ok(Package {
        code_sha256: code_sha256(&zip),
        zipped_bytes: zip.len() as u64,
        zip,
        binary_bytes: script.len() as u64,
        max_glibc: None,
    })
}

/// A bootstrap that passed `check_bootstrap`, not yet zipped.
#[derive(Clone, Debug)]
pub struct CheckedBinary {
    pub bytes: Vec<u8>,
    pub info: ElfInfo,
}

/// Reads and checks the binary (fast), so a bad one is refused before anything else runs.
pub fn check_file(path: &Path) -> Result<CheckedBinary, PackageError> {
    let bytes = std::fs::read(path).map_err(|reason| PackageError::Read {
        path: path.to_owned(),
        reason,
    })?;
    let info = check_bootstrap(&bytes).map_err(|reason| PackageError::Bootstrap {
        path: path.to_owned(),
        reason: Box::new(reason),
    })?;
    Ok(CheckedBinary { bytes, info })
}

/// Zips a checked binary (the slow part: deflating megabytes), and remembers the zip's hash.
pub fn package_checked(binary: CheckedBinary) -> Result<Package, PackageError> {
    let zip = zip_bootstrap(&binary.bytes)?;
    let package = Package {
        code_sha256: code_sha256(&zip),
        zipped_bytes: zip.len() as u64,
        zip,
        binary_bytes: binary.bytes.len() as u64,
        max_glibc: binary.info.max_glibc,
    };
    let remembered = hash_cache::Remembered {
        code_sha256: package.code_sha256.clone(),
        zipped_bytes: package.zipped_bytes,
    };
    hash_cache::record(&binary.bytes, &remembered);
    Ok(package)
}

/// The package's hash and size without its bytes, for `plan`: remembered from an earlier zip
/// of the same binary, or zipped now (and remembered).
pub fn compare_only(binary: CheckedBinary) -> Result<Package, PackageError> {
    let Some(remembered) = hash_cache::lookup(&binary.bytes) else {
        return package_checked(binary);
    };
    Ok(Package {
        zip: Vec::new(),
        code_sha256: remembered.code_sha256,
        zipped_bytes: remembered.zipped_bytes,
        binary_bytes: binary.bytes.len() as u64,
        max_glibc: binary.info.max_glibc,
    })
}

/// Deterministic zip: one entry named exactly `bootstrap`, unix mode 0o755 (regular file),
/// deflate, fixed timestamp (1980-01-01 00:00:00, zip's epoch), no extra fields that vary
/// between runs, so the same binary always gives byte-identical zip bytes and the same SHA-256.
pub fn zip_bootstrap(bytes: &[u8]) -> Result<Vec<u8>, PackageError> {
    let zip_error = |e: &dyn std::fmt::Display| PackageError::Zip {
        reason: e.to_string(),
    };
    // Every field pinned: the defaults follow the clock and the host OS.
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        // Level 6 deflates the 8 MB bootstrap about 3x faster than 9 for a zip 0.5% larger;
        // the zip is made on every deploy (its SHA-256 decides whether code is uploaded).
        .compression_level(Some(6))
        .last_modified_time(DateTime::default())
        .system(System::Unix)
        .unix_permissions(0o755);
    let mut writer = ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len() / 2)));
    writer
        .start_file(ENTRY_NAME, options)
        .map_err(|e| zip_error(&e))?;
    writer.write_all(bytes).map_err(|e| zip_error(&e))?;
    let cursor = writer.finish().map_err(|e| zip_error(&e))?;
    Ok(cursor.into_inner())
}

/// What Lambda reports as CodeSha256: base64 (standard, padded) of the SHA-256 of the zip bytes.
pub fn code_sha256(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use catup_testkit::elf::{build, ElfSpec};

    use super::*;

    fn read_back(zip: &[u8]) -> (String, Option<u32>, CompressionMethod, Vec<u8>, usize) {
        let mut archive = zip::ZipArchive::new(Cursor::new(zip)).expect("zip reads back");
        let count = archive.len();
        let mut entry = archive.by_index(0).expect("first entry");
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("entry content");
        (
            String::from_utf8(entry.name_raw().to_vec()).expect("UTF-8 name"),
            entry.unix_mode(),
            entry.compression(),
            content,
            count,
        )
    }

    #[test]
    fn zip_is_deterministic() {
        let binary = build(&ElfSpec::x86_64_needing(&[(2, 17)]));
        let first = zip_bootstrap(&binary).unwrap();
        let second = zip_bootstrap(&binary).unwrap();
        assert_eq!(first, second);
        assert_eq!(code_sha256(&first), code_sha256(&second));
    }

    #[test]
    fn zip_holds_one_executable_bootstrap() {
        let binary = build(&ElfSpec::x86_64_needing(&[(2, 17)]));
        let zip = zip_bootstrap(&binary).unwrap();
        let (name, mode, method, content, count) = read_back(&zip);
        assert_eq!(count, 1);
        assert_eq!(name, "bootstrap");
        // zip 9 reports the full st_mode: regular file (0o100000) plus rwxr-xr-x.
        assert_eq!(mode, Some(0o100_755));
        assert_eq!(method, CompressionMethod::Deflated);
        assert_eq!(content, binary);
    }

    #[test]
    fn zip_has_fixed_timestamp_and_no_extra_fields() {
        let zip = zip_bootstrap(b"some binary").unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(&zip[..])).unwrap();
        let entry = archive.by_index(0).unwrap();
        assert_eq!(entry.last_modified(), Some(DateTime::default()));
        assert_eq!(entry.extra_data_fields().count(), 0);
        // Raw headers too: the local header's extra length (offset 28) and the central
        // directory's (offset 30) are zero, so nothing such as a timestamp field sneaks in.
        assert_eq!(&zip[..4], b"PK\x03\x04");
        assert_eq!(u16::from_le_bytes([zip[28], zip[29]]), 0);
        let central = zip
            .windows(4)
            .position(|w| w == b"PK\x01\x02")
            .expect("central directory header");
        assert_eq!(
            u16::from_le_bytes([zip[central + 30], zip[central + 31]]),
            0
        );
    }

    #[test]
    fn different_input_gives_different_sha() {
        let a = zip_bootstrap(b"binary one").unwrap();
        let b = zip_bootstrap(b"binary two").unwrap();
        assert_ne!(code_sha256(&a), code_sha256(&b));
    }

    #[test]
    fn code_sha256_matches_known_vector() {
        // SHA-256("abc") from FIPS 180-2, base64 encoded.
        assert_eq!(
            code_sha256(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn package_file_checks_and_zips() {
        let dir = std::env::temp_dir().join(format!("catup-package-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bootstrap");
        let binary = build(&ElfSpec::x86_64_needing(&[(2, 17), (2, 28)]));
        std::fs::write(&path, &binary).unwrap();
        let package = package_file(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(package.binary_bytes, binary.len() as u64);
        assert_eq!(package.max_glibc, Some((2, 28)));
        assert_eq!(package.zip, zip_bootstrap(&binary).unwrap());
        assert_eq!(package.code_sha256, code_sha256(&package.zip));
    }

    #[test]
    fn package_file_names_a_missing_path() {
        let path = Path::new("/nonexistent/catup-test/bootstrap");
        let err = package_file(path).unwrap_err();
        assert!(matches!(err, PackageError::Read { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("/nonexistent/catup-test/bootstrap"),
            "{err}"
        );
    }

    #[test]
    fn package_file_names_the_path_of_a_bad_binary() {
        let dir = std::env::temp_dir().join(format!("catup-package-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bootstrap");
        std::fs::write(&path, "#!/bin/sh\necho hi\n").unwrap();
        let err = package_file(&path).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        let message = err.to_string();
        assert!(message.contains(&*path.to_string_lossy()), "{message}");
        assert!(
            message.contains("not a Linux executable (ELF)"),
            "{message}"
        );
    }
}
