//! A remembered name is a pointer, not a proof: whatever catup reads back from the function's
//! tags is acted on only when the resource it names proves it is the stack's. An edited tag
//! stops every command before any change (naming the tag, what it points at and how to clear
//! it), and never turns teardown onto someone else's resource or away from the stack's own.

use crate::bucket_roles::{bucket_exists, bucket_with_tags, put_object};
use crate::common::World;
use crate::snapshot::bucket_state;

/// Sets one of the function's tags, as `aws lambda tag-resource` does.
async fn edit_function_tag(w: &World, key: &str, value: &str) {
    let lambda = w.lambda().await;
    let arn = w
        .function_configuration()
        .await
        .function_arn()
        .unwrap()
        .to_owned();
    lambda
        .tag_resource()
        .resource(arn)
        .tags(key, value)
        .send()
        .await
        .unwrap();
}

fn deploy_args(w: &World) -> Vec<String> {
    vec![
        "deploy".into(),
        "--bootstrap".into(),
        w.bootstrap.display().to_string(),
    ]
}

#[tokio::test]
async fn an_edited_bucket_tag_never_adopts_nor_deletes_someone_s_empty_bucket() {
    let w = World::new();
    w.deploy();
    // What S3 makes of a fresh `aws s3api create-bucket`: empty, untagged, unconfigured.
    let someone = format!("{}-someone", w.stack);
    bucket_with_tags(&w, &someone, &[]).await;
    let before = bucket_state(&w, &someone).await;
    edit_function_tag(&w, "catup:site-bucket", &someone).await;

    w.moto.start_recording().await;
    let args = deploy_args(&w);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = w.catup(&args).fails_with(1, "catup:site-bucket");
    for needle in [someone.as_str(), "untag-resource", "--site-bucket"] {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
    let mutations = w.moto.recorded_mutations().await;
    assert!(mutations.is_empty(), "changed: {mutations:?}");
    let bootstrap = w.bootstrap.to_str().unwrap();
    w.catup(&["plan", "--bootstrap", bootstrap])
        .fails_with(1, "catup:site-bucket");
    assert_eq!(bucket_state(&w, &someone).await, before);

    // Teardown is not blocked: it removes the stack's own site bucket and leaves that one.
    let run = w.catup(&["teardown", "--yes"]).ok();
    assert!(
        run.stdout
            .contains(&format!("left alone: bucket {someone}")),
        "{}",
        run.stdout
    );
    assert_eq!(bucket_state(&w, &someone).await, before);
    for gone in [w.site_bucket(), w.images_bucket()] {
        assert!(!bucket_exists(&w, &gone).await, "{gone} left behind");
    }
    assert!(!w.function_exists().await);
}

#[tokio::test]
async fn an_edited_role_tag_never_moves_the_function_and_teardown_deletes_the_stack_s_role() {
    let w = World::new();
    w.deploy();
    let other = w.other_stack();
    w.deploy_as(&other, &[]);
    let other_role_arn = format!("arn:aws:iam::123456789012:role/{}", w.role_of(&other));
    edit_function_tag(&w, "catup:role-arn", &other_role_arn).await;

    w.moto.start_recording().await;
    let args = deploy_args(&w);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = w.catup(&args).fails_with(1, "catup:role-arn");
    assert!(
        run.stderr.contains("not the role the function runs with"),
        "{}",
        run.stderr
    );
    assert!(w.moto.recorded_mutations().await.is_empty());
    let own_role = w.function_configuration().await.role().unwrap().to_owned();
    assert!(own_role.ends_with(&w.role()), "{own_role}");

    let run = w.catup(&["teardown", "--yes"]).ok();
    assert!(run.stdout.contains("left alone"), "{}", run.stdout);
    let iam = w.iam().await;
    assert!(
        iam.get_role().role_name(w.role()).send().await.is_err(),
        "the stack's role stayed"
    );
    assert!(iam
        .get_role()
        .role_name(w.role_of(&other))
        .send()
        .await
        .is_ok());
    w.catup_as(&other, &["status"]).ok();
}

/// The stack's own role written into the tag (as if it were a `--role-arn` role): still the
/// stack's, so teardown deletes it instead of leaving it as an outside role.
#[tokio::test]
async fn an_edited_role_tag_naming_the_stack_s_own_role_never_leaves_it_behind() {
    let w = World::new();
    w.deploy();
    let own_role_arn = w.function_configuration().await.role().unwrap().to_owned();
    assert!(own_role_arn.ends_with(&w.role()), "{own_role_arn}");
    edit_function_tag(&w, "catup:role-arn", &own_role_arn).await;

    let status = w.catup(&["status", "--json"]).ok();
    crate::common::assert_all(&status.json(), "ok");

    w.catup(&["teardown", "--yes"]).ok();
    let iam = w.iam().await;
    assert!(
        iam.get_role().role_name(w.role()).send().await.is_err(),
        "the stack's own role was left behind as an outside one"
    );
}

#[tokio::test]
async fn a_remembered_role_of_another_account_is_named_and_replaced_by_the_flag() {
    let w = World::new();
    let lab_role = w.lab_role().await;
    w.deploy_as(&w.stack, &["--role-arn", &lab_role]);
    let foreign = "arn:aws:iam::999999999999:role/LabRole";
    edit_function_tag(&w, "catup:role-arn", foreign).await;

    let run = w.catup(&["status"]).fails_with(1, "catup:role-arn");
    assert!(
        run.stderr.contains("account 999999999999"),
        "{}",
        run.stderr
    );
    // The right value replaces the unusable one instead of being refused as "another".
    w.deploy_as(&w.stack, &["--role-arn", &lab_role]);
    w.catup(&["status"]).ok();

    edit_function_tag(&w, "catup:role-arn", foreign).await;
    w.catup(&["teardown", "--yes"]).ok();
    assert!(!w.function_exists().await);
    let iam = w.iam().await;
    assert!(iam.get_role().role_name("LabRole").send().await.is_ok());
}

/// A teardown cut short right after DeleteFunction loses the function's tags, which
/// remembered the custom bucket names: the next teardown, with no flags, finds the buckets
/// by their own tags and finishes.
#[tokio::test]
async fn a_teardown_cut_short_after_the_function_is_finished_by_the_next_with_no_flags() {
    let w = World::new();
    let (images, site) = (format!("{}-gallery", w.stack), format!("{}-www", w.stack));
    w.deploy_as(
        &w.stack,
        &["--images-bucket", &images, "--site-bucket", &site],
    );
    put_object(&w, &images, "images/0001-cat.png").await;
    w.delete_function().await;

    let plan = w.catup(&["teardown", "--dry-run", "--json"]).ok().json();
    let names: Vec<&str> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "delete")
        .filter_map(|r| r["name"].as_str())
        .collect();
    for bucket in [&images, &site] {
        assert!(
            names.contains(&bucket.as_str()),
            "{bucket} not found: {plan}"
        );
    }
    w.catup(&["teardown", "--yes"]).ok();
    for bucket in [&images, &site] {
        assert!(!bucket_exists(&w, bucket).await, "{bucket} left behind");
    }
    let again = w.catup(&["teardown", "--yes"]).ok();
    assert!(again.stdout.contains("nothing to do"), "{}", again.stdout);
}

/// A remembered images bucket no bucket could be named (or the site bucket's own name):
/// every command but teardown stops naming the tag, changing nothing; `--images-bucket`
/// replaces it; teardown is not blocked and removes the stack.
#[tokio::test]
async fn an_unusable_images_bucket_tag_stops_commands_but_never_teardown() {
    let w = World::new();
    let custom = format!("{}-own-images", w.stack);
    w.deploy_as(&w.stack, &["--images-bucket", &custom]);
    let site = w.site_bucket();
    for unusable in ["Not_A_Bucket", site.as_str()] {
        edit_function_tag(&w, "catup:images-bucket", unusable).await;
        w.moto.start_recording().await;
        let run = w.catup(&["status"]).fails_with(1, "catup:images-bucket");
        assert!(run.stderr.contains(unusable), "{}", run.stderr);
        let args = deploy_args(&w);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        w.catup(&args).fails_with(1, "catup:images-bucket");
        assert!(w.moto.recorded_mutations().await.is_empty());
        // The flag with the right name replaces the unusable value.
        w.deploy_as(&w.stack, &["--images-bucket", &custom]);
        w.catup(&["status"]).ok();
    }
    edit_function_tag(&w, "catup:images-bucket", "Not_A_Bucket").await;
    w.catup(&["teardown", "--yes"]).ok();
    assert!(!w.function_exists().await);
    assert!(!bucket_exists(&w, &site).await);
    assert!(
        !bucket_exists(&w, &custom).await,
        "the custom images bucket was left behind (found by its tags)"
    );
}
