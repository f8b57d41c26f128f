//! `catup verify` against the emulator: moto serves neither the Function URL nor the S3
//! website endpoint, so verify says which checks it skipped and why, checks the config.js
//! deploy stored, and exits by that.

use crate::common::World;

#[tokio::test]
async fn verify_against_the_emulator_says_what_it_checked_and_what_it_could_not() {
    let w = World::new();
    w.deploy();
    let run = w.catup(&["verify"]).ok();
    assert!(
        run.stdout
            .contains("pass  config.js in the site bucket holds the URL"),
        "{}",
        run.stdout
    );
    let skipped = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("skip"))
        .count();
    assert_eq!(skipped, 7, "{}", run.stdout);
    assert!(
        run.stdout.contains("`catup dev` serves both on localhost"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(1 check, 7 skipped)"),
        "{}",
        run.stdout
    );
    let report = w.catup(&["verify", "--json"]).ok().json();
    assert_eq!(report["passed"], true, "{report}");
    assert_eq!(report["checks"][1]["skipped"], true, "{report}");

    // A stale config.js is what it can check, and fails it.
    let stale = "window.CAT_UPLOAD_CONFIG = { apiBaseUrl: \"https://old.example\" };";
    w.s3()
        .await
        .put_object()
        .bucket(w.site_bucket())
        .key("config.js")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            stale.as_bytes(),
        ))
        .send()
        .await
        .unwrap();
    let run = w.catup(&["verify"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("FAIL  config.js in the site bucket"),
        "{}",
        run.stdout
    );
}
