//! catup adopts only exactly what a killed deploy of its own leaves, deletes only what carries
//! its stack's tag, and when that tag is gone says how to put it back.

use aws_sdk_s3::types::{CorsConfiguration, CorsRule};

use crate::bucket_roles::{bucket_exists, bucket_with_tags, exposure, put_bucket_tags, tags_of};
use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};

use crate::common::{Run, World};

const YEARS: i32 = 3653;

fn deploy_fails(w: &World, needle: &str) -> Run {
    let bootstrap = w.bootstrap.to_str().unwrap();
    w.catup(&["deploy", "--bootstrap", bootstrap])
        .fails_with(1, needle)
}

#[tokio::test]
async fn an_untagged_log_group_of_the_stack_s_name_is_never_adopted() {
    let w = World::new();
    let logs = w.logs().await;
    let group = format!("/aws/lambda/{}", w.function());
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name(&group)
        .retention_in_days(YEARS)
        .send()
        .await
        .unwrap();

    let run = deploy_fails(&w, "no catup:stack tag");
    assert!(
        run.stderr
            .contains(&format!("aws logs tag-log-group --log-group-name {group}")),
        "{}",
        run.stderr
    );
    w.catup(&["teardown", "--yes"])
        .fails_with(1, "no catup:stack tag");

    let found = logs
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .unwrap();
    let found = &found.log_groups()[0];
    assert_eq!(found.retention_in_days(), Some(YEARS));
    let arn = found.arn().unwrap().trim_end_matches(":*");
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert!(tags.tags().is_none_or(|t| t.is_empty()), "{tags:?}");
    assert!(!bucket_exists(&w, &w.images_bucket()).await);
}

#[tokio::test]
async fn teardown_never_deletes_an_empty_bucket_tagged_for_someone_else() {
    let w = World::new();
    let images = w.images_bucket();
    bucket_with_tags(&w, &images, &[("owner", "someone-else")]).await;

    w.catup(&["teardown", "--yes"])
        .fails_with(1, "does not belong");
    deploy_fails(&w, "does not belong");

    assert!(bucket_exists(&w, &images).await);
    assert_eq!(
        tags_of(&w, &images).await,
        [("owner".to_owned(), "someone-else".to_owned())]
    );
}

#[tokio::test]
async fn an_empty_untagged_bucket_that_someone_configured_is_not_adopted() {
    let w = World::new();
    let site = w.site_bucket();
    bucket_with_tags(&w, &site, &[]).await;
    let rule = CorsRule::builder()
        .allowed_methods("GET")
        .allowed_origins("https://someones.example")
        .build()
        .unwrap();
    let cors = CorsConfiguration::builder()
        .cors_rules(rule)
        .build()
        .unwrap();
    let s3 = w.s3().await;
    s3.put_bucket_cors()
        .bucket(&site)
        .cors_configuration(cors)
        .send()
        .await
        .unwrap();

    deploy_fails(&w, "does not belong");
    w.catup(&["teardown", "--yes"])
        .fails_with(1, "does not belong");

    let read = s3.get_bucket_cors().bucket(&site).send().await.unwrap();
    assert_eq!(
        read.cors_rules()[0].allowed_origins(),
        ["https://someones.example"]
    );
    assert_eq!(exposure(&w, &site).await, (None, false, false));
    assert!(tags_of(&w, &site).await.is_empty());
}

#[tokio::test]
async fn a_resource_that_lost_its_tag_says_how_to_restore_it_and_the_command_works() {
    let w = World::new();
    w.deploy();
    let images = w.images_bucket();
    let s3 = w.s3().await;
    s3.delete_bucket_tagging()
        .bucket(&images)
        .send()
        .await
        .unwrap();

    let run = deploy_fails(&w, "restore the tag: aws s3api put-bucket-tagging");
    let expected = format!(
        "--bucket {images} --tagging 'TagSet=[{{Key=catup:stack,Value={}}},{{Key=catup:role,Value=images}}]'",
        w.stack
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);

    // What the command does, done through the SDK: the next deploy is this stack's again.
    let restored = [("catup:stack", w.stack.as_str()), ("catup:role", "images")];
    put_bucket_tags(&w, &images, &restored).await;
    w.deploy();
}

/// Two stacks deploying one --site-bucket at once: the second's read saw nothing, then
/// its CreateBucket is answered BucketAlreadyOwnedByYou. It reads the tags back and stops,
/// instead of reporting "created" and retagging the other stack's bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_another_stack_created_meanwhile_is_not_reported_created() {
    another_stack_s_bucket_is_not_taken_over("eu-west-1").await;
}

/// The same in us-east-1, where S3 (and moto) answer 200 to CreateBucket of a bucket the
/// account already owns: 200 there proves nothing, and the tags are read as anywhere else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_us_east_1_create_bucket_s_200_is_no_proof_of_creation() {
    another_stack_s_bucket_is_not_taken_over("us-east-1").await;
}

async fn another_stack_s_bucket_is_not_taken_over(region: &str) {
    let w = World::in_region(region);
    let shared = format!("{}-shared-site", w.stack);
    w.deploy_as(&w.stack, &["--site-bucket", &shared]);
    let before = tags_of(&w, &shared).await;
    let config_js = object_text(&w, &shared, "config.js").await;

    // As if the read happened just before the first stack's CreateBucket: its first call
    // (GetBucketTagging, which decides for a tagged bucket) says there is no such bucket.
    let unseen = Answer::error(404, "NoSuchBucket", "The specified bucket does not exist");
    let script = vec![Scripted::new(On::s3("GET", &shared, "tagging"), 1, unseen)];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;
    let other = w.other_stack();
    let bootstrap = w.bootstrap.to_str().unwrap();
    let args = ["deploy", "--bootstrap", bootstrap, "--site-bucket", &shared];
    w.moto.start_recording().await;
    let run = w
        .catup_via(&proxy.endpoint(), &other, &args)
        .fails_with(1, &format!("catup:stack={}", w.stack));
    assert!(
        !run.stdout.contains("created  site bucket"),
        "{}",
        run.stdout
    );
    assert_eq!(proxy.answered(0), 1);
    // The path under test went through CreateBucket, which answers as S3 does in this
    // region: 200 in us-east-1 for a bucket the account owns, BucketAlreadyOwnedByYou elsewhere.
    let create_bucket = |c: &catup_testkit::recorder::Call| {
        c.method == "PUT" && c.url.trim_end_matches('/').ends_with(&format!("/{shared}"))
    };
    let calls = w.moto.recorded_calls().await;
    assert!(
        calls.iter().any(create_bucket),
        "no CreateBucket sent: {calls:?}"
    );
    let mut again = w.s3().await.create_bucket().bucket(&shared);
    if region != "us-east-1" {
        let constraint = aws_sdk_s3::types::BucketLocationConstraint::from(region);
        again = again.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(constraint)
                .build(),
        );
    }
    let again = again.send().await;
    if region == "us-east-1" {
        assert!(again.is_ok(), "CreateBucket of an owned bucket: {again:?}");
    } else {
        let code = again
            .unwrap_err()
            .into_service_error()
            .meta()
            .code()
            .map(str::to_owned);
        assert_eq!(code.as_deref(), Some("BucketAlreadyOwnedByYou"));
    }
    assert_eq!(tags_of(&w, &shared).await, before);
    assert_eq!(object_text(&w, &shared, "config.js").await, config_js);
    w.catup(&["status", "--site-bucket", &shared]).ok();
}

async fn object_text(w: &World, bucket: &str, key: &str) -> String {
    let out = w
        .s3()
        .await
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await;
    let bytes = out.unwrap().body.collect().await.unwrap().into_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}
