//! A fresh deploy, read back resource by resource through the SDK: one test per resource,
//! each on its own stack (a deploy against moto takes about a second).

use catup_testkit::policy::document;
use serde_json::{json, Value};

use crate::common::{assert_all, World};

const TAG: &str = "catup:stack";

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

/// The origin a browser sends for the site in us-east-1 (the dash form).
fn site_origin(w: &World) -> String {
    format!(
        "http://{}.s3-website-us-east-1.amazonaws.com",
        w.site_bucket()
    )
}

fn log_group(w: &World) -> String {
    format!("/aws/lambda/{}", w.function())
}

#[track_caller]
fn assert_tagged_with_the_stack(
    tags: &aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput,
    w: &World,
    bucket: &str,
) {
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == TAG && t.value() == w.stack),
        "{bucket}"
    );
}

#[tokio::test]
async fn the_report_lists_every_resource_created_and_names_the_buckets_and_the_site() {
    let w = World::new();
    let report = w.deploy();
    assert_all(&report, "created");
    assert_eq!(report["website_url"], format!("{}/", site_origin(&w)));
    assert_eq!(report["images_bucket"], w.images_bucket().as_str());
    assert_eq!(report["site_bucket"], w.site_bucket().as_str());
}

/// Private, encrypted, tagged, CORS for the website origin exactly.
#[tokio::test]
async fn images_bucket_is_private_encrypted_tagged_and_open_to_the_site_origin_only() {
    let w = World::new();
    w.deploy();
    let (s3, images, origin) = (w.s3().await, w.images_bucket(), site_origin(&w));
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
    let tags = s3
        .get_bucket_tagging()
        .bucket(&images)
        .send()
        .await
        .unwrap();
    assert_tagged_with_the_stack(&tags, &w, &images);
}

/// ACLs blocked, public policy allowed, public-read of objects only, website, tagged.
#[tokio::test]
async fn site_bucket_is_a_tagged_website_whose_objects_only_are_public() {
    let w = World::new();
    w.deploy();
    let (s3, site) = (w.s3().await, w.site_bucket());
    assert_eq!(
        public_access(&s3, &site).await,
        (Some(true), Some(true), Some(false), Some(false))
    );
    let policy = s3.get_bucket_policy().bucket(&site).send().await.unwrap();
    assert_eq!(
        document(policy.policy().unwrap()),
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "PublicReadWebsite", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{site}/*")}]})
    );
    let website = s3.get_bucket_website().bucket(&site).send().await.unwrap();
    assert_eq!(website.index_document().unwrap().suffix(), "index.html");
    assert_eq!(website.error_document().unwrap().key(), "index.html");
    let tags = s3.get_bucket_tagging().bucket(&site).send().await.unwrap();
    assert_tagged_with_the_stack(&tags, &w, &site);
}

/// Lambda may assume it; the inline policy is the least-privilege document; nothing attached.
#[tokio::test]
async fn role_trusts_lambda_and_holds_only_the_least_privilege_inline_policy() {
    let w = World::new();
    w.deploy();
    let (iam, role_name, images) = (w.iam().await, w.role(), w.images_bucket());
    let role = w.role_read_back().await;
    assert_eq!(
        document(role.assume_role_policy_document().unwrap()),
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
    let log_group = log_group(&w);
    assert_eq!(
        document(inline.policy_document()),
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "ListImagesPrefixOnly", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": format!("arn:aws:s3:::{images}"),
             "Condition": {"StringLike": {"s3:prefix": ["images/", "images/*", "thumbs/", "thumbs/*"]}}},
            {"Sid": "ReadWriteImages", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": format!("arn:aws:s3:::{images}/images/*")},
            {"Sid": "ReadThumbnails", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": format!("arn:aws:s3:::{images}/thumbs/*")},
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
}

#[tokio::test]
async fn log_group_keeps_14_days() {
    let w = World::new();
    w.deploy();
    let groups = w
        .logs()
        .await
        .describe_log_groups()
        .log_group_name_prefix(log_group(&w))
        .send()
        .await
        .unwrap();
    let [group] = groups.log_groups() else {
        panic!("one log group")
    };
    assert_eq!(group.retention_in_days(), Some(14));
}

/// provided.al2023, x86_64, `bootstrap`, 128 MB, 10 s, the stack's role and images bucket.
#[tokio::test]
async fn function_runs_the_bootstrap_with_the_stack_s_role_and_images_bucket() {
    let w = World::new();
    w.deploy();
    let role = w.role_read_back().await;
    let function = w
        .lambda()
        .await
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
    assert_eq!(env["IMAGES_BUCKET"], w.images_bucket());
    assert_eq!(function.tags().unwrap()[TAG], w.stack);
}

/// Public, CORS for the site origin, both permission statements once.
#[tokio::test]
async fn function_url_is_public_with_cors_for_the_site_and_both_permission_statements() {
    let w = World::new();
    let report = w.deploy();
    let origin = site_origin(&w);
    let url = w.function_url_config().await;
    assert_eq!(url.auth_type().as_str(), "NONE");
    assert_eq!(report["function_url"], url.function_url());
    let cors = url.cors().unwrap();
    assert_eq!(cors.allow_origins(), [origin.as_str()]);
    let mut methods = cors.allow_methods().to_vec();
    methods.sort();
    assert_eq!(methods, ["GET", "POST"]);
    assert_eq!(cors.allow_headers(), ["content-type"]);
    assert_eq!(cors.max_age(), Some(300));
    let policy = document(&w.function_policy().await);
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
}

/// The frontend with its content types, and config.js with the real URL.
#[tokio::test]
async fn site_files_are_the_frontend_and_a_config_js_naming_the_function_url() {
    let w = World::new();
    w.deploy();
    let (s3, site) = (w.s3().await, w.site_bucket());
    let url = w.function_url_config().await;
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
