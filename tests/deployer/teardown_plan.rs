//! `teardown --dry-run` lists what teardown would do to each resource (delete / absent /
//! refused / external) with zero mutating calls, and teardown then deletes exactly that.

use serde_json::Value;

use crate::common::{detail_of, World};

/// (kind, name, state) of every resource line of a report.
fn rows(report: &Value) -> Vec<(String, String, String)> {
    let field = |r: &Value, key: &str| r[key].as_str().unwrap().to_owned();
    report["resources"]
        .as_array()
        .expect("resources array")
        .iter()
        .map(|r| (field(r, "kind"), field(r, "name"), field(r, "state")))
        .collect()
}

/// The rows in `state`, as (kind, name).
fn in_state(rows: &[(String, String, String)], state: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = rows
        .iter()
        .filter(|(_, _, s)| s == state)
        .map(|(k, n, _)| (k.clone(), n.clone()))
        .collect();
    found.sort();
    found
}

/// Runs `teardown --dry-run --json` with moto recording: exit code, report, and proof that
/// nothing was changed.
async fn dry_run(w: &World) -> (i32, Value, String) {
    w.moto.start_recording().await;
    let run = w.catup(&["teardown", "--dry-run", "--json"]);
    let mutations = w.moto.recorded_mutations().await;
    assert!(mutations.is_empty(), "dry run changed: {mutations:?}");
    (run.code, run.json(), run.stderr)
}

/// Teardown after a dry run deletes exactly what the dry run listed for deletion, and finds
/// absent exactly what it listed absent.
fn teardown_matches(w: &World, plan: &Value) {
    let planned = rows(plan);
    let done = rows(&w.catup(&["teardown", "--yes", "--json"]).ok().json());
    assert_eq!(in_state(&done, "deleted"), in_state(&planned, "delete"));
    assert_eq!(in_state(&done, "absent"), in_state(&planned, "absent"));
}

#[tokio::test]
async fn dry_run_of_a_deployed_stack_lists_every_resource_for_deletion_and_deletes_nothing() {
    let w = World::new();
    w.deploy();
    let (code, plan, _) = dry_run(&w).await;
    assert_eq!(code, 0);
    assert_eq!(plan["would_delete"], true);
    assert_eq!(plan["refusal"], Value::Null);
    let expected = [
        ("images_bucket", w.images_bucket()),
        ("site_bucket", w.site_bucket()),
        ("log_group", format!("/aws/lambda/{}", w.function())),
        ("role", w.role()),
        ("function", w.function()),
        ("function_url", w.function()),
    ]
    .map(|(k, n)| (k.to_owned(), n, "delete".to_owned()));
    assert_eq!(rows(&plan), expected);
    assert!(w.function_exists().await);

    // The text form: one line per resource, like the other reports; no --yes needed.
    let text = w.catup(&["teardown", "--dry-run"]).ok().stdout;
    let line = format!("   delete  images bucket {}", w.images_bucket());
    assert!(text.lines().any(|l| l == line), "{text}");
    assert!(text.contains("nothing was deleted"), "{text}");

    teardown_matches(&w, &plan);
    let (code, after, _) = dry_run(&w).await;
    assert_eq!((code, &after["would_delete"]), (0, &Value::Bool(false)));
    assert!(
        rows(&after).iter().all(|(_, _, s)| s == "absent"),
        "{after:#}"
    );
}

#[tokio::test]
async fn dry_run_of_a_half_deployed_stack_lists_what_is_left() {
    let w = World::new();
    w.deploy();
    // A teardown stopped after the function went: its URL went with it; the log group stays.
    w.delete_function().await;
    let (code, plan, _) = dry_run(&w).await;
    assert_eq!(code, 0);
    let absent = [("function", w.function()), ("function_url", w.function())]
        .map(|(k, n)| (k.to_owned(), n))
        .to_vec();
    assert_eq!(in_state(&rows(&plan), "absent"), absent);
    assert_eq!(in_state(&rows(&plan), "delete").len(), 4, "{plan:#}");
    teardown_matches(&w, &plan);
}

#[tokio::test]
async fn dry_run_lists_a_killed_deploy_s_untagged_bucket_for_deletion() {
    let w = World::new();
    // What a deploy killed between CreateBucket and PutBucketTagging leaves.
    let s3 = w.s3().await;
    s3.create_bucket()
        .bucket(w.images_bucket())
        .send()
        .await
        .unwrap();
    let (code, plan, _) = dry_run(&w).await;
    assert_eq!(code, 0);
    let images = ("images_bucket".to_owned(), w.images_bucket());
    assert_eq!(in_state(&rows(&plan), "delete"), [images]);
    assert_eq!(in_state(&rows(&plan), "absent").len(), 5, "{plan:#}");
    teardown_matches(&w, &plan);
    assert!(s3
        .head_bucket()
        .bucket(w.images_bucket())
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn dry_run_with_a_foreign_bucket_lists_it_refused_and_exits_1_with_the_refusal() {
    let w = World::new();
    w.deploy();
    w.s3()
        .await
        .delete_bucket_tagging()
        .bucket(w.images_bucket())
        .send()
        .await
        .unwrap();
    crate::bucket_roles::put_object(&w, &w.images_bucket(), "images/someone-elses.png").await;

    let (code, plan, stderr) = dry_run(&w).await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(plan["would_delete"], false);
    assert_eq!(
        detail_of(&plan, "images_bucket"),
        ("refused".to_owned(), "it has no catup:stack tag".to_owned())
    );
    assert_eq!(in_state(&rows(&plan), "delete").len(), 5, "{plan:#}");
    let refusal = plan["refusal"].as_str().unwrap();
    let says = format!(
        "images bucket {} exists but does not belong",
        w.images_bucket()
    );
    assert!(refusal.contains(&says), "{refusal}");
    assert!(stderr.contains(&says), "{stderr}");

    // Teardown refuses with the same error and deletes nothing.
    w.moto.start_recording().await;
    w.catup(&["teardown", "--yes"]).fails_with(1, &says);
    assert!(w.moto.recorded_mutations().await.is_empty());
    assert!(w.function_exists().await);
}

#[tokio::test]
async fn a_role_arn_role_is_listed_external_and_kept() {
    let w = World::new();
    let lab_role = w.lab_role().await;
    w.deploy_as(&w.stack, &["--role-arn", &lab_role]);
    let (code, plan, _) = dry_run(&w).await;
    assert_eq!(code, 0);
    assert_eq!(
        detail_of(&plan, "role"),
        ("external".to_owned(), String::new())
    );
    teardown_matches(&w, &plan);
    let role = w.iam().await.get_role().role_name("LabRole").send().await;
    assert!(role.is_ok());
}

/// Teardown reads existence and tags only: none of the configuration deploy compares.
#[tokio::test]
async fn teardown_reads_no_configuration() {
    let w = World::new();
    w.deploy();
    w.moto.start_recording().await;
    w.catup(&["teardown", "--yes"]).ok();
    let calls: Vec<String> = w
        .moto
        .recorded_calls()
        .await
        .iter()
        .map(ToString::to_string)
        .collect();
    let configuration = [
        "?policy",
        "?cors",
        "?website",
        "?publicAccessBlock",
        "?encryption",
        "?lifecycle",
    ];
    // The form the recorder gives S3's subresources, seen for the tags teardown does read.
    assert!(calls.iter().any(|c| c.contains("?tagging")), "{calls:#?}");
    for call in &calls {
        assert!(
            !configuration.iter().any(|c| call.contains(c)),
            "teardown read {call}; all calls: {calls:#?}"
        );
    }
}

/// Over a network every call in a row is one round trip: a dry run makes 2 (the account
/// beside the function, whose tags remember the flags; then every other read at once), a
/// teardown of a stack with images at most 5 (then a bucket's listing, DeleteObjects and
/// DeleteBucket, with the function's, log group's and role's deletions beside them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_makes_at_most_five_calls_in_a_row() {
    use catup_testkit::proxy::{FaultProxy, Policy};
    let w = World::new();
    w.deploy();
    crate::bucket_roles::put_object(&w, &w.images_bucket(), "images/cat.png").await;
    // Long enough that calls side by side always overlap at the proxy, even on a busy machine.
    let delay = std::time::Duration::from_millis(150);
    let proxy = FaultProxy::start_delayed(&w.moto.endpoint(), Policy::Pass, delay).await;
    let in_a_row = |args: &[&str]| {
        let before = proxy.spans().len();
        w.catup_via(&proxy.endpoint(), &w.stack, args).ok();
        let spans = &proxy.spans()[before..];
        (catup_testkit::chain::calls_in_a_row(spans), spans.len())
    };
    let (dry_run, _) = in_a_row(&["teardown", "--dry-run"]);
    assert_eq!(dry_run, 2);
    let (teardown, calls) = in_a_row(&["teardown", "--yes"]);
    assert!(teardown <= 5, "{teardown} calls in a row (of {calls})");
    assert!(!w.function_exists().await);
}
