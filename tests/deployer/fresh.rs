//! A fresh deploy, read back resource by resource through the SDK.

use serde_json::{json, Value};

use crate::common::{assert_all, World};

const TAG: &str = "catup:stack";

fn decode(doc: &str) -> Value {
    serde_json::from_str(doc).unwrap_or_else(|_| {
        let decoded = percent_encoding::percent_decode_str(doc)
            .decode_utf8()
            .unwrap();
        serde_json::from_str(&decoded).unwrap()
    })
}

/// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets.
type Flags = (Option<bool>, Option<bool>, Option<bool>, Option<bool>);

async fn public_access(s3: &aws_sdk_s3::Client, bucket: &str) -> Flags {
    let out = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let c = out.public_access_block_configuration.unwrap();
    (
        c.block_public_acls,
        c.ignore_public_acls,
        c.block_public_policy,
        c.restrict_public_buckets,
    )
}

#[tokio::test]
async fn fresh_deploy_creates_every_resource_as_specified() {
    let w = World::new();
    let report = w.deploy();
    assert_all(&report, "created");
    let (s3, lambda, iam, logs) = (
        w.s3().await,
        w.lambda().await,
        w.iam().await,
        w.logs().await,
    );
    let (images, site) = (w.images_bucket(), w.site_bucket());
    let origin = format!("http://{site}.s3-website-us-east-1.amazonaws.com");
    assert_eq!(report["website_url"], format!("{origin}/"));
    assert_eq!(report["images_bucket"], images.as_str());
    assert_eq!(report["site_bucket"], site.as_str());

    // Images bucket: private, encrypted, CORS for the website origin exactly.
    assert_eq!(
        public_access(&s3, &images).await,
        (Some(true), Some(true), Some(true), Some(true))
    );
    let cors = s3.get_bucket_cors().bucket(&images).send().await.unwrap();
    let [rule] = cors.cors_rules() else {
        panic!("one CORS rule: {cors:?}")
    };
    let mut methods = rule.allowed_methods().to_vec();
    methods.sort();
    assert_eq!(methods, ["GET", "PUT"]);
    assert_eq!(rule.allowed_headers(), ["content-type"]);
    assert_eq!(rule.allowed_origins(), [origin.as_str()]);
    let sse = s3
        .get_bucket_encryption()
        .bucket(&images)
        .send()
        .await
        .unwrap();
    let sse = sse.server_side_encryption_configuration.unwrap();
    let algorithm = sse.rules()[0]
        .apply_server_side_encryption_by_default()
        .unwrap()
        .sse_algorithm();
    assert_eq!(algorithm.as_str(), "AES256");
    assert!(
        s3.get_bucket_policy().bucket(&images).send().await.is_err(),
        "images bucket has no policy"
    );

    // Site bucket: ACLs blocked, public policy allowed, public-read of objects only, website.
    assert_eq!(
        public_access(&s3, &site).await,
        (Some(true), Some(true), Some(false), Some(false))
    );
    let policy = s3.get_bucket_policy().bucket(&site).send().await.unwrap();
    assert_eq!(
        decode(policy.policy().unwrap()),
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "PublicReadWebsite", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{site}/*")}]})
    );
    let website = s3.get_bucket_website().bucket(&site).send().await.unwrap();
    assert_eq!(website.index_document().unwrap().suffix(), "index.html");
    assert_eq!(website.error_document().unwrap().key(), "index.html");
    for bucket in [&images, &site] {
        let tags = s3.get_bucket_tagging().bucket(bucket).send().await.unwrap();
        assert!(
            tags.tag_set()
                .iter()
                .any(|t| t.key() == TAG && t.value() == w.stack),
            "{bucket}"
        );
    }

    // Role: Lambda may assume it; the inline policy is the least-privilege document.
    let role_name = w.role();
    let role = iam
        .get_role()
        .role_name(&role_name)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(
        decode(role.assume_role_policy_document().unwrap()),
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "LambdaAssumesRole", "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    );
    assert!(role
        .tags()
        .iter()
        .any(|t| t.key() == TAG && t.value() == w.stack));
    let names = iam
        .list_role_policies()
        .role_name(&role_name)
        .send()
        .await
        .unwrap();
    assert_eq!(names.policy_names(), ["catup-runtime"]);
    let inline = iam
        .get_role_policy()
        .role_name(&role_name)
        .policy_name("catup-runtime")
        .send()
        .await
        .unwrap();
    let log_group = format!("/aws/lambda/{}", w.function());
    assert_eq!(
        decode(inline.policy_document()),
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "ListImagesPrefixOnly", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": format!("arn:aws:s3:::{images}"),
             "Condition": {"StringLike": {"s3:prefix": ["images/", "images/*"]}}},
            {"Sid": "ReadWriteImages", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": format!("arn:aws:s3:::{images}/images/*")},
            {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": format!("arn:aws:logs:us-east-1:123456789012:log-group:{log_group}:log-stream:*")}]})
    );
    assert!(iam
        .list_attached_role_policies()
        .role_name(&role_name)
        .send()
        .await
        .unwrap()
        .attached_policies()
        .is_empty());

    // Log group with 14 days' retention.
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(&log_group)
        .send()
        .await
        .unwrap();
    let [group] = groups.log_groups() else {
        panic!("one log group")
    };
    assert_eq!(group.retention_in_days(), Some(14));

    // Function.
    let function = lambda
        .get_function()
        .function_name(w.function())
        .send()
        .await
        .unwrap();
    let config = function.configuration().unwrap();
    assert_eq!(config.runtime().unwrap().as_str(), "provided.al2023");
    assert_eq!(config.handler(), Some("bootstrap"));
    assert_eq!(config.architectures()[0].as_str(), "x86_64");
    assert_eq!(
        (config.memory_size(), config.timeout()),
        (Some(128), Some(10))
    );
    assert_eq!(config.role(), Some(role.arn()));
    let env = config.environment().unwrap().variables().unwrap();
    assert_eq!(env.len(), 1);
    assert_eq!(env["IMAGES_BUCKET"], images);
    assert_eq!(function.tags().unwrap()[TAG], w.stack);

    // Function URL: public, CORS for the site origin, both permission statements once.
    let url = lambda
        .get_function_url_config()
        .function_name(w.function())
        .send()
        .await
        .unwrap();
    assert_eq!(url.auth_type().as_str(), "NONE");
    assert_eq!(report["function_url"], url.function_url());
    let cors = url.cors().unwrap();
    assert_eq!(cors.allow_origins(), [origin.as_str()]);
    let mut methods = cors.allow_methods().to_vec();
    methods.sort();
    assert_eq!(methods, ["GET", "POST"]);
    assert_eq!(cors.allow_headers(), ["content-type"]);
    assert_eq!(cors.max_age(), Some(300));
    let policy = lambda
        .get_policy()
        .function_name(w.function())
        .send()
        .await
        .unwrap();
    let policy = decode(policy.policy().unwrap());
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2, "{policy:#}");
    let by_action = |action: &str| {
        statements
            .iter()
            .find(|s| s["Action"] == action)
            .unwrap_or_else(|| panic!("{action} in {policy:#}"))
            .to_string()
    };
    // moto keeps the request fields; AWS turns them into conditions of the same names.
    let public = by_action("lambda:InvokeFunctionUrl");
    assert!(
        public.contains("FunctionUrlAuthType") && public.contains("NONE"),
        "{public}"
    );
    let via_url = by_action("lambda:InvokeFunction");
    assert!(
        via_url.contains("InvokedViaFunctionUrl") && via_url.contains("true"),
        "{via_url}"
    );

    // Site files: the frontend with its content types, and config.js with the real URL.
    let config_js = s3
        .get_object()
        .bucket(&site)
        .key("config.js")
        .send()
        .await
        .unwrap();
    assert_eq!(
        config_js.content_type(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(config_js.cache_control(), Some("no-cache"));
    let body = config_js.body.collect().await.unwrap().into_bytes();
    assert_eq!(
        String::from_utf8(body.to_vec()).unwrap(),
        format!(
            "window.CAT_UPLOAD_CONFIG = {{ apiBaseUrl: \"{}\" }};\n",
            url.function_url()
        )
    );
    for (key, content_type) in [
        ("index.html", "text/html; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("styles.css", "text/css; charset=utf-8"),
    ] {
        let head = s3
            .head_object()
            .bucket(&site)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_type(), Some(content_type), "{key}");
        let local = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("frontend")
                .join(key),
        )
        .unwrap();
        assert_eq!(head.content_length(), Some(local.len() as i64), "{key}");
    }
}

/// The website origin follows AWS's per-region endpoint table, in both CORS configurations.
#[tokio::test]
async fn website_origin_uses_the_region_s_endpoint_style() {
    for (region, separator) in [("eu-central-1", "."), ("us-west-2", "-")] {
        let w = World::in_region(region);
        let report = w.deploy();
        let site = w.site_bucket();
        let origin = format!("http://{site}.s3-website{separator}{region}.amazonaws.com");
        assert_eq!(report["website_url"], format!("{origin}/"));
        assert_eq!(report["region"], region);

        let location = w
            .s3()
            .await
            .get_bucket_location()
            .bucket(w.images_bucket())
            .send()
            .await
            .unwrap();
        assert_eq!(location.location_constraint().unwrap().as_str(), region);
        assert_eq!(w.images_cors_origins().await, [origin.as_str()]);
        let url = w
            .lambda()
            .await
            .get_function_url_config()
            .function_name(w.function())
            .send()
            .await
            .unwrap();
        assert_eq!(url.cors().unwrap().allow_origins(), [origin.as_str()]);
    }
}

/// Lab accounts cannot create roles: --role-arn uses theirs, creates none, deletes none.
#[tokio::test]
async fn role_arn_uses_an_existing_role_and_never_deletes_it() {
    let w = World::new();
    let iam = w.iam().await;
    let lab_role = w.lab_role().await;
    let arn = lab_role.as_str();
    let report = w.deploy_as(&w.stack, &["--role-arn", arn]);
    let role_line = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "role")
        .unwrap()
        .clone();
    assert_eq!(role_line["state"], "external");
    let function = w.function_configuration().await;
    assert_eq!(function.role(), Some(arn));
    let err = iam.get_role().role_name(w.role()).send().await;
    assert!(err.is_err(), "no role of catup's own");

    let status = w
        .catup(&["status", "--json", "--role-arn", arn])
        .ok()
        .json();
    assert_eq!(status["in_sync"], true, "{status:#}");
    assert_eq!(status["role_name"], Value::Null);

    w.catup(&["teardown", "--yes", "--role-arn", arn]).ok();
    assert!(
        iam.get_role().role_name("LabRole").send().await.is_ok(),
        "the lab role survives"
    );
    assert!(!w.function_exists().await);
}
