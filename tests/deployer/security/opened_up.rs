//! The checks are not vacuous: a stack opened up behind catup fails every one of them.

use serde_json::json;

use super::buckets::{images_bucket_exposure, site_policy_excess};
use super::function_url::{function_url_cors_excess, site_origin};
use super::role::{role_overreach, trust_beyond_lambda};
use crate::common::World;

/// The checks above are not vacuous: the same deployed stack, opened up through the SDK the
/// way a bug in catup would leave it, fails every one of them.
#[tokio::test]
async fn stack_checks_catch_a_stack_opened_up_behind_catup() {
    let w = World::new();
    w.deploy();
    let (s3, iam, lambda) = (w.s3().await, w.iam().await, w.lambda().await);
    let (images, site) = (w.images_bucket(), w.site_bucket());

    // Images bucket: one flag off, then a public-read policy.
    s3.put_public_access_block()
        .bucket(&images)
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let found = images_bucket_exposure(&w).await;
    assert!(
        found.iter().any(|p| p.contains("RestrictPublicBuckets")),
        "{found:?}"
    );
    let public_read = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{images}/*")}]});
    s3.put_bucket_policy()
        .bucket(&images)
        .policy(public_read.to_string())
        .send()
        .await
        .unwrap();
    let found = images_bucket_exposure(&w).await;
    assert!(
        found.iter().any(|p| p.contains("grants everyone")),
        "{found:?}"
    );

    // Site bucket: listing too, then a second resource.
    for (action, resource) in [
        (
            json!(["s3:GetObject", "s3:ListBucket"]),
            json!(format!("arn:aws:s3:::{site}/*")),
        ),
        (
            json!("s3:GetObject"),
            json!([
                format!("arn:aws:s3:::{site}/*"),
                format!("arn:aws:s3:::{images}/*")
            ]),
        ),
    ] {
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": "*", "Action": action, "Resource": resource}]});
        s3.put_bucket_policy()
            .bucket(&site)
            .policy(policy.to_string())
            .send()
            .await
            .unwrap();
        assert!(!site_policy_excess(&w).await.is_empty(), "{policy}");
    }

    // Role: a wildcard action, the whole bucket, a write under thumbs/ (where the thumbnail
    // function writes), another log group, each alone.
    let role = w.role();
    let lg = "arn:aws:logs:us-east-1:123456789012:log-group";
    for (action, resource, expected) in [
        (
            json!("s3:*"),
            format!("arn:aws:s3:::{images}/images/*"),
            "wildcard action",
        ),
        (
            json!(["s3:GetObject"]),
            format!("arn:aws:s3:::{images}/*"),
            "is outside",
        ),
        (
            json!(["s3:PutObject"]),
            format!("arn:aws:s3:::{images}/thumbs/*"),
            "thumbs/ is for reading only",
        ),
        (
            json!("logs:PutLogEvents"),
            format!("{lg}:/aws/lambda/{}-other:*", w.function()),
            "is outside",
        ),
    ] {
        let extra = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Action": action, "Resource": resource}});
        iam.put_role_policy()
            .role_name(&role)
            .policy_name("extra")
            .policy_document(extra.to_string())
            .send()
            .await
            .unwrap();
        let found = role_overreach(&w).await;
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("inline extra") && p.contains(expected)),
            "{extra}: {found:?}"
        );
    }

    // Trust: another account may assume the role too.
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com", "AWS": "arn:aws:iam::999999999999:root"},
        "Action": "sts:AssumeRole"}]});
    iam.update_assume_role_policy()
        .role_name(&role)
        .policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    assert!(!trust_beyond_lambda(&w).await.is_empty());

    // Function URL: any origin, then an extra method.
    for (origins, methods) in [
        (
            vec!["*".to_owned()],
            vec!["GET".to_owned(), "POST".to_owned()],
        ),
        (
            vec![site_origin(&w)],
            vec!["GET".to_owned(), "POST".to_owned(), "PUT".to_owned()],
        ),
    ] {
        lambda
            .update_function_url_config()
            .function_name(w.function())
            .cors(
                aws_sdk_lambda::types::Cors::builder()
                    .set_allow_origins(Some(origins.clone()))
                    .set_allow_methods(Some(methods.clone()))
                    .allow_headers("content-type")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert!(
            !function_url_cors_excess(&w).await.is_empty(),
            "{origins:?} {methods:?}"
        );
    }
}
