//! Deploy again: nothing changed means no mutating call; a change means exactly its repair.

use crate::common::{assert_all, assert_state, detail_of, World};

#[tokio::test]
async fn second_deploy_makes_zero_mutating_calls() {
    let w = World::new();
    let first = w.deploy();
    w.moto.start_recording().await;
    let second = w.deploy();
    let calls = w.moto.recorded_calls().await;
    let mutations: Vec<String> = calls
        .iter()
        .filter(|c| c.is_mutating())
        .map(|c| c.to_string())
        .collect();
    assert!(
        mutations.is_empty(),
        "mutating calls on a no-op deploy: {mutations:#?}"
    );
    assert!(!calls.is_empty(), "the recorder saw the reads");
    assert_all(&second, "unchanged");
    assert_eq!(second["changed"], false);
    assert_eq!(second["function_url"], first["function_url"]);

    let text = w
        .catup(&["deploy", "--bootstrap", w.bootstrap.to_str().unwrap()])
        .ok();
    assert_eq!(
        text.stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("unchanged"))
            .count(),
        7,
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains(&format!(
        "Function URL: {}",
        first["function_url"].as_str().unwrap()
    )));

    let status = w.catup(&["status", "--json"]).ok().json();
    assert_eq!(
        (status["deployed"].as_bool(), status["in_sync"].as_bool()),
        (Some(true), Some(true))
    );
    assert_all(&status, "ok");
}

#[tokio::test]
async fn changed_frontend_file_uploads_only_that_object() {
    let w = World::new();
    let frontend = w.frontend_copy();
    let bootstrap = w.bootstrap.to_str().unwrap().to_owned();
    let args = [
        "deploy",
        "--json",
        "--bootstrap",
        &bootstrap,
        "--frontend",
        frontend.to_str().unwrap(),
    ];
    w.catup(&args).ok();
    let css = frontend.join("styles.css");
    let mut body = std::fs::read_to_string(&css).unwrap();
    body.push_str("\n/* a changed rule */ body { margin: 0 }\n");
    std::fs::write(&css, &body).unwrap();

    // status compares the site's files only when told which folder they come from.
    let frontend_arg = frontend.to_str().unwrap();
    let run = w.catup(&["status", "--json", "--frontend", frontend_arg]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_state(&run.json(), "site_files", "drifted", "styles.css");
    w.catup(&["status", "--json"]).ok();

    w.moto.start_recording().await;
    let report = w.catup(&args).ok().json();
    let mutations: Vec<String> = w
        .moto
        .recorded_mutations()
        .await
        .iter()
        .map(|c| format!("{} {}", c.method, c.url.split('?').next().unwrap()))
        .collect();
    let expected = format!("PUT {}/{}/styles.css", w.moto.endpoint(), w.site_bucket());
    assert_eq!(mutations, vec![expected]);
    assert_state(&report, "site_files", "updated", "styles.css");
    let stored = w
        .s3()
        .await
        .get_object()
        .bucket(w.site_bucket())
        .key("styles.css")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.body.collect().await.unwrap().into_bytes(),
        body.as_bytes()
    );
}

#[tokio::test]
async fn a_new_bootstrap_updates_only_the_code() {
    let w = World::new();
    w.deploy();
    let before = w.function_configuration().await;
    let other = catup_testkit::elf::build(&catup_testkit::elf::ElfSpec::x86_64_needing(&[(2, 28)]));
    std::fs::write(&w.bootstrap, other).unwrap();
    w.moto.start_recording().await;
    let report = w.deploy();
    let mutations = w.moto.recorded_mutations().await;
    assert_eq!(mutations.len(), 1, "{mutations:#?}");
    assert!(
        mutations[0]
            .url
            .ends_with(&format!("/functions/{}/code", w.function())),
        "{}",
        mutations[0]
    );
    assert_state(&report, "function", "updated", "code");
    let after = w.function_configuration().await;
    assert_ne!(before.code_sha256(), after.code_sha256());
}

#[tokio::test]
async fn drift_is_reported_by_status_and_repaired_by_deploy() {
    let w = World::new();
    w.deploy();
    let (s3, lambda) = (w.s3().await, w.lambda().await);
    // Four kinds of drift at once: CORS removed, the site made private, the function
    // resized, a permission statement removed.
    w.remove_images_cors().await;
    s3.put_public_access_block()
        .bucket(w.site_bucket())
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    w.resize_function(Some(512), None).await;
    w.remove_url_permission("FunctionURLAllowInvokeAction")
        .await;

    let run = w.catup(&["status", "--json"]);
    assert_eq!(run.code, 4, "drifted exit code: {}", run.stderr);
    let status = run.json();
    assert_eq!(
        (status["deployed"].as_bool(), status["in_sync"].as_bool()),
        (Some(true), Some(false))
    );
    assert_state(&status, "images_bucket", "drifted", "cors");
    assert_state(&status, "site_bucket", "drifted", "public access block");
    assert_state(&status, "function", "drifted", "configuration");
    assert_state(&status, "function_url", "drifted", "permissions");
    assert_eq!(detail_of(&status, "role").0, "ok");

    let report = w.deploy();
    assert_state(&report, "images_bucket", "updated", "cors");
    assert_state(&report, "site_bucket", "updated", "public access block");
    assert_state(&report, "function", "updated", "configuration");
    assert_state(&report, "function_url", "updated", "permissions");
    let status = w.catup(&["status", "--json"]).ok().json();
    assert_all(&status, "ok");
    let memory = lambda
        .get_function_configuration()
        .function_name(w.function())
        .send()
        .await
        .unwrap()
        .memory_size();
    assert_eq!(memory, Some(128));
}

#[tokio::test]
async fn status_of_a_stack_never_deployed_says_so() {
    let w = World::new();
    let run = w.catup(&["status", "--json"]);
    assert_eq!(run.code, 3, "not-deployed exit code: {}", run.stderr);
    let status = run.json();
    assert_eq!(status["deployed"], false);
    assert_eq!(status["function_url"], serde_json::Value::Null);
    assert_all(&status, "missing");
    let text = w.catup(&["status"]);
    assert_eq!(text.code, 3);
    assert!(
        text.stdout.lines().next().unwrap().contains("not deployed"),
        "{}",
        text.stdout
    );
}

#[tokio::test]
async fn status_prints_the_function_url_first_with_its_label() {
    let w = World::new();
    let report = w.deploy();
    let run = w.catup(&["status"]).ok();
    let url = report["function_url"].as_str().unwrap();
    assert_eq!(
        run.stdout.lines().next(),
        Some(format!("Function URL: {url}").as_str())
    );
    let status = w.catup(&["status", "--json"]).ok().json();
    for field in [
        "stack",
        "region",
        "deployed",
        "function_url",
        "website_url",
        "site_bucket",
        "images_bucket",
        "function_name",
        "role_name",
        "resources",
    ] {
        assert!(status.get(field).is_some(), "{field} in {status:#}");
    }
    assert_eq!(status["function_name"], w.function());
    assert_eq!(status["role_name"], w.role());
}

/// A deploy killed between creating a bucket and tagging it leaves an empty untagged
/// bucket: the next deploy adopts it.
#[tokio::test]
async fn deploy_adopts_the_empty_untagged_bucket_an_interrupted_deploy_left() {
    let w = World::new();
    w.s3()
        .await
        .create_bucket()
        .bucket(w.images_bucket())
        .send()
        .await
        .unwrap();
    let report = w.deploy();
    assert_eq!(detail_of(&report, "images_bucket").0, "updated");
    let status = w.catup(&["status", "--json"]).ok().json();
    assert_all(&status, "ok");
}

/// A resource with one of the stack's names but another owner is drift in status, and
/// deploy refuses it by name.
#[tokio::test]
async fn status_reports_a_foreign_function_as_drifted() {
    let w = World::new();
    w.deploy();
    let lambda = w.lambda().await;
    let arn = lambda
        .get_function()
        .function_name(w.function())
        .send()
        .await
        .unwrap();
    let arn = arn
        .configuration()
        .unwrap()
        .function_arn()
        .unwrap()
        .to_owned();
    lambda
        .untag_resource()
        .resource(&arn)
        .tag_keys("catup:stack")
        .send()
        .await
        .unwrap();
    let run = w.catup(&["status", "--json"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let (state, detail) = detail_of(&run.json(), "function");
    assert_eq!(state, "drifted");
    assert!(
        detail.contains("not this stack's") && detail.contains("no catup:stack tag"),
        "{detail}"
    );
}

/// Credentials and region from a named profile (--profile), as the AWS CLI reads them.
#[tokio::test]
async fn profile_supplies_credentials_and_region() {
    let w = World::new();
    std::fs::write(w.dir.join("config"), "[profile cats]\nregion = eu-west-3\n").unwrap();
    std::fs::write(
        w.dir.join("credentials"),
        "[cats]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let env = vec![
        ("AWS_ENDPOINT_URL", w.moto.endpoint()),
        (
            "AWS_CONFIG_FILE",
            w.dir.join("config").display().to_string(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            w.dir.join("credentials").display().to_string(),
        ),
    ];
    let run = crate::common::run_catup(
        &w.dir,
        &env,
        &["--stack", &w.stack, "--profile", "cats", "status", "--json"],
    );
    assert_eq!(run.code, 3, "not deployed yet: {}", run.stderr);
    assert_eq!(run.json()["region"], "eu-west-3");
}

/// Least privilege is part of the desired state: an extra role policy or a policy on the
/// images bucket is drift, and deploy removes it.
#[tokio::test]
async fn widened_role_and_images_bucket_policy_are_drift_that_deploy_removes() {
    let w = World::new();
    w.deploy();
    let role = w.role();
    let iam = w.iam().await;
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("everything")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let public = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}/*"}}]}}"#,
        w.images_bucket()
    );
    let s3 = w.s3().await;
    s3.put_bucket_policy()
        .bucket(w.images_bucket())
        .policy(public)
        .send()
        .await
        .unwrap();

    let run = w.catup(&["status", "--json"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let status = run.json();
    assert_state(&status, "role", "drifted", "extra policies");
    assert_state(&status, "images_bucket", "drifted", "policy");

    let report = w.deploy();
    assert_state(&report, "role", "updated", "extra policies");
    assert_state(&report, "images_bucket", "updated", "policy");
    let names = iam
        .list_role_policies()
        .role_name(&role)
        .send()
        .await
        .unwrap();
    assert_eq!(names.policy_names(), ["catup-runtime"]);
    assert!(s3
        .get_bucket_policy()
        .bucket(w.images_bucket())
        .send()
        .await
        .is_err());
    assert_all(&w.catup(&["status", "--json"]).ok().json(), "ok");
}
