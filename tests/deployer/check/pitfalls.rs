//! Each of the lecture's pitfalls on a served copy of a `catup dev` app: the check it breaks
//! fails, with its hint, and no other check fails. A faithful copy (the control) passes all.

use super::served::{Copy, Gate, Setting};
use super::{catup_bare, empty_home, results};
use crate::dev::Dev;

/// What each setting must fail: the check and the start of its hint.
const EXPECTED: [(Setting, Option<(&str, &str)>); 7] = [
    (Setting::Faithful, None),
    (Setting::MakesThumbnails, None),
    (
        Setting::TrailingSlashInBucketCors,
        Some((
            "s3-cors",
            "remove the trailing slash: the images bucket's CORS AllowedOrigins",
        )),
    ),
    (
        Setting::FunctionAddsAllowOrigin,
        Some((
            "post",
            "two Access-Control-Allow-Origin headers: the function sets its own",
        )),
    ),
    (
        Setting::StaleConfig,
        Some(("config", "config.js is stale: it points at the website")),
    ),
    (
        Setting::SignedForAnotherType,
        Some((
            "put",
            "the upload URL is signed for Content-Type image/jpeg but the browser sends image/png",
        )),
    ),
    (
        Setting::NoFunctionCors,
        Some(("api-cors", "configure CORS on the Function URL")),
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_lecture_pitfall_fails_exactly_its_check_with_its_hint() {
    let moto = catup_testkit::Moto::start();
    // dev presigns for the endpoint it is given: the uploads go through the gate.
    let gate = Gate::start(&moto.endpoint()).await;
    let stack = catup_testkit::unique_name("c");
    let endpoint = gate.endpoint.clone();
    let dev = tokio::task::spawn_blocking(move || {
        Dev::start_with(&stack, None, &["--endpoint-url", &endpoint])
    })
    .await
    .unwrap()
    .unwrap();
    let mut copies = Vec::new();
    for (setting, _) in EXPECTED {
        copies.push(Copy::serve(dev.url("website_url"), dev.url("function_url"), setting).await);
    }
    allow_copies_in_bucket_cors(&moto, &dev, &copies).await;

    let home = empty_home("catup-check-pitfalls");
    let urls: Vec<String> = copies.iter().map(|c| c.website_url.clone()).collect();
    let (json, text) = tokio::task::spawn_blocking(move || {
        let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
        let json = catup_bare(
            &home,
            &[],
            &[&["check", "--json"], urls.as_slice()].concat(),
        );
        let text = catup_bare(&home, &[], &[&["check"], urls.as_slice()].concat());
        let _ = std::fs::remove_dir_all(&home);
        (json, text)
    })
    .await
    .unwrap();

    assert_eq!(json.code, 1, "{}\n{}", json.stdout, json.stderr);
    let report = json.json();
    let sites = report["sites"].as_array().unwrap();
    for ((setting, expected), site) in EXPECTED.iter().zip(sites) {
        let failed: Vec<&serde_json::Value> = site["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["result"] == "fail")
            .collect();
        let thumbnail = results(site).last().cloned().unwrap();
        match setting {
            Setting::MakesThumbnails => assert_eq!(thumbnail.1, "pass", "{site:#}"),
            _ if expected.is_none() => assert_eq!(thumbnail.1, "n/a", "{site:#}"),
            _ => {}
        }
        match expected {
            None => assert!(failed.is_empty(), "{setting:?}: {site:#}"),
            Some((id, hint)) => {
                assert_eq!(failed.len(), 1, "{setting:?}: {site:#}");
                assert_eq!(failed[0]["id"], *id, "{setting:?}: {site:#}");
                let given = failed[0]["hint"].as_str().unwrap();
                assert!(given.starts_with(hint), "{setting:?}: {given}");
                let passed = results(site).iter().take_while(|(i, _)| i != id).count();
                assert!(passed > 0 || *id == "site", "{setting:?}: {site:#}");
            }
        }
    }
    // As a teacher reads it: one FAIL line per broken copy, its hint under it.
    let fails: Vec<&str> = text
        .stdout
        .lines()
        .filter(|l| l.starts_with("  FAIL  "))
        .collect();
    assert_eq!(fails.len(), 5, "{}", text.stdout);
    for (_, expected) in EXPECTED {
        if let Some((_, hint)) = expected {
            let line = format!("        hint: {hint}");
            assert!(text.stdout.contains(&line), "{line}\n{}", text.stdout);
        }
    }
    assert!(
        text.stdout.contains("2 of 7 sites pass every check"),
        "{}",
        text.stdout
    );
}

/// The images bucket's CORS, as the copies need it: one rule holding the dev site's origin
/// and each copy's (moto refuses a preflight that any rule of several does not match).
async fn allow_copies_in_bucket_cors(moto: &catup_testkit::Moto, dev: &Dev, copies: &[Copy]) {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&moto.sdk_config().await)
            .force_path_style(true)
            .build(),
    );
    let mut rule = CorsRule::builder()
        .allowed_methods("GET")
        .allowed_methods("PUT")
        .allowed_headers("content-type")
        .allowed_origins(dev.url("website_url").trim_end_matches('/'));
    for copy in copies {
        rule = rule.allowed_origins(copy.bucket_cors_origin());
    }
    let cors = CorsConfiguration::builder()
        .cors_rules(rule.build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_cors()
        .bucket(dev.url("images_bucket"))
        .cors_configuration(cors)
        .send()
        .await
        .unwrap();
}
