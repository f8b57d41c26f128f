//! What `catup deploy` does when the zig toolchain is missing: on this x86_64 Linux host a
//! native build, saying so and why; on a host where that cannot work (simulated with
//! CATUP_BUILD_HOST), one error line with the install command, before any AWS call.

use std::path::{Path, PathBuf};

use catup::package::{code_sha256, zip_bootstrap};

use crate::build_kit::{built_binary, catup_building, path_without_zig};
use crate::common::World;

/// A checkout with catup's layout and a tiny `bootstrap`, so that the real native build
/// takes seconds instead of the function's minutes of LTO.
pub fn tiny_source(root: &Path) -> PathBuf {
    let files = [
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"lambda-fn\"]\nresolver = \"2\"\n\n\
             [profile.lambda]\ninherits = \"release\"\nopt-level = \"s\"\nlto = true\n\
             codegen-units = 1\nstrip = true\n",
        ),
        (
            "Cargo.lock",
            "version = 4\n\n[[package]]\nname = \"lambda-fn\"\nversion = \"0.1.0\"\n",
        ),
        (
            "lambda-fn/Cargo.toml",
            "[package]\nname = \"lambda-fn\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [[bin]]\nname = \"bootstrap\"\npath = \"src/main.rs\"\n",
        ),
        (
            "lambda-fn/src/main.rs",
            "fn main() {\n    println!(\"tiny bootstrap\");\n}\n",
        ),
    ];
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    root.to_owned()
}

/// The tiny checkout, and an environment in which catup builds it natively (no zig on PATH)
/// into a target folder of the world's own: (source, target folder, environment).
fn tiny_without_zig(w: &World) -> (String, String, [(&'static str, String); 2]) {
    let source = tiny_source(&w.dir.join("tiny"))
        .to_str()
        .unwrap()
        .to_owned();
    let path = path_without_zig(&w.dir.join("bin"), true);
    let target = w.dir.join("tiny-target").to_str().unwrap().to_owned();
    let env = [("PATH", path), ("CARGO_TARGET_DIR", target.clone())];
    (source, target, env)
}

#[tokio::test]
async fn without_zig_deploy_on_x86_64_linux_builds_natively_and_says_why() {
    let w = World::new();
    let (source, target, env) = tiny_without_zig(&w);
    let run = catup_building(&w, &env, &["deploy", "--json", "--source", &source]).ok();
    assert!(
        run.stderr.contains(
            "natively with cargo build for x86_64-unknown-linux-gnu, because zig is not \
             installed: pip install ziglang"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("cargo-zigbuild for"), "{}", run.stderr);
    // What was built natively is what Lambda holds, known by its hash (moto's recording of
    // a large CreateFunction written beside other calls is not always one readable line).
    let built = built_binary(&run);
    assert!(built.starts_with(&target), "{}", built.display());
    let zip = zip_bootstrap(&std::fs::read(&built).unwrap()).unwrap();
    let held = w.function_configuration().await;
    assert_eq!(held.code_sha256(), Some(code_sha256(&zip).as_str()));
}

#[tokio::test]
async fn a_build_already_done_does_not_claim_minutes() {
    let w = World::new();
    let (source, _, env) = tiny_without_zig(&w);
    catup_building(&w, &env, &["deploy", "--source", &source]).ok();
    // The stack exists, so plan builds to compare the code: cargo finds the build fresh.
    let run = catup_building(&w, &env, &["plan", "--source", &source]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("minutes"), "{}", run.stderr);
    let said = "tiny-target/lambda-fn holds an earlier build: cargo rebuilds only what changed";
    assert!(run.stderr.contains(said), "{}", run.stderr);
    assert!(!run.stderr.contains("Compiling"), "{}", run.stderr);
}

#[tokio::test]
async fn where_neither_zig_nor_a_native_build_works_the_error_names_the_install_command() {
    for (keep_cargo_zigbuild, install) in [
        (
            false,
            "cargo-zigbuild is not installed: pip install cargo-zigbuild",
        ),
        (true, "zig is not installed: pip install ziglang"),
    ] {
        let w = World::new();
        // A checkout with no .venv of its own (catup looks for zig there too).
        let source = tiny_source(&w.dir.join("tiny"));
        let path = path_without_zig(&w.dir.join("bin"), keep_cargo_zigbuild);
        let env = [
            ("PATH", path),
            ("CATUP_BUILD_HOST", "macos-aarch64".to_owned()),
        ];
        w.moto.start_recording().await;
        let args = ["deploy", "--source", source.to_str().unwrap()];
        let run = catup_building(&w, &env, &args).fails_with(1, install);
        assert!(
            run.stderr
                .contains("cannot build the function for Lambda on this macos-aarch64 machine"),
            "{}",
            run.stderr
        );
        let calls = w.moto.recorded_calls().await;
        assert!(calls.is_empty(), "AWS calls before the refusal: {calls:#?}");
        assert!(!w.function_exists().await);
    }
}

#[tokio::test]
async fn source_that_is_not_a_catup_checkout_is_refused_before_any_aws_call() {
    let w = World::new();
    w.moto.start_recording().await;
    let not_a_checkout = w.dir.to_str().unwrap();
    let run = catup_building(&w, &[], &["deploy", "--source", not_a_checkout]);
    run.fails_with(
        1,
        "is not a catup checkout (no lambda-fn/ in it): pass --source DIR",
    );
    let calls = w.moto.recorded_calls().await;
    assert!(calls.is_empty(), "AWS calls: {calls:#?}");
}
