//! What company and lab accounts forbid, which moto allows by default: the account's S3 Block
//! Public Access (moto models it, through S3 Control), roles that may not be created, and
//! organization policies against public Function URLs. catup stops with one line that says
//! whose setting it is and what to do, before any change where it can know in advance.

use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use catup::aws::Aws;
use catup::region::Region;

use crate::common::{detail_of, World};

/// Sets the account's Block Public Access (the S3 console's "for this account" setting).
async fn block_account(w: &World, policy: bool, restrict: bool) {
    let aws = Aws::from_config(&w.sdk().await, Region::parse(&w.region).unwrap());
    aws.s3control
        .put_public_access_block()
        .account_id(catup_testkit::MOTO_ACCOUNT_ID)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(policy)
                .restrict_public_buckets(restrict)
                .build(),
        )
        .send()
        .await
        .expect("set the account's Block Public Access in moto");
}

fn deploy_args(w: &World) -> Vec<&str> {
    vec![
        "deploy",
        "--json",
        "--bootstrap",
        w.bootstrap.to_str().unwrap(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_block_public_policy_stops_deploy_before_any_change() {
    let w = World::new();
    block_account(&w, true, false).await;
    w.moto.start_recording().await;
    w.catup(&deploy_args(&w)).fails_with(
        1,
        "the account's S3 Block Public Access setting (BlockPublicPolicy)",
    );
    let changes = w.moto.recorded_mutations().await;
    assert!(changes.is_empty(), "AWS was changed: {changes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_restrict_public_buckets_alone_is_drift_for_status_and_stops_deploy() {
    let w = World::new();
    w.deploy();
    w.catup(&["status", "--json"]).ok();
    block_account(&w, false, true).await;

    let status = w.catup(&["status", "--json"]);
    assert_eq!(status.code, 4, "{}", status.stderr);
    let (state, detail) = detail_of(&status.json(), "site_bucket");
    assert_eq!(state, "drifted");
    assert!(detail.contains("RestrictPublicBuckets"), "{detail}");

    w.moto.start_recording().await;
    let run = w
        .catup(&deploy_args(&w))
        .fails_with(1, "RestrictPublicBuckets");
    assert!(run
        .stderr
        .contains("s3control put-public-access-block --account-id"));
    assert!(w.moto.recorded_mutations().await.is_empty());
}
