//! The function as `catup deploy` builds it (no --bootstrap): a real cargo-zigbuild build of
//! lambda-fn with the LTO `lambda` profile, shipped to moto, read back, and run.
//!
//! Builds take minutes, so the two tests share one: both deploy from this checkout into the
//! same function target folder, cargo's lock makes one wait for the other, and the second
//! finds the build done. Only the second clone's build is extra.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use catup::package::{code_sha256, zip_bootstrap};
use serde_json::Value;

use crate::build_kit::{bootstrap_of, built_binary, catup_building, copy_of_the_source, elf_facts};
use crate::common::{detail_of, World};
use crate::wheel::{printed_sha256, scripts_package};
use catup_testkit::runtime_api::{function_url_event, Answer, RuntimeApi};

/// Said before a build in a target folder with no earlier build of the function.
pub const FIRST_BUILD_TAKES_MINUTES: &str =
    "the first build compiles the AWS SDK with LTO and takes several minutes";

#[tokio::test]
async fn shipped_zip_is_one_x86_64_bootstrap_for_glibc_2_34_that_answers_post_and_get() {
    let w = World::new();
    let run = catup_building(&w, &[], &["deploy", "--json"]).ok();

    // What is built, how, why, and how long it takes are said before cargo's own progress.
    for said in [
        "building the function (lambda-fn, profile lambda)",
        "since no --bootstrap was given",
        "with cargo-zigbuild for x86_64-unknown-linux-gnu.2.34",
        "Finished `lambda` profile",
    ] {
        assert!(run.stderr.contains(said), "{said:?} in:\n{}", run.stderr);
    }
    // Minutes for a first build in the folder (the second clone's below always is one), else
    // cargo rebuilds what changed: whichever this run found, said once, before cargo's progress.
    let first = run.stderr.find(FIRST_BUILD_TAKES_MINUTES);
    let earlier = run
        .stderr
        .find("holds an earlier build: cargo rebuilds only what changed");
    assert!(first.is_some() != earlier.is_some(), "{}", run.stderr);
    let finished = run.stderr.find("Finished `lambda` profile").unwrap();
    assert!(first.or(earlier).unwrap() < finished, "{}", run.stderr);

    // What Lambda holds is known by its hash: the deterministic zip of the built binary must
    // be exactly it. (moto's recording of a 5 MB CreateFunction, written beside the site's
    // uploads, is not always one readable line: the hash is the proof that cannot flake.)
    let built = std::fs::read(built_binary(&run)).unwrap();
    let zip = catup::package::zip_bootstrap(&built).unwrap();
    let configuration = w.function_configuration().await;
    assert_eq!(
        configuration.code_sha256(),
        Some(code_sha256(&zip).as_str())
    );
    let binary = bootstrap_of(&zip);
    assert_eq!(binary, built);
    let (is_x86_64, glibc) = elf_facts(&binary);
    assert!(is_x86_64, "an x86_64 ELF executable");
    let glibc = glibc.expect("the bootstrap links glibc");
    assert!(glibc <= (2, 34), "needs GLIBC_{}.{}", glibc.0, glibc.1);

    // Run it the way Lambda does, against the stack's images bucket in moto.
    let seeded = "images/8235236000876-0b7c5a3e-2f0e-4c77-9a55-3f6f6b5f3c11.png";
    w.s3()
        .await
        .put_object()
        .bucket(w.images_bucket())
        .key(seeded)
        .content_type("image/png")
        .body(b"\x89PNG\r\n\x1a\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let executable = w.dir.join("unzipped-bootstrap");
    write_executable(&executable, &binary);
    let events = vec![
        function_url_event("post-upload-png"),
        function_url_event("get-gallery"),
    ];
    let mut api = RuntimeApi::start(events).await;
    let mut function = tokio::process::Command::new(&executable)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", w.function())
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("IMAGES_BUCKET", w.images_bucket())
        .envs(w.moto.env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let post = response_to(&mut api, "req-1").await;
    assert_eq!(post["statusCode"], 200, "{post:#}");
    let upload: Value = serde_json::from_str(post["body"].as_str().unwrap()).unwrap();
    let key = upload["key"].as_str().unwrap();
    assert!(
        key.starts_with("images/") && key.ends_with(".png"),
        "{upload:#}"
    );
    let upload_url = upload["uploadUrl"].as_str().unwrap();
    assert!(
        upload_url.contains(&format!("/{}/{key}?", w.images_bucket())),
        "{upload_url}"
    );
    assert!(upload_url.contains("X-Amz-Signature="), "{upload_url}");
    assert_eq!(upload["headers"]["content-length"], "123456");

    let get = response_to(&mut api, "req-2").await;
    assert_eq!(get["statusCode"], 200, "{get:#}");
    let gallery: Value = serde_json::from_str(get["body"].as_str().unwrap()).unwrap();
    let images = gallery["images"].as_array().expect("images array");
    assert_eq!(images.len(), 1, "{gallery:#}");
    assert_eq!(images[0]["key"], seeded);
    let url = images[0]["url"].as_str().unwrap();
    assert!(
        url.contains(&format!("/{}/{seeded}?", w.images_bucket())),
        "{url}"
    );
    function.kill().await.unwrap();
}

#[tokio::test]
async fn a_second_clone_at_another_path_builds_the_same_zip_and_deploys_nothing() {
    let w = World::new();
    let original = Path::new(env!("CARGO_MANIFEST_DIR"));
    let first = catup_building(&w, &[], &["deploy", "--json"]).ok();
    let first_binary = std::fs::read(built_binary(&first)).unwrap();

    let clone = copy_of_the_source(&w.dir.join("another-clone"));
    let target = w.dir.join("another-target");
    let target_env = ("CARGO_TARGET_DIR", target.to_str().unwrap().to_owned());
    w.moto.start_recording().await;
    let source = clone.to_str().unwrap();
    let second = catup_building(&w, &[target_env], &["deploy", "--json", "--source", source]).ok();

    let built = built_binary(&second);
    assert!(built.starts_with(&target), "built in {}", built.display());
    // A target folder of its own: a first build, which takes minutes and says so first.
    let announced = second.stderr.find(FIRST_BUILD_TAKES_MINUTES);
    let announced = announced.unwrap_or_else(|| panic!("no first-build line:\n{}", second.stderr));
    assert!(second.stderr.find("Finished `lambda` profile").unwrap() > announced);
    let second_binary = std::fs::read(&built).unwrap();
    assert!(
        first_binary == second_binary,
        "the two clones built different binaries"
    );
    let deployed = w.function_configuration().await;
    assert_eq!(
        deployed.code_sha256(),
        Some(code_sha256(&zip_bootstrap(&second_binary).unwrap()).as_str())
    );
    let mutations = w.moto.recorded_mutations().await;
    assert!(mutations.is_empty(), "mutating calls: {mutations:#?}");
    assert_eq!(detail_of(&second.json(), "function").0, "unchanged");

    // scripts/package's zip, the one a wheel embeds, from each clone: the builds above are
    // done, so this is zipping only (the wheel's embedding of it: wheel.rs).
    let first_zip = w.dir.join("first.zip");
    // The upload function's zip alone: the thumbnail function's would be a second first build
    // in the clone's target folder, minutes more for the same question.
    let first_said = scripts_package(original, &["--zip-only", "--api-only"], &first_zip, &[]);
    let second_zip = w.dir.join("second.zip");
    let target_env = ("CARGO_TARGET_DIR", target.to_str().unwrap().to_owned());
    let zip_only = ["--zip-only", "--api-only"];
    let second_said = scripts_package(&clone, &zip_only, &second_zip, &[target_env]);
    assert_eq!(printed_sha256(&first_said), printed_sha256(&second_said));
    let zip = std::fs::read(&second_zip).unwrap();
    assert!(
        std::fs::read(&first_zip).unwrap() == zip,
        "the clones' zips differ"
    );
    assert!(
        zip == zip_bootstrap(&second_binary).unwrap(),
        "the zip holds another build"
    );
    // The wheel scripts/package made in the first clone (wheel.rs builds it once) carries
    // the second clone's zip byte for byte: check-wheel.py finds its bytes and its SHA-256 in
    // the wheel's binary, as the release workflow checks every platform's wheel.
    let wheel = &crate::wheel::installed().wheel;
    let check = std::process::Command::new("python3")
        .arg(original.join("scripts/lib/check-wheel.py"))
        .arg(&second_zip)
        .arg(wheel)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "the first clone's wheel does not carry the second clone's zip:\n{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // No machine-specific path is left in the binary: checkouts, target folders, cargo home.
    let cargo_home = std::env::var("CARGO_HOME")
        .unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap()));
    for path in [
        source,
        target.to_str().unwrap(),
        &cargo_home,
        original.to_str().unwrap(),
    ] {
        let found = second_binary
            .windows(path.len())
            .any(|w| w == path.as_bytes());
        assert!(!found, "the binary holds the path {path}");
    }
}

async fn response_to(api: &mut RuntimeApi, expected_id: &str) -> Value {
    match api.answer(Duration::from_secs(30)).await {
        Answer::Response { request_id, body } => {
            assert_eq!(request_id, expected_id);
            body
        }
        Answer::Error { path, body } => panic!("the function reported an error at {path}: {body}"),
    }
}

fn write_executable(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
