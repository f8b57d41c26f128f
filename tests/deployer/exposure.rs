//! Settings catup never makes but that expose, disable or empty the stack are drift: `status`
//! exits 4 naming each, `deploy` removes them, and what belongs to others stays.

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, CorsConfiguration, CorsRule,
    ErrorDocument, ExpirationStatus, IndexDocument, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, Redirect, RoutingRule, WebsiteConfiguration,
};

use crate::common::{detail_of, World};

/// status exits 4 and the resource's line names `aspect`; deploy repairs; status is 0 again.
fn drifted_then_repaired(w: &World, kind: &str, aspects: &[&str]) {
    let status = w.catup(&["status", "--json"]);
    assert_eq!(status.code, 4, "{}{}", status.stdout, status.stderr);
    let (state, detail) = detail_of(&status.json(), kind);
    assert_eq!(state, "drifted", "{detail}");
    for aspect in aspects {
        assert!(detail.contains(aspect), "{kind}: {detail}");
    }
    let report = w.deploy();
    assert_eq!(detail_of(&report, kind).0, "updated");
    w.catup(&["status"]).ok();
}

#[tokio::test]
async fn a_public_invoke_statement_and_zero_concurrency_are_drift_and_removed() {
    let w = World::new();
    w.deploy();
    let lambda = w.lambda().await;
    // Someone else's narrow grant (s3-events) is not catup's business.
    for (sid, principal) in [
        ("anyone-may-invoke", "*"),
        ("s3-events", "s3.amazonaws.com"),
    ] {
        lambda
            .add_permission()
            .function_name(w.function())
            .statement_id(sid)
            .action("lambda:InvokeFunction")
            .principal(principal)
            .send()
            .await
            .unwrap();
    }
    drifted_then_repaired(&w, "function_url", &["public permissions"]);
    let policy = w.function_policy().await;
    assert!(!policy.contains("anyone-may-invoke"), "{policy}");
    assert!(policy.contains("s3-events") && policy.contains("FunctionURLAllowPublicAccess"));

    lambda
        .put_function_concurrency()
        .function_name(w.function())
        .reserved_concurrent_executions(0)
        .send()
        .await
        .unwrap();
    drifted_then_repaired(&w, "function", &["reserved concurrency 0"]);
    let concurrency = lambda
        .get_function_concurrency()
        .function_name(w.function())
        .send()
        .await
        .unwrap();
    assert_eq!(concurrency.reserved_concurrent_executions(), None);
}

#[tokio::test]
async fn website_routing_rules_and_site_cors_are_drift_and_removed() {
    let w = World::new();
    w.deploy();
    let s3 = w.s3().await;
    let site = w.site_bucket();
    let elsewhere = RoutingRule::builder()
        .redirect(Redirect::builder().host_name("evil.example").build())
        .build();
    let website = WebsiteConfiguration::builder()
        .index_document(
            IndexDocument::builder()
                .suffix("index.html")
                .build()
                .unwrap(),
        )
        .error_document(ErrorDocument::builder().key("index.html").build().unwrap())
        .routing_rules(elsewhere)
        .build();
    s3.put_bucket_website()
        .bucket(&site)
        .website_configuration(website)
        .send()
        .await
        .unwrap();
    let anyone = CorsRule::builder()
        .allowed_methods("GET")
        .allowed_methods("PUT")
        .allowed_origins("*")
        .build()
        .unwrap();
    s3.put_bucket_cors()
        .bucket(&site)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(anyone)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    drifted_then_repaired(&w, "site_bucket", &["website", "cors"]);
    let website = s3.get_bucket_website().bucket(&site).send().await.unwrap();
    assert!(website.routing_rules().is_empty(), "{website:?}");
    assert_eq!(website.index_document().unwrap().suffix(), "index.html");
    assert!(s3.get_bucket_cors().bucket(&site).send().await.is_err());
}

#[tokio::test]
async fn a_lifecycle_rule_that_expires_images_is_drift_and_only_it_is_removed() {
    let w = World::new();
    w.deploy();
    let s3 = w.s3().await;
    let images = w.images_bucket();
    let filter = || LifecycleRuleFilter::builder().prefix("images/").build();
    let expire = LifecycleRule::builder()
        .id("expire-uploads")
        .status(ExpirationStatus::Enabled)
        .filter(filter())
        .expiration(LifecycleExpiration::builder().days(1).build())
        .build()
        .unwrap();
    let abort = LifecycleRule::builder()
        .id("abort-incomplete-uploads")
        .status(ExpirationStatus::Enabled)
        .filter(filter())
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(7)
                .build(),
        )
        .build()
        .unwrap();
    let config = BucketLifecycleConfiguration::builder()
        .rules(expire)
        .rules(abort)
        .build()
        .unwrap();
    s3.put_bucket_lifecycle_configuration()
        .bucket(&images)
        .lifecycle_configuration(config)
        .send()
        .await
        .unwrap();

    drifted_then_repaired(&w, "images_bucket", &["lifecycle"]);
    let left = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&images)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = left.rules().iter().filter_map(|r| r.id()).collect();
    assert_eq!(ids, ["abort-incomplete-uploads"]);
}
