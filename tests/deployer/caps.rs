//! The caps a user sets on what the stack may cost, each managed by catup and remembered by
//! the resource itself: not drift, kept by a deploy without the flag, removed by 0.
//! `--keep-days N`: a lifecycle rule catup owns on the images bucket (a rule of the user's
//! that only aborts uploads stays throughout). `--max-images N`: the upload function's
//! MAX_IMAGES (the refusal itself is tested on the handler: lambda-fn's api tests).
//! `--concurrency N`: the function's reserved concurrency, refused before any change where
//! the account's quota cannot give it. moto has no GetAccountSettings: the test proxy answers
//! it as AWS does, for a new account (10 in all) and for an ordinary one (1,000).

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus, LifecycleRule,
    LifecycleRuleFilter,
};

use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};
use serde_json::json;

use crate::common::World;

/// (id, expiration days, abort-incomplete days, filter prefix) of each rule.
async fn rules(w: &World) -> Vec<(String, Option<i32>, Option<i32>, Option<String>)> {
    let out = w
        .s3()
        .await
        .get_bucket_lifecycle_configuration()
        .bucket(w.images_bucket())
        .send()
        .await;
    let Ok(out) = out else { return Vec::new() };
    let mut rules: Vec<_> = out
        .rules()
        .iter()
        .map(|r| {
            (
                r.id().unwrap_or_default().to_owned(),
                r.expiration().and_then(|e| e.days()),
                r.abort_incomplete_multipart_upload()
                    .and_then(|a| a.days_after_initiation()),
                r.filter().and_then(|f| f.prefix()).map(str::to_owned),
            )
        })
        .collect();
    rules.sort();
    rules
}

async fn add_users_abort_rule(w: &World) {
    let mut config = BucketLifecycleConfiguration::builder();
    for rule in w
        .s3()
        .await
        .get_bucket_lifecycle_configuration()
        .bucket(w.images_bucket())
        .send()
        .await
        .unwrap()
        .rules()
    {
        config = config.rules(rule.clone());
    }
    let abort = LifecycleRule::builder()
        .id("users-abort")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("images/").build())
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(3)
                .build(),
        )
        .build()
        .unwrap();
    w.s3()
        .await
        .put_bucket_lifecycle_configuration()
        .bucket(w.images_bucket())
        .lifecycle_configuration(config.rules(abort).build().unwrap())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn keep_days_is_a_cap_catup_owns_not_drift_and_zero_removes_it() {
    let w = World::new();
    w.deploy_as(&w.stack, &["--keep-days", "7"]);
    let catups = (
        "catup-keep-days".to_owned(),
        Some(7),
        Some(1),
        Some(String::new()),
    );
    assert_eq!(rules(&w).await, std::slice::from_ref(&catups));
    add_users_abort_rule(&w).await;

    // Not drift, shown by status; a deploy without the flag changes nothing.
    let status = w.catup(&["status", "--json"]);
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
    assert_eq!(status.json()["keep_days"], 7);
    assert!(w
        .catup(&["status"])
        .ok()
        .stdout
        .contains("Uploads kept: 7 days"));
    w.moto.start_recording().await;
    w.deploy();
    let mutations = w.recorded_mutation_lines().await;
    // config.js and the site's files are compared by hash: nothing at all is written.
    assert!(mutations.is_empty(), "{mutations:#?}");
    let users = (
        "users-abort".to_owned(),
        None,
        Some(3),
        Some("images/".to_owned()),
    );
    assert_eq!(rules(&w).await, [catups, users.clone()]);

    // Another number is planned as a lifecycle update, then applied.
    let plan = w.catup(&[
        "plan",
        "--json",
        "--keep-days",
        "30",
        "--bootstrap",
        w.bootstrap.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    let rows = plan.json()["resources"].clone();
    let images = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "images_bucket")
        .unwrap();
    assert_eq!(images["aspects"], serde_json::json!(["lifecycle"]));
    w.deploy_as(&w.stack, &["--keep-days", "30"]);
    assert_eq!(rules(&w).await[0].1, Some(30));

    // 0 removes catup's rule and only it.
    w.deploy_as(&w.stack, &["--keep-days", "0"]);
    assert_eq!(rules(&w).await, [users]);
    assert_eq!(
        w.catup(&["status", "--json"]).ok().json()["keep_days"],
        serde_json::Value::Null
    );
}

/// The function's MAX_IMAGES, as Lambda holds it.
async fn max_images_variable(w: &World) -> Option<String> {
    let configuration = w.function_configuration().await;
    let variables = configuration.environment().and_then(|e| e.variables());
    variables.and_then(|v| v.get("MAX_IMAGES").cloned())
}

#[tokio::test]
async fn max_images_is_the_function_s_cap_not_drift_and_zero_removes_it() {
    let w = World::new();
    w.deploy_as(&w.stack, &["--max-images", "3"]);
    assert_eq!(max_images_variable(&w).await.as_deref(), Some("3"));
    let status = w.catup(&["status", "--json"]);
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
    assert_eq!(status.json()["max_images"], 3);

    w.moto.start_recording().await;
    w.deploy();
    let mutations = w.recorded_mutation_lines().await;
    assert!(mutations.is_empty(), "{mutations:#?}");
    assert_eq!(max_images_variable(&w).await.as_deref(), Some("3"));

    w.deploy_as(&w.stack, &["--max-images", "0"]);
    assert_eq!(max_images_variable(&w).await, None);
    let refused = w.catup(&["deploy", "--max-images", "1001"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
}

/// The function's reserved concurrency, as Lambda holds it.
async fn reserved(w: &World) -> Option<i32> {
    let lambda = w.lambda().await;
    let out = lambda
        .get_function_concurrency()
        .function_name(w.function())
        .send()
        .await
        .unwrap();
    out.reserved_concurrent_executions()
}

/// A proxy in front of the world's moto answering GetAccountSettings as AWS does for an
/// account with `quota` concurrent executions, none reserved.
async fn account_with_quota(w: &World, quota: i32) -> FaultProxy {
    let settings = Answer::Json(json!({
        "AccountLimit": {
            "TotalCodeSize": 80_530_636_800_i64,
            "CodeSizeUnzipped": 262_144_000,
            "CodeSizeZipped": 52_428_800,
            "ConcurrentExecutions": quota,
            "UnreservedConcurrentExecutions": quota
        },
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0}
    }));
    let on = On::lambda("GET", "/2016-08-19/account-settings");
    let script = vec![Scripted::new(on, usize::MAX, settings)];
    FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_that_the_account_cannot_give_is_refused_before_any_change() {
    let w = World::new();
    let proxy = account_with_quota(&w, 10).await;
    w.moto.start_recording().await;
    let bootstrap = w.bootstrap.to_str().unwrap();
    let args = ["deploy", "--bootstrap", bootstrap, "--concurrency", "5"];
    let run = w.catup_via(&proxy.endpoint(), &w.stack, &args);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains("10 concurrent executions") && errors[0].contains("at most 0"),
        "{}",
        errors[0]
    );
    let mutations = w.recorded_mutation_lines().await;
    assert!(mutations.is_empty(), "{mutations:#?}");
    assert!(!w.function_exists().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_reserved_kept_without_the_flag_and_zero_removes_it() {
    let w = World::new();
    let proxy = account_with_quota(&w, 1000).await;
    let bootstrap = w.bootstrap.to_str().unwrap();
    let args = ["deploy", "--bootstrap", bootstrap, "--concurrency", "5"];
    w.catup_via(&proxy.endpoint(), &w.stack, &args).ok();
    assert_eq!(reserved(&w).await, Some(5));
    let status = w.catup(&["status", "--json"]);
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
    assert_eq!(status.json()["reserved_concurrency"], 5);

    w.moto.start_recording().await;
    w.deploy();
    let mutations = w.recorded_mutation_lines().await;
    assert!(mutations.is_empty(), "{mutations:#?}");

    w.deploy_as(&w.stack, &["--concurrency", "0"]);
    assert_eq!(reserved(&w).await, None);
}
