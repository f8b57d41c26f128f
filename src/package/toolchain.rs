//! Which way lambda-fn can be built on this machine, decided before any AWS call.
//!
//! Lambda runs x86_64 Linux with glibc 2.34. cargo-zigbuild (zig as linker) builds exactly
//! that from any host, so it is the one build path; a plain cargo build is a fallback only on
//! an x86_64 Linux host, and only when zig is missing.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

/// The Rust target of Lambda's x86_64 functions.
pub const LAMBDA_TARGET: &str = "x86_64-unknown-linux-gnu";
/// The same target with glibc pinned to provided.al2023's 2.34 (cargo-zigbuild's syntax).
pub const ZIG_TARGET: &str = "x86_64-unknown-linux-gnu.2.34";
/// Pretend to run on another host (`<os>-<arch>`, e.g. `macos-aarch64`): how the tests check
/// what a Mac or an arm64 laptop is told, on the Linux machine they run on.
pub const HOST_OVERRIDE_ENV: &str = "CATUP_BUILD_HOST";

/// The machine catup runs on, as Rust names it (`std::env::consts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub os: String,
    pub arch: String,
}

impl Host {
    pub fn current() -> Host {
        let overridden = std::env::var(HOST_OVERRIDE_ENV).ok();
        let parsed = overridden.as_deref().and_then(|v| v.split_once('-'));
        match parsed {
            Some((os, arch)) => Host {
                os: os.to_owned(),
                arch: arch.to_owned(),
            },
            None => Host {
                os: std::env::consts::OS.to_owned(),
                arch: std::env::consts::ARCH.to_owned(),
            },
        }
    }

    /// A plain `cargo build` here makes an x86_64 Linux binary (its glibc is still checked).
    pub fn builds_lambda_natively(&self) -> bool {
        self.os == "linux" && self.arch == "x86_64"
    }
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.os, self.arch)
    }
}

/// A tool the build needs, with the exact command that installs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    #[error("cargo is not installed: install Rust from https://rustup.rs")]
    Cargo,
    #[error("rustup has no default toolchain, so cargo does not run: rustup default stable")]
    RustupDefault,
    #[error("cargo-zigbuild is not installed: pip install cargo-zigbuild (it brings zig)")]
    CargoZigbuild,
    #[error("zig is not installed: pip install ziglang")]
    Zig,
    #[error("the Rust target {LAMBDA_TARGET} is not installed: rustup target add {LAMBDA_TARGET}")]
    Target,
}

/// What the probes found on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub cargo: bool,
    /// rustup is installed but has no default toolchain (cargo's shim then fails).
    pub rustup_without_default: bool,
    pub cargo_zigbuild: bool,
    pub zig: bool,
    pub lambda_target: bool,
}

/// How the function will be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildPath {
    /// `cargo zigbuild --target x86_64-unknown-linux-gnu.2.34`: the same bytes on every host.
    Zig,
    /// `cargo build --target x86_64-unknown-linux-gnu` with the host's linker, because the
    /// zig toolchain lacks `missing`.
    Native { missing: Missing },
}

impl BuildPath {
    /// The progress line's account of the path and why it was taken.
    pub fn describe(&self) -> String {
        match self {
            BuildPath::Zig => format!(
                "with cargo-zigbuild for {ZIG_TARGET} (x86_64 Linux, glibc 2.34 like Lambda's \
                 provided.al2023; the same zip from any machine)"
            ),
            BuildPath::Native { missing } => format!(
                "natively with cargo build for {LAMBDA_TARGET}, because {missing}; the binary \
                 then links this host's glibc and is not reproducible elsewhere"
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot build the function for Lambda on this {host} machine: {missing}, or pass --bootstrap PATH")]
pub struct ToolchainError {
    pub host: Host,
    pub missing: Missing,
}

/// The build path for `host` given what is installed; pure, so every host is table-tested.
pub fn choose(host: &Host, found: &Found) -> Result<BuildPath, ToolchainError> {
    let refuse = |missing| ToolchainError {
        host: host.clone(),
        missing,
    };
    if found.rustup_without_default {
        return Err(refuse(Missing::RustupDefault));
    }
    if !found.cargo {
        return Err(refuse(Missing::Cargo));
    }
    // The Rust target is needed by both paths (on x86_64 Linux it is the host's own).
    if !found.lambda_target {
        return Err(refuse(Missing::Target));
    }
    let zig_missing = if !found.cargo_zigbuild {
        Some(Missing::CargoZigbuild)
    } else if !found.zig {
        Some(Missing::Zig)
    } else {
        None
    };
    match zig_missing {
        None => Ok(BuildPath::Zig),
        Some(missing) if host.builds_lambda_natively() => Ok(BuildPath::Native { missing }),
        Some(missing) => Err(refuse(missing)),
    }
}

/// Looks for each tool the way cargo and cargo-zigbuild do, from the source tree (so a
/// rust-toolchain file there is honoured). Each probe is one short process.
pub fn probe(tree: &Path) -> Found {
    let runs = |program: OsString, args: &[&str]| {
        Command::new(program)
            .args(args)
            .current_dir(tree)
            .env("PATH", path_with_venv(tree))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let env_or = |name: &str, default: &str| {
        std::env::var_os(name).unwrap_or_else(|| OsString::from(default))
    };
    let cargo = runs("cargo".into(), &["--version"]).is_some();
    // rustup's cargo is there but runs nothing until a toolchain is chosen.
    let rustup_without_default = !cargo && runs("rustup".into(), &["--version"]).is_some();
    let cargo_zigbuild = runs("cargo-zigbuild".into(), &["--version"]).is_some();
    // cargo-zigbuild's own search: `python3 -m ziglang` (PyPI ziglang), then `zig`.
    let python = env_or("CARGO_ZIGBUILD_PYTHON_PATH", "python3");
    let zig_binary = env_or("CARGO_ZIGBUILD_ZIG_PATH", "zig");
    let zig = runs(python, &["-m", "ziglang", "version"])
        .or_else(|| runs(zig_binary, &["version"]))
        .is_some_and(|version| !version.is_empty());
    let lambda_target = runs(
        "rustc".into(),
        &["--print", "target-libdir", "--target", LAMBDA_TARGET],
    )
    .is_some_and(|libdir| has_std(Path::new(&libdir)));
    Found {
        cargo,
        rustup_without_default,
        cargo_zigbuild,
        zig,
        lambda_target,
    }
}

/// PATH with the source tree's `.venv/bin` first, where scripts/dev and scripts/test put
/// cargo-zigbuild and zig: a contributor's `catup deploy` outside that venv finds them too.
pub fn path_with_venv(tree: &Path) -> OsString {
    let venv = tree.join(".venv").join("bin");
    let current = std::env::var_os("PATH").unwrap_or_default();
    if !venv.is_dir() {
        return current;
    }
    let paths = std::iter::once(venv).chain(std::env::split_paths(&current));
    std::env::join_paths(paths).unwrap_or(current)
}

/// rustc prints the target's library folder even when the target is not installed.
fn has_std(libdir: &Path) -> bool {
    std::fs::read_dir(libdir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(os: &str, arch: &str) -> Host {
        Host {
            os: os.to_owned(),
            arch: arch.to_owned(),
        }
    }

    const ALL: Found = Found {
        cargo: true,
        rustup_without_default: false,
        cargo_zigbuild: true,
        zig: true,
        lambda_target: true,
    };

    #[test]
    fn every_host_and_missing_tool() {
        let linux = host("linux", "x86_64");
        let linux_arm = host("linux", "aarch64");
        let mac = host("macos", "aarch64");
        let no_zig = Found { zig: false, ..ALL };
        let no_zigbuild = Found {
            cargo_zigbuild: false,
            zig: false,
            ..ALL
        };
        let no_target = Found {
            lambda_target: false,
            ..ALL
        };
        let no_cargo = Found {
            cargo: false,
            ..ALL
        };
        let rustup_only = Found {
            cargo: false,
            rustup_without_default: true,
            ..ALL
        };
        let native = |missing| Ok(BuildPath::Native { missing });
        let refused = |missing| Err(missing);
        let cases: Vec<(&Host, Found, Result<BuildPath, Missing>)> = vec![
            (&linux, ALL, Ok(BuildPath::Zig)),
            (&mac, ALL, Ok(BuildPath::Zig)),
            (&linux_arm, ALL, Ok(BuildPath::Zig)),
            (&linux, no_zig, native(Missing::Zig)),
            (&linux, no_zigbuild, native(Missing::CargoZigbuild)),
            (&mac, no_zig, refused(Missing::Zig)),
            (&mac, no_zigbuild, refused(Missing::CargoZigbuild)),
            (&linux_arm, no_zig, refused(Missing::Zig)),
            (&mac, no_target, refused(Missing::Target)),
            (&linux, no_target, refused(Missing::Target)),
            (&linux, no_cargo, refused(Missing::Cargo)),
            (&mac, no_cargo, refused(Missing::Cargo)),
            (&linux, rustup_only, refused(Missing::RustupDefault)),
            (&mac, rustup_only, refused(Missing::RustupDefault)),
        ];
        for (host, found, expected) in cases {
            let got = choose(host, &found).map_err(|e| e.missing);
            assert_eq!(got, expected, "{host} with {found:?}");
        }
    }

    #[test]
    fn each_refusal_is_one_line_with_its_install_command() {
        let mac = host("macos", "aarch64");
        for (missing, command) in [
            (Missing::Cargo, "https://rustup.rs"),
            (Missing::CargoZigbuild, "pip install cargo-zigbuild"),
            (Missing::Zig, "pip install ziglang"),
            (Missing::RustupDefault, "rustup default stable"),
            (
                Missing::Target,
                "rustup target add x86_64-unknown-linux-gnu",
            ),
        ] {
            let message = ToolchainError {
                host: mac.clone(),
                missing,
            }
            .to_string();
            assert!(message.contains(command), "{message}");
            assert!(message.contains("macos-aarch64"), "{message}");
            assert!(message.contains("--bootstrap PATH"), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn the_source_tree_s_venv_comes_first_on_path() {
        let tree = std::env::temp_dir().join(format!("catup-venv-{}", std::process::id()));
        std::fs::create_dir_all(tree.join(".venv").join("bin")).unwrap();
        let path = path_with_venv(&tree);
        let first = std::env::split_paths(&path).next().unwrap();
        assert_eq!(first, tree.join(".venv").join("bin"));
        let without = std::env::temp_dir().join("catup-no-venv-here");
        assert_eq!(
            path_with_venv(&without),
            std::env::var_os("PATH").unwrap_or_default()
        );
        std::fs::remove_dir_all(&tree).unwrap();
    }

    #[test]
    fn the_native_path_says_why_it_was_taken() {
        let line = BuildPath::Native {
            missing: Missing::Zig,
        }
        .describe();
        assert!(line.contains("natively"), "{line}");
        assert!(
            line.contains("zig is not installed: pip install ziglang"),
            "{line}"
        );
        assert!(BuildPath::Zig.describe().contains(ZIG_TARGET));
    }
}
