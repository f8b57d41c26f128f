//! Building lambda-fn's `bootstrap`: one cargo command per build path, in a target folder
//! of its own, with every machine-specific path remapped so that the same source gives the
//! same bytes from any checkout, user or cargo home.

use std::ffi::OsString;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::toolchain::{BuildPath, LAMBDA_TARGET, ZIG_TARGET};
use super::{PackageError, ENTRY_NAME};

/// The profile in the workspace's Cargo.toml: opt-level s, LTO, one codegen unit, stripped.
pub const PROFILE: &str = "lambda";
/// Off a terminal cargo shows no progress bar, and the final LTO link is minutes without a
/// line: say that the build is alive this often (as the set-up scripts do).
const HEARTBEAT: Duration = Duration::from_secs(30);

/// Which of the stack's functions a build makes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FunctionCrate {
    /// lambda-fn's `bootstrap`: the upload function.
    #[default]
    Upload,
    /// thumbs-fn's `thumbs-bootstrap`: the thumbnail function (`--thumbnails`).
    Thumbs,
}

impl FunctionCrate {
    /// The workspace package and its binary.
    pub fn package_and_binary(self) -> (&'static str, &'static str) {
        match self {
            FunctionCrate::Upload => ("lambda-fn", ENTRY_NAME),
            FunctionCrate::Thumbs => ("thumbs-fn", "thumbs-bootstrap"),
        }
    }

    pub fn package(self) -> &'static str {
        self.package_and_binary().0
    }
}

/// One build of a function from a source tree (a catup checkout).
#[derive(Clone, Debug)]
pub struct Build {
    pub tree: PathBuf,
    pub target_dir: PathBuf,
    pub path: BuildPath,
    cargo_home: Option<PathBuf>,
    pub function: FunctionCrate,
}

impl Build {
    pub fn new(tree: &Path, path: BuildPath) -> Build {
        let tree = std::path::absolute(tree).unwrap_or_else(|_| tree.to_owned());
        Build {
            target_dir: function_target_dir(&tree),
            tree,
            path,
            cargo_home: cargo_home(),
            function: FunctionCrate::Upload,
        }
    }

    /// The same build of another of the stack's functions (in the same target folder: the
    /// two share every dependency they have in common).
    pub fn of(self, function: FunctionCrate) -> Build {
        Build { function, ..self }
    }

    /// The same build in another target folder (the build benchmark's cold builds).
    pub fn in_target_dir(self, target_dir: PathBuf) -> Build {
        Build { target_dir, ..self }
    }

    /// What the build is about to do, said before cargo's progress: minutes only when they are
    /// due, that is when the target folder holds no earlier build of this profile (cargo
    /// then compiles every dependency, the AWS SDK with LTO); otherwise that cargo rebuilds
    /// only what changed (nothing, often: 0.3 s).
    pub fn expectation(&self) -> String {
        let folder = self.target_dir.display();
        if self.is_first() {
            format!(
                "no earlier build in {folder}: the first build compiles the AWS SDK with LTO and \
                 takes several minutes; later ones reuse it. cargo's progress follows"
            )
        } else {
            format!(
                "{folder} holds an earlier build: cargo rebuilds only what changed. cargo's \
                 progress follows"
            )
        }
    }

    /// No executable of an earlier build of this profile in the target folder (both build
    /// paths put it in the same place: cargo-zigbuild drops the glibc suffix from the folder).
    fn is_first(&self) -> bool {
        let earlier = self.target_dir.join(LAMBDA_TARGET).join(PROFILE);
        !earlier.join(self.function.package_and_binary().1).is_file()
    }

    /// The command, with its output: cargo's JSON messages on stdout, progress on stderr.
    pub fn command(&self) -> Command {
        let target = match self.path {
            BuildPath::Zig => ZIG_TARGET,
            BuildPath::Native { .. } => LAMBDA_TARGET,
        };
        let mut command = Command::new("cargo");
        if self.path == BuildPath::Zig {
            command.arg("zigbuild");
        } else {
            command.arg("build");
        }
        let (package, binary) = self.function.package_and_binary();
        command
            .args(["--profile", PROFILE, "-p", package, "--bin", binary])
            .args(["--target", target, "--locked"])
            .arg("--message-format=json-render-diagnostics")
            .current_dir(&self.tree)
            .env("PATH", super::toolchain::path_with_venv(&self.tree))
            .env("CARGO_TARGET_DIR", &self.target_dir)
            // Encoded (0x1f-separated) so paths with spaces survive; it also takes precedence
            // over a RUSTFLAGS or config rustflags of the user that would change the bytes.
            .env("CARGO_ENCODED_RUSTFLAGS", self.rustflags().join("\u{1f}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        command
    }

    /// `--remap-path-prefix` for every absolute path that differs between machines. rustc
    /// applies the last matching rule, so the innermost folder comes last.
    pub fn rustflags(&self) -> Vec<String> {
        let mut rules: Vec<(&Path, &str)> = Vec::new();
        if let Some(home) = &self.cargo_home {
            rules.push((home, "/cargo"));
        }
        rules.push((&self.tree, "/catup"));
        rules.push((&self.target_dir, "/target"));
        rules
            .into_iter()
            .map(|(from, to)| {
                let mut flag = OsString::from("--remap-path-prefix=");
                flag.push(from);
                flag.push("=");
                flag.push(to);
                flag.to_string_lossy().into_owned()
            })
            .collect()
    }

    /// Runs the build, cargo's progress on the user's terminal; returns the executable's
    /// path (from cargo's messages, so the layout of the target folder is cargo's business).
    pub fn run(&self, announce: &(dyn Fn(String) + Sync)) -> Result<PathBuf, PackageError> {
        let started = Instant::now();
        let (done, finished) = mpsc::channel::<()>();
        let output = std::thread::scope(|scope| {
            if !std::io::stderr().is_terminal() {
                scope.spawn(move || {
                    while let Err(mpsc::RecvTimeoutError::Timeout) =
                        finished.recv_timeout(HEARTBEAT)
                    {
                        announce(format!(
                            "still building {} ({} so far)",
                            self.function.package(),
                            minutes(started.elapsed())
                        ));
                    }
                });
            }
            let output = self.command().output();
            drop(done);
            output
        });
        let output = output.map_err(|reason| match reason.kind() {
            std::io::ErrorKind::NotFound => PackageError::CargoNotFound,
            _ => PackageError::CargoSpawn { reason },
        })?;
        if !output.status.success() {
            return Err(PackageError::BuildFailed {
                status: output.status,
            });
        }
        let messages = String::from_utf8_lossy(&output.stdout);
        let binary = self.function.package_and_binary().1;
        let built =
            executable_from_cargo_messages(&messages, binary).ok_or(PackageError::NoExecutable)?;
        announce(format!(
            "built {} in {}",
            built.display(),
            minutes(started.elapsed())
        ));
        Ok(built)
    }
}

/// The function's own target folder, so that its build and the deployer's never wait for
/// each other's lock or evict each other's artefacts: `<target>/lambda-fn`, where `<target>`
/// is CARGO_TARGET_DIR or the tree's `target/`.
pub fn function_target_dir(tree: &Path) -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => std::path::absolute(&dir).unwrap_or_else(|_| PathBuf::from(dir)),
        None => tree.join("target"),
    };
    target.join("lambda-fn")
}

/// Where cargo keeps downloaded crates' sources, whose paths end up in panic messages.
fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
}

/// "3m05s", or "12.3s" under a minute.
pub fn minutes(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    match seconds / 60 {
        0 => format!("{:.1}s", elapsed.as_secs_f64()),
        m => format!("{m}m{:02}s", seconds % 60),
    }
}

/// The `executable` of the last `compiler-artifact` message for target `bootstrap`.
fn executable_from_cargo_messages(stdout: &str, binary: &str) -> Option<PathBuf> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == binary)
        .filter_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::toolchain::Missing;

    fn build(path: BuildPath) -> Build {
        Build {
            tree: PathBuf::from("/home/ana/code/catup"),
            target_dir: PathBuf::from("/home/ana/code/catup/target/lambda-fn"),
            path,
            cargo_home: Some(PathBuf::from("/home/ana/.cargo")),
            function: FunctionCrate::Upload,
        }
    }

    fn args_and_env(command: &Command) -> (Vec<String>, Vec<(String, String)>) {
        let args = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let env = command
            .get_envs()
            .map(|(k, v)| {
                let value = v.map(|v| v.to_string_lossy().into_owned());
                (k.to_string_lossy().into_owned(), value.unwrap_or_default())
            })
            .collect();
        (args, env)
    }

    #[test]
    fn zig_and_native_commands_differ_only_in_subcommand_and_target() {
        let (zig, zig_env) = args_and_env(&build(BuildPath::Zig).command());
        let native = build(BuildPath::Native {
            missing: Missing::Zig,
        });
        let (native, native_env) = args_and_env(&native.command());
        let common = "--profile lambda -p lambda-fn --bin bootstrap --target";
        assert_eq!(
            zig.join(" "),
            format!("zigbuild {common} x86_64-unknown-linux-gnu.2.34 --locked --message-format=json-render-diagnostics")
        );
        assert_eq!(
            native.join(" "),
            format!("build {common} x86_64-unknown-linux-gnu --locked --message-format=json-render-diagnostics")
        );
        assert_eq!(zig_env, native_env);
        let target_dir = (
            "CARGO_TARGET_DIR".to_owned(),
            "/home/ana/code/catup/target/lambda-fn".to_owned(),
        );
        assert!(zig_env.contains(&target_dir), "{zig_env:?}");
    }

    #[test]
    fn every_machine_specific_path_is_remapped_innermost_last() {
        let (_, env) = args_and_env(&build(BuildPath::Zig).command());
        let (_, flags) = env
            .iter()
            .find(|(k, _)| k == "CARGO_ENCODED_RUSTFLAGS")
            .expect("rustflags set");
        let flags: Vec<&str> = flags.split('\u{1f}').collect();
        assert_eq!(
            flags,
            [
                "--remap-path-prefix=/home/ana/.cargo=/cargo",
                "--remap-path-prefix=/home/ana/code/catup=/catup",
                "--remap-path-prefix=/home/ana/code/catup/target/lambda-fn=/target",
            ]
        );
    }

    #[test]
    fn paths_with_spaces_stay_one_flag() {
        let spaced = Build {
            tree: PathBuf::from("/Users/Ana Lima/catup"),
            ..build(BuildPath::Zig)
        };
        assert!(spaced
            .rustflags()
            .contains(&"--remap-path-prefix=/Users/Ana Lima/catup=/catup".to_owned()));
    }

    #[test]
    fn minutes_are_announced_only_when_no_earlier_build_is_there() {
        let folder = std::env::temp_dir().join(format!("catup-earlier-{}", std::process::id()));
        let plan = build(BuildPath::Zig).in_target_dir(folder.clone());
        assert!(plan.expectation().contains("takes several minutes"));
        let profile = folder.join(LAMBDA_TARGET).join(PROFILE);
        std::fs::create_dir_all(&profile).unwrap();
        std::fs::write(profile.join(ENTRY_NAME), b"").unwrap();
        let said = plan.expectation();
        std::fs::remove_dir_all(&folder).unwrap();
        assert!(!said.contains("minutes"), "{said}");
        assert!(said.contains("holds an earlier build"), "{said}");
    }

    #[test]
    fn elapsed_time_reads_as_minutes_and_seconds() {
        assert_eq!(minutes(Duration::from_millis(12_340)), "12.3s");
        assert_eq!(minutes(Duration::from_secs(185)), "3m05s");
        assert_eq!(minutes(Duration::from_secs(600)), "10m00s");
    }

    // Adapted from real `cargo build --message-format=json` output: a build script, its run,
    // lambda-fn's library and the binary we want, then build-finished.
    const CARGO_MESSAGES: &str = r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#proc-macro2@1.0.107","manifest_path":"/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/proc-macro2-1.0.107/Cargo.toml","target":{"kind":["custom-build"],"crate_types":["bin"],"name":"build-script-build","src_path":"/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/proc-macro2-1.0.107/build.rs","edition":"2021","doc":false,"doctest":false,"test":false},"profile":{"opt_level":"0","debuginfo":0,"debug_assertions":true,"overflow_checks":true,"test":false},"features":["default","proc-macro"],"filenames":["/work/main/target/lambda/build/proc-macro2-79172649b29143f8/build-script-build"],"executable":null,"fresh":true}
{"reason":"build-script-executed","package_id":"registry+https://github.com/rust-lang/crates.io-index#proc-macro2@1.0.107","linked_libs":[],"linked_paths":[],"cfgs":["wrap_proc_macro"],"env":[],"out_dir":"/work/main/target/lambda/build/proc-macro2-5b05bf489c8ea578/out"}
{"reason":"compiler-artifact","package_id":"path+file:///work/main/lambda-fn#lambda-fn@0.1.0","manifest_path":"/work/main/lambda-fn/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"lambda_fn","src_path":"/work/main/lambda-fn/src/lib.rs","edition":"2021","doc":true,"doctest":true,"test":true},"profile":{"opt_level":"s","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["/work/main/target/lambda/liblambda_fn.rlib","/work/main/target/lambda/deps/liblambda_fn-877ace2c6463000e.rmeta"],"executable":null,"fresh":false}
{"reason":"compiler-artifact","package_id":"path+file:///work/main/lambda-fn#lambda-fn@0.1.0","manifest_path":"/work/main/lambda-fn/Cargo.toml","target":{"kind":["bin"],"crate_types":["bin"],"name":"bootstrap","src_path":"/work/main/lambda-fn/src/main.rs","edition":"2021","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"s","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["/work/main/target/lambda/bootstrap"],"executable":"/work/main/target/lambda/bootstrap","fresh":false}
{"reason":"build-finished","success":true}
"#;

    #[test]
    fn finds_the_bootstrap_executable_in_cargo_messages() {
        assert_eq!(
            executable_from_cargo_messages(CARGO_MESSAGES, ENTRY_NAME),
            Some(PathBuf::from("/work/main/target/lambda/bootstrap"))
        );
    }

    #[test]
    fn no_bootstrap_artifact_gives_none() {
        let without: String = CARGO_MESSAGES
            .lines()
            .filter(|l| !l.contains(r#""name":"bootstrap""#))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(executable_from_cargo_messages(&without, ENTRY_NAME), None);
        assert_eq!(executable_from_cargo_messages("", ENTRY_NAME), None);
        assert_eq!(
            executable_from_cargo_messages("Compiling lambda-fn\nnot json\n", ENTRY_NAME),
            None
        );
    }
}
