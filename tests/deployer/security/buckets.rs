//! The buckets: the images bucket private in every way, the site bucket readable and no more.

use std::collections::BTreeSet;

use aws_sdk_s3::error::ProvideErrorMetadata;
use catup_testkit::policy::{document, statements, strings};

use super::{assert_none, names_everyone, negations};
use crate::common::World;

/// The images bucket's public access block flags that are not on, an Allow of its policy that
/// names everyone, and ACL grants to everyone or every AWS account.
pub(super) async fn images_bucket_exposure(w: &World) -> Vec<String> {
    let s3 = w.s3().await;
    let images = w.images_bucket();
    let mut problems = Vec::new();
    let pab = s3
        .get_public_access_block()
        .bucket(&images)
        .send()
        .await
        .expect("the images bucket has a public access block")
        .public_access_block_configuration
        .expect("public access block configuration");
    for (flag, value) in [
        ("BlockPublicAcls", pab.block_public_acls),
        ("IgnorePublicAcls", pab.ignore_public_acls),
        ("BlockPublicPolicy", pab.block_public_policy),
        ("RestrictPublicBuckets", pab.restrict_public_buckets),
    ] {
        if value != Some(true) {
            problems.push(format!("{flag} is {value:?}"));
        }
    }

    // No bucket policy at all, or none whose Allow statements name everyone.
    match s3.get_bucket_policy().bucket(&images).send().await {
        Err(e) => assert_eq!(
            e.code(),
            Some("NoSuchBucketPolicy"),
            "reading the images bucket policy failed otherwise: {e:?}"
        ),
        Ok(out) => {
            let doc = document(out.policy().unwrap_or("{}"));
            for statement in statements(&doc) {
                if statement["Effect"] == "Allow"
                    && (names_everyone(&statement["Principal"])
                        || statement.get("NotPrincipal").is_some())
                {
                    problems.push(format!("the bucket policy grants everyone: {statement}"));
                }
            }
        }
    }

    let acl = s3.get_bucket_acl().bucket(&images).send().await.unwrap();
    for grant in acl.grants() {
        let uri = grant.grantee().and_then(|g| g.uri()).unwrap_or_default();
        if uri.contains("AllUsers") || uri.contains("AuthenticatedUsers") {
            problems.push(format!("the ACL grants {uri}"));
        }
    }
    problems
}

#[tokio::test]
async fn images_bucket_blocks_all_public_access_and_nothing_grants_everyone() {
    let w = World::new();
    w.deploy();
    assert_none(
        images_bucket_exposure(&w).await,
        "the images bucket is not private",
    );
}

/// Everything the site bucket policy allows beyond s3:GetObject on `<site-arn>/*`, or its lack.
pub(super) async fn site_policy_excess(w: &World) -> Vec<String> {
    let site = w.site_bucket();
    let policy = w
        .s3()
        .await
        .get_bucket_policy()
        .bucket(&site)
        .send()
        .await
        .expect("the site bucket has a policy");
    let doc = document(policy.policy().expect("policy text"));
    let mut problems = Vec::new();
    let mut granted = BTreeSet::new();
    for statement in statements(&doc) {
        match statement["Effect"].as_str() {
            Some("Deny") => continue, // a denial narrows access
            Some("Allow") => {}
            other => {
                problems.push(format!("Effect {other:?}: {statement}"));
                continue;
            }
        }
        negations(statement, &mut problems);
        let (actions, resources) = (strings(statement, "Action"), strings(statement, "Resource"));
        if actions.is_empty() || resources.is_empty() {
            problems.push(format!("an Allow without Action or Resource: {statement}"));
        }
        for action in &actions {
            for resource in &resources {
                granted.insert((action.to_string(), resource.to_string()));
            }
        }
    }
    let only = BTreeSet::from([("s3:GetObject".to_owned(), format!("arn:aws:s3:::{site}/*"))]);
    if granted != only {
        problems.push(format!("grants {granted:?}, not exactly {only:?}: {doc:#}"));
    }
    problems
}

#[tokio::test]
async fn site_bucket_policy_grants_only_get_object_on_the_site_objects() {
    let w = World::new();
    w.deploy();
    assert_none(
        site_policy_excess(&w).await,
        "the site policy must grant s3:GetObject on the site's objects and nothing else",
    );
}
