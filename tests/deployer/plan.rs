//! `catup plan`: what it lists is exactly what deploy then does, it changes nothing, and a
//! synced stack plans nothing (exit 0; 2 when deploy would change something).

use serde_json::Value;

use crate::common::{Run, World};

/// `plan --json` with the tiny bootstrap (and `extra` arguments).
fn plan(w: &World, extra: &[&str]) -> Run {
    let bootstrap = w.bootstrap.to_str().unwrap();
    let args = [&["plan", "--json", "--bootstrap", bootstrap], extra].concat();
    w.catup(&args)
}

/// Each row of a plan as deploy's report would say it once done: (kind, state, detail).
fn as_deploy_would_report(plan: &Value) -> Vec<(String, String, String)> {
    plan["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|row| {
            let state = match row["action"].as_str().unwrap() {
                "create" => "created",
                "update" => "updated",
                "unchanged" => "unchanged",
                "external" => "external",
                other => panic!("deploy cannot report {other}: {plan:#}"),
            };
            let aspects: Vec<&str> = row["aspects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            (
                row["kind"].as_str().unwrap().to_owned(),
                state.to_owned(),
                aspects.join(", "),
            )
        })
        .collect()
}

fn reported(deploy: &Value) -> Vec<(String, String, String)> {
    deploy["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["state"].as_str().unwrap().to_owned(),
                r["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Plans (changing nothing, exit 2), deploys, checks deploy did exactly the plan, and that a
/// second plan finds nothing to do. Returns the plan.
async fn plan_then_deploy(w: &World, extra: &[&str]) -> Value {
    w.moto.start_recording().await;
    let run = plan(w, extra);
    assert_eq!(
        run.code, 2,
        "changes to make:\n{}\n{}",
        run.stdout, run.stderr
    );
    let planned = run.json();
    let mutations = w.moto.recorded_mutations().await;
    assert!(
        mutations.is_empty(),
        "plan changed something: {mutations:#?}"
    );
    assert_eq!(planned["changes"], true);

    let bootstrap = w.bootstrap.to_str().unwrap();
    let args = [&["deploy", "--json", "--bootstrap", bootstrap], extra].concat();
    let deployed = w.catup(&args).ok().json();
    assert_eq!(
        reported(&deployed),
        as_deploy_would_report(&planned),
        "plan:\n{planned:#}"
    );

    let again = plan(w, extra);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(again.json()["changes"], false);
    planned
}

fn action_of(plan: &Value, kind: &str) -> (String, Vec<String>) {
    let row = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {plan:#}"));
    let aspects = row["aspects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    (row["action"].as_str().unwrap().to_owned(), aspects)
}

#[tokio::test]
async fn a_synced_stack_plans_nothing_and_plan_reads_no_more_than_status() {
    let w = World::new();
    w.deploy();
    w.moto.start_recording().await;
    let run = plan(&w, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let plan_calls = w.moto.recorded_calls().await;
    assert!(
        plan_calls.iter().all(|c| !c.is_mutating()),
        "{plan_calls:#?}"
    );
    let report = run.json();
    for row in report["resources"].as_array().unwrap() {
        assert_eq!(row["action"], "unchanged", "{report:#}");
    }
    assert_eq!(report["resources"].as_array().unwrap().len(), 7);
    assert_eq!(report["site_files"]["upload"], serde_json::json!([]));
    assert_eq!(report["site_files"]["delete"], serde_json::json!([]));

    w.moto.start_recording().await;
    w.catup(&["status", "--json"]).ok();
    let status_calls = w.moto.recorded_calls().await;
    assert!(
        plan_calls.len() <= status_calls.len(),
        "plan made {} calls, status {}",
        plan_calls.len(),
        status_calls.len()
    );

    let text = w
        .catup(&["plan", "--bootstrap", w.bootstrap.to_str().unwrap()])
        .ok();
    assert!(
        text.stdout.contains("No changes: the stack is up to date."),
        "{}",
        text.stdout
    );
}

#[tokio::test]
async fn a_fresh_account_plans_every_create_that_deploy_then_makes() {
    let w = World::new();
    let planned = plan_then_deploy(&w, &[]).await;
    for kind in [
        "images_bucket",
        "site_bucket",
        "log_group",
        "role",
        "function",
        "function_url",
        "site_files",
    ] {
        assert_eq!(action_of(&planned, kind).0, "create", "{kind}");
    }
    let text = w.catup(&["plan", "--bootstrap", w.bootstrap.to_str().unwrap()]);
    assert_eq!(text.code, 0, "{}", text.stderr);
}

#[tokio::test]
async fn a_half_deployed_stack_plans_what_is_missing() {
    let w = World::new();
    w.deploy();
    // What a deploy interrupted before its function leaves: the function (with its URL) and
    // the log group gone.
    w.delete_function().await;
    w.logs()
        .await
        .delete_log_group()
        .log_group_name(format!("/aws/lambda/{}", w.function()))
        .send()
        .await
        .unwrap();
    let planned = plan_then_deploy(&w, &[]).await;
    assert_eq!(action_of(&planned, "function").0, "create");
    assert_eq!(action_of(&planned, "function_url").0, "create");
    assert_eq!(action_of(&planned, "log_group").0, "create");
    assert_eq!(action_of(&planned, "role").0, "unchanged");
    // config.js waits for the new Function URL.
    assert_eq!(
        action_of(&planned, "site_files"),
        ("update".to_owned(), vec!["config.js".to_owned()])
    );
}

#[tokio::test]
async fn every_kind_of_drift_is_planned_as_deploy_then_repairs_it() {
    let w = World::new();
    w.deploy();
    let (s3, iam, logs) = (w.s3().await, w.iam().await, w.logs().await);

    // Round one: a bucket's CORS gone, the function resized, a URL permission removed.
    w.remove_images_cors().await;
    w.resize_function(None, Some(60)).await;
    w.remove_url_permission("FunctionURLAllowPublicAccess")
        .await;
    let planned = plan_then_deploy(&w, &[]).await;
    assert_eq!(
        action_of(&planned, "images_bucket"),
        ("update".to_owned(), vec!["cors".to_owned()])
    );
    assert_eq!(
        action_of(&planned, "function"),
        ("update".to_owned(), vec!["configuration".to_owned()])
    );
    assert_eq!(
        action_of(&planned, "function_url"),
        ("update".to_owned(), vec!["permissions".to_owned()])
    );

    // Round two: the role widened, the log group's retention changed, the site's website
    // configuration removed.
    iam.put_role_policy()
        .role_name(w.role())
        .policy_name("wide")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name(format!("/aws/lambda/{}", w.function()))
        .retention_in_days(1)
        .send()
        .await
        .unwrap();
    s3.delete_bucket_website()
        .bucket(w.site_bucket())
        .send()
        .await
        .unwrap();
    let planned = plan_then_deploy(&w, &[]).await;
    assert_eq!(
        action_of(&planned, "role"),
        ("update".to_owned(), vec!["extra policies".to_owned()])
    );
    assert_eq!(
        action_of(&planned, "log_group"),
        ("update".to_owned(), vec!["retention".to_owned()])
    );
    assert_eq!(
        action_of(&planned, "site_bucket"),
        ("update".to_owned(), vec!["website".to_owned()])
    );
    assert_eq!(action_of(&planned, "function").0, "unchanged");
}

#[tokio::test]
async fn a_file_removed_from_the_frontend_is_planned_for_deletion_and_deleted() {
    let w = World::new();
    let frontend = w.frontend_copy();
    std::fs::write(frontend.join("old-banner.svg"), "<svg/>").unwrap();
    let folder = frontend.to_str().unwrap().to_owned();
    let with_frontend = ["--frontend", folder.as_str()];
    w.deploy_as(&w.stack, &with_frontend);
    std::fs::remove_file(frontend.join("old-banner.svg")).unwrap();

    let run = plan(&w, &with_frontend);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let planned = run.json();
    assert_eq!(
        planned["site_files"]["delete"],
        serde_json::json!(["old-banner.svg"])
    );
    assert_eq!(planned["site_files"]["upload"], serde_json::json!([]));
    assert_eq!(
        action_of(&planned, "site_files"),
        (
            "update".to_owned(),
            vec!["delete old-banner.svg".to_owned()]
        )
    );
    let text = w.catup(&[
        "plan",
        "--bootstrap",
        w.bootstrap.to_str().unwrap(),
        "--frontend",
        &folder,
    ]);
    assert!(
        text.stdout.contains("delete:   old-banner.svg"),
        "{}",
        text.stdout
    );

    w.moto.start_recording().await;
    let deployed = w.deploy_as(&w.stack, &with_frontend);
    let mutations: Vec<String> = w
        .moto
        .recorded_mutations()
        .await
        .iter()
        .map(|c| format!("{} {}", c.method, c.url))
        .collect();
    let site = format!("{}/{}", w.moto.endpoint(), w.site_bucket());
    assert_eq!(mutations.len(), 1, "{mutations:#?}");
    assert!(
        mutations[0].starts_with(&format!("POST {site}")) && mutations[0].contains("delete"),
        "{mutations:#?}"
    );
    assert_eq!(
        reported(&deployed)
            .into_iter()
            .find(|(kind, _, _)| kind == "site_files"),
        Some((
            "site_files".to_owned(),
            "updated".to_owned(),
            "delete old-banner.svg".to_owned()
        ))
    );
    let keys = crate::private_stays_private::site_keys(&w).await;
    assert!(!keys.contains(&"old-banner.svg".to_owned()), "{keys:?}");
    assert!(keys.contains(&"config.js".to_owned()), "{keys:?}");
    assert!(keys.contains(&"index.html".to_owned()), "{keys:?}");
    assert_eq!(plan(&w, &with_frontend).code, 0);
}

#[tokio::test]
async fn a_resource_of_another_stack_is_planned_as_refused_and_plan_fails() {
    let w = World::new();
    let other = w.other_stack();
    // The other stack's images bucket goes by this stack's images bucket name.
    w.deploy_as(&other, &["--images-bucket", &w.images_bucket()]);
    w.moto.start_recording().await;
    let run = plan(&w, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let planned = run.json();
    let (action, _) = action_of(&planned, "images_bucket");
    assert_eq!(action, "refused", "{planned:#}");
    let row = planned["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "images_bucket")
        .unwrap();
    assert!(
        row["reason"].as_str().unwrap().contains(&other),
        "{planned:#}"
    );
    assert!(
        planned["refusal"]
            .as_str()
            .unwrap()
            .contains("does not belong"),
        "{planned:#}"
    );
    assert!(w.moto.recorded_mutations().await.is_empty());
}

/// Deploy remembers the zip's hash of the binary it zipped (under the user's cache folder);
/// plan compares with it instead of deflating megabytes again. A planted wrong hash shows
/// plan really reads it; with nothing remembered, plan zips for itself.
#[tokio::test]
async fn plan_compares_the_code_through_the_zip_hash_deploy_remembered() {
    let w = World::new();
    let cache = w.dir.join("cache");
    let mut env = w.env_via(&w.moto.endpoint());
    env.push(("XDG_CACHE_HOME", cache.to_str().unwrap().to_owned()));
    let bootstrap = w.bootstrap.to_str().unwrap();
    let run = |command: &str| {
        let args = [
            "--stack",
            &w.stack,
            command,
            "--json",
            "--bootstrap",
            bootstrap,
        ];
        crate::common::run_catup(&w.dir, &env, &args)
    };
    run("deploy").ok();
    let folder = cache.join("catup").join("zip-sha256");
    let entries: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
    assert_eq!(entries.len(), 1, "one binary zipped");
    let entry = entries[0].as_ref().unwrap().path();
    let remembered = std::fs::read_to_string(&entry).unwrap();
    let deployed = w.function_configuration().await;
    assert!(
        remembered.starts_with(deployed.code_sha256().unwrap()),
        "{remembered} vs {:?}",
        deployed.code_sha256()
    );
    assert_eq!(run("plan").code, 0);

    std::fs::write(&entry, format!("{} 1000\n", "A".repeat(44))).unwrap();
    let planted = run("plan");
    assert_eq!(planted.code, 2, "{}", planted.stderr);
    assert_eq!(
        action_of(&planted.json(), "function"),
        ("update".to_owned(), vec!["code".to_owned()])
    );
    // With another, empty cache folder (HOME's), plan zips for itself and finds nothing to do.
    assert_eq!(plan(&w, &[]).code, 0);
}

/// `plan` of a stack that does not exist builds nothing: every row is "create" either way.
/// Proven by the build's absence: no toolchain on PATH at all, and plan still answers.
#[test]
fn plan_of_a_stack_not_deployed_yet_builds_nothing() {
    let w = World::new();
    let empty = w.dir.join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let mut env = w.moto.env();
    env.push(("PATH", empty.display().to_string()));
    let args = ["--stack", w.stack.as_str(), "plan", "--json"];
    let run = crate::common::run_catup(&w.dir, &env, &args);
    assert_eq!(run.code, 2, "changes, no build:\n{}", run.stderr);
    assert!(run.stderr.contains("without building it"), "{}", run.stderr);
    let rows = run.json()["resources"].clone();
    let function = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "function")
        .unwrap()
        .clone();
    assert_eq!(function["action"], "create", "{rows}");
}
