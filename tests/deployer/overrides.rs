//! A stack remembers the names it was deployed with (--images-bucket, --site-bucket,
//! --role-arn): later commands without the flags act on the same resources, and a command
//! with other values is refused naming the flag to pass.

use crate::bucket_roles::{bucket_exists, put_object};
use crate::common::World;

async fn images_bucket_of_the_function(w: &World) -> String {
    let config = w.function_configuration().await;
    let env = config.environment().unwrap().variables().unwrap();
    env["IMAGES_BUCKET"].clone()
}

#[tokio::test]
async fn later_commands_without_the_flags_act_on_the_buckets_the_stack_was_deployed_with() {
    let w = World::new();
    let (images, site) = (format!("{}-gallery", w.stack), format!("{}-www", w.stack));
    w.deploy_as(
        &w.stack,
        &["--images-bucket", &images, "--site-bucket", &site],
    );
    put_object(&w, &images, "images/0001-cat.png").await;

    let report = w.deploy();
    assert_eq!(report["images_bucket"], images.as_str());
    assert_eq!(report["site_bucket"], site.as_str());
    assert_eq!(images_bucket_of_the_function(&w).await, images);
    assert!(
        !bucket_exists(&w, &w.images_bucket()).await,
        "a new, empty bucket was made"
    );
    let status = w.catup(&["status", "--json"]).ok();
    assert!(status
        .stderr
        .contains(&format!("--images-bucket {images}: remembered")));

    // Another bucket would leave the gallery behind: refused, naming the flag to pass.
    let other = format!("{}-other", w.stack);
    let bootstrap = w.bootstrap.to_str().unwrap();
    w.moto.start_recording().await;
    w.catup(&[
        "deploy",
        "--bootstrap",
        bootstrap,
        "--images-bucket",
        &other,
    ])
    .fails_with(1, &format!("pass --images-bucket {images}"));
    let mutations = w.moto.recorded_mutations().await;
    assert!(mutations.is_empty(), "changed: {mutations:?}");

    w.catup(&["teardown", "--yes"]).ok();
    for bucket in [&images, &site] {
        assert!(!bucket_exists(&w, bucket).await, "{bucket} left behind");
    }
}

#[tokio::test]
async fn a_role_arn_is_remembered_and_never_replaced_by_a_role_of_catup_s() {
    let w = World::new();
    let iam = w.iam().await;
    let arn = w.lab_role().await;
    w.deploy_as(&w.stack, &["--role-arn", &arn]);

    w.deploy();
    assert_eq!(w.function_configuration().await.role(), Some(arn.as_str()));
    assert!(iam.get_role().role_name(w.role()).send().await.is_err());

    w.catup(&["teardown", "--yes"]).ok();
    assert!(iam.get_role().role_name("LabRole").send().await.is_ok());
}

/// Lambda's tag values may not hold a `,`, which IAM role names may: the remembered role is
/// written so that Lambda takes it, and read back as the same ARN.
#[tokio::test]
async fn a_role_whose_name_lambda_tags_cannot_hold_is_remembered_all_the_same() {
    let w = World::new();
    let arn = w.role_named("lab,role").await;
    w.deploy_as(&w.stack, &["--role-arn", &arn]);
    let lambda = w.lambda().await;
    let function_arn = w
        .function_configuration()
        .await
        .function_arn()
        .unwrap()
        .to_owned();
    let tags = lambda
        .list_tags()
        .resource(function_arn)
        .send()
        .await
        .unwrap();
    let allowed = |c: char| c.is_alphanumeric() || " _.:/=+-@".contains(c);
    for (key, value) in tags.tags().unwrap() {
        assert!(
            value.chars().all(allowed),
            "tag {key}={value}: Lambda refuses it"
        );
    }
    // Remembered: a deploy without the flag keeps the role, and status is clean.
    w.deploy();
    assert_eq!(w.function_configuration().await.role(), Some(arn.as_str()));
    w.catup(&["status"]).ok();
}

/// A role ARN whose remembered form would pass Lambda's 256 characters per tag value (a long
/// path) is refused before any AWS call, not at CreateFunction after the other resources.
#[tokio::test]
async fn a_role_arn_too_long_for_a_lambda_tag_is_refused_before_any_call() {
    let w = World::new();
    let path = "lab/".repeat(60);
    let arn = format!("arn:aws:iam::123456789012:role/{path}LabRole");
    w.moto.start_recording().await;
    let bootstrap = w.bootstrap.to_str().unwrap();
    let args = [
        "--role-arn",
        arn.as_str(),
        "deploy",
        "--bootstrap",
        bootstrap,
    ];
    w.catup(&args)
        .fails_with(1, "too long to remember in a Lambda tag");
    let calls = w.moto.recorded_calls().await;
    assert!(calls.is_empty(), "AWS was called: {calls:#?}");
}
