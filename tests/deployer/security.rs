//! Security properties (issue 6), read from the live stack in moto: what the buckets, the role
//! and the Function URL allow, and what the function's presigned URLs and responses contain.
//!
//! Policies are judged generically (every statement, Action/Resource as string or array), not
//! compared with a copy of `policies/`. Presigned URLs are checked against an independent SigV4
//! implementation below (moto does not verify signatures), never against catup's presigner.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_s3::error::ProvideErrorMetadata;
use catup_testkit::{MOTO_ACCOUNT_ID, TEST_REGION};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::World;
use crate::dev::Dev;

/// moto's (and `catup dev`'s) test secret: the presigned URLs are signed with it.
const TEST_SECRET: &str = "testing";
const TEST_ACCESS_KEY: &str = "testing";
const MAX_URL_TTL: u64 = 900;

// ---------------------------------------------------------------------------------------------
// Policy documents, read generically. Each check returns what it found wrong (empty when the
// property holds), so that `stack_checks_catch_a_stack_opened_up_behind_catup` can prove every
// check fails on a stack that lacks its property.

/// IAM may return documents URL-encoded; S3 and Lambda return plain JSON.
fn decode(doc: &str) -> Value {
    serde_json::from_str(doc).unwrap_or_else(|_| {
        let decoded = percent_encoding::percent_decode_str(doc)
            .decode_utf8()
            .expect("policy document is UTF-8");
        serde_json::from_str(&decoded)
            .unwrap_or_else(|e| panic!("policy document is not JSON ({e}): {decoded}"))
    })
}

/// `Statement` is an object or an array of them.
fn statements(doc: &Value) -> Vec<&Value> {
    match &doc["Statement"] {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![&doc["Statement"]],
        other => panic!("policy without Statement ({other}): {doc:#}"),
    }
}

/// A policy element that is a string or an array of strings; missing is empty.
fn strings<'a>(statement: &'a Value, field: &str) -> Vec<&'a str> {
    match &statement[field] {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .unwrap_or_else(|| panic!("{field} holds a non-string: {statement:#}"))
            })
            .collect(),
        other => panic!("{field} is neither string nor array ({other}): {statement:#}"),
    }
}

/// Negated elements (NotAction, NotResource, NotPrincipal) grant everything they do not name.
fn negations(statement: &Value, problems: &mut Vec<String>) {
    for field in ["NotAction", "NotResource", "NotPrincipal"] {
        if statement.get(field).is_some() {
            problems.push(format!("{field} grants all it does not name: {statement}"));
        }
    }
}

/// Whether a Principal element names everyone: `"*"` or `{"AWS": "*"}` (or in an array).
fn names_everyone(principal: &Value) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(map) => map.values().any(|v| match v {
            Value::String(s) => s == "*",
            Value::Array(items) => items.iter().any(|i| i == "*"),
            _ => false,
        }),
        _ => false,
    }
}

#[track_caller]
fn assert_none(problems: Vec<String>, what: &str) {
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Buckets.

/// The images bucket's public access block flags that are not on, an Allow of its policy that
/// names everyone, and ACL grants to everyone or every AWS account.
async fn images_bucket_exposure(w: &World) -> Vec<String> {
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
            let doc = decode(out.policy().unwrap_or("{}"));
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
async fn site_policy_excess(w: &World) -> Vec<String> {
    let site = w.site_bucket();
    let policy = w
        .s3()
        .await
        .get_bucket_policy()
        .bucket(&site)
        .send()
        .await
        .expect("the site bucket has a policy");
    let doc = decode(policy.policy().expect("policy text"));
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

// ---------------------------------------------------------------------------------------------
// The function's role.

fn role_name(w: &World) -> String {
    w.role()
}

/// Every policy document the role's permissions come from: inline and attached managed ones.
async fn role_permission_documents(w: &World) -> Vec<(String, Value)> {
    let iam = w.iam().await;
    let role = role_name(w);
    let mut documents = Vec::new();
    let inline = iam
        .list_role_policies()
        .role_name(&role)
        .send()
        .await
        .unwrap();
    for name in inline.policy_names() {
        let policy = iam
            .get_role_policy()
            .role_name(&role)
            .policy_name(name)
            .send()
            .await
            .unwrap();
        documents.push((format!("inline {name}"), decode(policy.policy_document())));
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(&role)
        .send()
        .await
        .unwrap();
    for policy in attached.attached_policies() {
        let arn = policy.policy_arn().unwrap();
        let meta = iam.get_policy().policy_arn(arn).send().await.unwrap();
        let version = meta.policy().and_then(|p| p.default_version_id()).unwrap();
        let document = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .unwrap();
        let text = document
            .policy_version()
            .and_then(|v| v.document())
            .unwrap();
        documents.push((format!("attached {arn}"), decode(text)));
    }
    documents
}

/// `Ok` when `resource` lies inside the images bucket's `images/` prefix or the function's own
/// log group. The bucket itself (for listing) counts only when every action is s3:ListBucket
/// and a condition keeps `s3:prefix` under `images/`.
fn resource_is_the_function_s_own(
    resource: &str,
    statement: &Value,
    images_bucket: &str,
    log_group_arn: &str,
) -> Result<(), String> {
    let bucket_arn = format!("arn:aws:s3:::{images_bucket}");
    if resource.starts_with(&format!("{bucket_arn}/images/")) {
        return Ok(());
    }
    if resource == log_group_arn
        || resource == format!("{log_group_arn}:*")
        || resource.starts_with(&format!("{log_group_arn}:log-stream:"))
    {
        return Ok(());
    }
    if resource == bucket_arn {
        let only_listing = strings(statement, "Action")
            .iter()
            .all(|a| *a == "s3:ListBucket");
        let prefixes: Vec<&str> = ["StringLike", "StringEquals"]
            .iter()
            .flat_map(|op| strings(&statement["Condition"][op], "s3:prefix"))
            .collect();
        let prefix_bound =
            !prefixes.is_empty() && prefixes.iter().all(|p| p.starts_with("images/"));
        return if only_listing && prefix_bound {
            Ok(())
        } else {
            Err(format!(
                "{resource} (the whole bucket) without ListBucket-only actions bound to s3:prefix images/"
            ))
        };
    }
    Err(format!(
        "{resource} is outside {bucket_arn}/images/ and {log_group_arn}"
    ))
}

/// Wildcard actions, negations and resources beyond `images/` and the own log group, in any
/// statement of any policy of the role.
async fn role_overreach(w: &World) -> Vec<String> {
    let log_group_arn = format!(
        "arn:aws:logs:{}:{MOTO_ACCOUNT_ID}:log-group:/aws/lambda/{}",
        w.region,
        w.function()
    );
    let documents = role_permission_documents(w).await;
    let mut problems = Vec::new();
    let mut seen_statements = 0;
    for (source, doc) in &documents {
        for statement in statements(doc) {
            seen_statements += 1;
            let mut found = Vec::new();
            negations(statement, &mut found);
            let actions = strings(statement, "Action");
            if actions.is_empty() {
                found.push(format!("statement without Action: {statement}"));
            }
            for action in actions.iter().filter(|a| a.contains('*')) {
                found.push(format!("wildcard action {action:?}"));
            }
            let resources = strings(statement, "Resource");
            if resources.is_empty() {
                found.push(format!("statement without Resource: {statement}"));
            }
            for resource in resources {
                if let Err(why) = resource_is_the_function_s_own(
                    resource,
                    statement,
                    &w.images_bucket(),
                    &log_group_arn,
                ) {
                    found.push(why);
                }
            }
            problems.extend(found.into_iter().map(|p| format!("{source}: {p}")));
        }
    }
    if seen_statements == 0 {
        problems.push(format!("no permission statement at all: {documents:?}"));
    }
    problems
}

#[tokio::test]
async fn function_role_policies_have_no_wildcard_action_and_reach_only_images_and_own_logs() {
    let w = World::new();
    w.deploy();
    assert_none(
        role_overreach(&w).await,
        "the function's role reaches too far",
    );
}

/// Principals other than lambda.amazonaws.com that the trust policy lets assume the role.
async fn trust_beyond_lambda(w: &World) -> Vec<String> {
    let role = w
        .iam()
        .await
        .get_role()
        .role_name(role_name(w))
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let doc = decode(role.assume_role_policy_document().expect("trust policy"));
    let mut problems = Vec::new();
    let mut principals = BTreeSet::new();
    for statement in statements(&doc) {
        negations(statement, &mut problems);
        if statement["Effect"] == "Deny" {
            continue;
        }
        match &statement["Principal"] {
            Value::Object(principal) => {
                for kind in principal.keys() {
                    for name in strings(&statement["Principal"], kind) {
                        principals.insert(format!("{kind}:{name}"));
                    }
                }
            }
            other => problems.push(format!("principal {other} is not a named service")),
        }
        for action in strings(statement, "Action") {
            if action.contains('*') {
                problems.push(format!("wildcard action {action:?}"));
            }
        }
    }
    let only = BTreeSet::from(["Service:lambda.amazonaws.com".to_owned()]);
    if principals != only {
        problems.push(format!(
            "principals {principals:?}, not exactly {only:?}: {doc}"
        ));
    }
    problems
}

#[tokio::test]
async fn function_role_trust_policy_names_only_lambda() {
    let w = World::new();
    w.deploy();
    assert_none(
        trust_beyond_lambda(&w).await,
        "only Lambda may assume the function's role",
    );
}

// ---------------------------------------------------------------------------------------------
// The Function URL's CORS.

/// The origin a browser sends for the S3-hosted site: scheme and host, no trailing slash.
fn site_origin(w: &World) -> String {
    format!(
        "http://{}.s3-website-{}.amazonaws.com",
        w.site_bucket(),
        w.region
    )
}

/// How the Function URL's CORS differs from "the site origin exactly, GET and POST only".
async fn function_url_cors_excess(w: &World) -> Vec<String> {
    let url = w
        .lambda()
        .await
        .get_function_url_config()
        .function_name(w.function())
        .send()
        .await
        .unwrap();
    let Some(cors) = url.cors() else {
        return vec!["the Function URL has no CORS".to_owned()];
    };
    let mut problems = Vec::new();
    let origin = site_origin(w);
    if cors.allow_origins() != [origin.as_str()] {
        problems.push(format!(
            "origins {:?}, not exactly [{origin:?}]",
            cors.allow_origins()
        ));
    }
    if cors.allow_origins().iter().any(|o| o.contains('*')) {
        problems.push(format!("wildcard origin in {:?}", cors.allow_origins()));
    }
    let methods: BTreeSet<String> = cors
        .allow_methods()
        .iter()
        .map(|m| m.to_ascii_uppercase())
        .collect();
    if methods != BTreeSet::from(["GET".to_owned(), "POST".to_owned()]) {
        problems.push(format!("methods {methods:?}, not GET and POST"));
    }
    if cors.allow_headers().iter().any(|h| h == "*") {
        problems.push(format!("any header allowed: {:?}", cors.allow_headers()));
    }
    if cors.allow_credentials() == Some(true) {
        problems.push("credentials allowed across origins".to_owned());
    }
    problems
}

#[tokio::test]
async fn function_url_cors_allows_only_the_site_origin_with_get_and_post() {
    let w = World::new();
    let report = w.deploy();
    assert_eq!(report["website_url"], format!("{}/", site_origin(&w)));
    assert_none(
        function_url_cors_excess(&w).await,
        "the Function URL's CORS is wider than the site",
    );
}

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

    // Role: a wildcard action, then the whole bucket, then another log group, each alone.
    let role = role_name(&w);
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
// ---------------------------------------------------------------------------------------------
// Independent SigV4 (AWS General Reference, "Signature Version 4 signing process", and
// "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)" for S3).

/// HMAC-SHA256 from RFC 2104 over sha2 (the `hmac` crate is not a dependency of this package).
fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// SigV4's UriEncode: unreserved characters stay, everything else is %XX (upper-case hex);
/// `/` stays in paths only.
fn uri_encode(value: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn percent_decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .expect("UTF-8 after decoding")
        .into_owned()
}

/// A presigned URL taken apart: decoded query parameters in URL order.
struct Presigned {
    host: String,
    /// Decoded path (`/bucket/key` in path style).
    path: String,
    params: Vec<(String, String)>,
}

impl Presigned {
    fn parse(url: &str) -> Presigned {
        let uri: http::Uri = url
            .parse()
            .unwrap_or_else(|e| panic!("not a URL ({e}): {url}"));
        let query = uri.query().unwrap_or_else(|| panic!("no query: {url}"));
        Presigned {
            host: uri.authority().expect("host").as_str().to_owned(),
            path: percent_decode(uri.path()),
            params: query
                .split('&')
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        }
    }

    #[track_caller]
    fn param(&self, name: &str) -> &str {
        let found: Vec<&str> = self
            .params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        match found.as_slice() {
            [one] => one,
            other => panic!("{name} appears {} times", other.len()),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.params.iter().any(|(k, _)| k == name)
    }

    fn signed_headers(&self) -> BTreeSet<&str> {
        self.param("X-Amz-SignedHeaders").split(';').collect()
    }

    /// The signature SigV4 gives this URL for `method`, when the client sends `headers`
    /// (lower-case names; `host` is the URL's), signed for `region`/s3 with `secret`. The
    /// date comes from X-Amz-Date; the credential scope is rebuilt, not copied from the URL.
    fn expected_signature(
        &self,
        method: &str,
        headers: &[(&str, &str)],
        secret: &str,
        region: &str,
    ) -> String {
        let date_time = self.param("X-Amz-Date");
        let date = &date_time[..8];
        let scope = format!("{date}/{region}/s3/aws4_request");

        let mut query: Vec<(String, String)> = self
            .params
            .iter()
            .filter(|(k, _)| k != "X-Amz-Signature")
            .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
            .collect();
        query.sort();
        let canonical_query = query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");

        let signed = self.param("X-Amz-SignedHeaders");
        let mut canonical_headers = String::new();
        for name in signed.split(';') {
            let value = if name == "host" {
                self.host.as_str()
            } else {
                headers
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| *v)
                    .unwrap_or_else(|| {
                        panic!("the URL signs {name}, which the client does not send")
                    })
            };
            let _ = writeln!(canonical_headers, "{name}:{}", value.trim());
        }

        let canonical_request = format!(
            "{method}\n{}\n{canonical_query}\n{canonical_headers}\n{signed}\nUNSIGNED-PAYLOAD",
            uri_encode(&self.path, true)
        );
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical_request.as_bytes()))
        );
        let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
        let k_region = hmac_sha256(&k_date, region.as_bytes());
        let k_service = hmac_sha256(&k_region, b"s3");
        let k_signing = hmac_sha256(&k_service, b"aws4_request");
        hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()))
    }

    /// The same URL with one parameter's value replaced (the signature kept).
    fn with_param(&self, name: &str, value: &str) -> Presigned {
        Presigned {
            host: self.host.clone(),
            path: self.path.clone(),
            params: self
                .params
                .iter()
                .map(|(k, v)| {
                    let v = if k == name { value } else { v };
                    (k.clone(), v.to_owned())
                })
                .collect(),
        }
    }
}

/// Seconds since the epoch of an X-Amz-Date (`20130524T000000Z`).
fn amz_date_unix(value: &str) -> i64 {
    let b = value.as_bytes();
    assert!(
        b.len() == 16 && b[8] == b'T' && b[15] == b'Z',
        "X-Amz-Date {value:?}"
    );
    let num = |range: std::ops::Range<usize>| -> u32 { value[range].parse().unwrap() };
    let date = time::Date::from_calendar_date(
        num(0..4) as i32,
        time::Month::try_from(num(4..6) as u8).unwrap(),
        num(6..8) as u8,
    )
    .unwrap();
    let clock =
        time::Time::from_hms(num(9..11) as u8, num(11..13) as u8, num(13..15) as u8).unwrap();
    time::PrimitiveDateTime::new(date, clock)
        .assume_utc()
        .unix_timestamp()
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The properties every presigned URL of the function has: SigV4 (not V2), signed by the
/// test credentials for us-east-1/s3 today, dated now, living at most 900 s and exactly the
/// answer's `expiresIn`, and addressing `images_bucket`'s `images/` prefix.
#[track_caller]
fn assert_short_lived_sigv4(url: &Presigned, expires_in: &Value, images_bucket: &str) {
    assert_eq!(url.param("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    for v2 in ["AWSAccessKeyId", "Signature", "Expires"] {
        assert!(!url.has(v2), "SigV2 parameter {v2} in the URL");
    }
    let date_time = url.param("X-Amz-Date");
    assert_eq!(
        url.param("X-Amz-Credential"),
        format!(
            "{TEST_ACCESS_KEY}/{}/{TEST_REGION}/s3/aws4_request",
            &date_time[..8]
        )
    );
    let skew = (amz_date_unix(date_time) - now_unix()).abs();
    assert!(skew <= 300, "X-Amz-Date {date_time} is {skew} s from now");
    let expires: u64 = url.param("X-Amz-Expires").parse().unwrap();
    assert!(
        (1..=MAX_URL_TTL).contains(&expires),
        "X-Amz-Expires {expires} > {MAX_URL_TTL}"
    );
    assert_eq!(
        expires_in.as_u64(),
        Some(expires),
        "expiresIn says what the URL does"
    );
    assert!(
        url.path.starts_with(&format!("/{images_bucket}/images/")),
        "the URL addresses {}, not {images_bucket}/images/",
        url.path
    );
    assert!(
        !url.path.contains(".."),
        "a dot-dot segment in {}",
        url.path
    );
}

// ---------------------------------------------------------------------------------------------
// Talking to the function behind `catup dev`.

async fn post(dev: &Dev, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(dev.url("function_url"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap()
}

async fn gallery(dev: &Dev) -> Value {
    let response = reqwest::get(dev.url("function_url")).await.unwrap();
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap()
}

fn start_dev() -> Dev {
    Dev::start(&catup_testkit::unique_name("s"), None).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn presigned_put_url_is_sigv4_expires_within_900s_and_signs_type_and_length() {
    let dev = start_dev();
    let images = dev.url("images_bucket").to_owned();

    // With a size: content-type and content-length are both signed, with the declared values.
    let answer = post(&dev, json!({"contentType": "image/png", "size": 1234})).await;
    assert_eq!(answer["method"], "PUT");
    let url = Presigned::parse(answer["uploadUrl"].as_str().unwrap());
    assert_short_lived_sigv4(&url, &answer["expiresIn"], &images);
    let signed = url.signed_headers();
    for required in ["content-type", "content-length", "host"] {
        assert!(signed.contains(required), "{required} unsigned: {signed:?}");
    }
    // The client is told to send every signed header, with the values that were signed.
    let told = answer["headers"].as_object().expect("headers to send");
    for name in signed.iter().filter(|n| **n != "host") {
        assert!(
            told.contains_key(*name),
            "{name} signed but not in {told:?}"
        );
    }
    assert_eq!(told["content-type"], "image/png");
    assert_eq!(told["content-length"], "1234");
    let mut sent: Vec<(&str, &str)> =
        vec![("content-type", "image/png"), ("content-length", "1234")];
    for (name, value) in told {
        if !sent.iter().any(|(n, _)| n == name) {
            sent.push((name.as_str(), value.as_str().unwrap()));
        }
    }
    let signature = url.param("X-Amz-Signature");
    assert_eq!(
        url.expected_signature("PUT", &sent, TEST_SECRET, TEST_REGION),
        signature,
        "independent SigV4 of the PUT for image/png, 1234 bytes"
    );
    // The recomputation can tell: a longer life, another length or type, another verb.
    assert_ne!(
        url.with_param("X-Amz-Expires", "3600").expected_signature(
            "PUT",
            &sent,
            TEST_SECRET,
            TEST_REGION
        ),
        signature
    );
    let mut bigger = sent.clone();
    bigger[1] = ("content-length", "999999");
    assert_ne!(
        url.expected_signature("PUT", &bigger, TEST_SECRET, TEST_REGION),
        signature
    );
    let mut html = sent.clone();
    html[0] = ("content-type", "text/html");
    assert_ne!(
        url.expected_signature("PUT", &html, TEST_SECRET, TEST_REGION),
        signature
    );
    assert_ne!(
        url.expected_signature("GET", &sent, TEST_SECRET, TEST_REGION),
        signature
    );

    // Without a size there is no length to sign: refused, never an unbounded upload URL.
    let unsized_post = reqwest::Client::new()
        .post(dev.url("function_url"))
        .header("content-type", "application/json")
        .body(json!({"contentType": "image/png"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(unsized_post.status(), 400);

    // The deployed function cannot be configured past 900 s either.
    let config = catup_testkit::sdk_config_at(dev.url("endpoint_url"), TEST_REGION).await;
    let function = aws_sdk_lambda::Client::new(&config)
        .get_function_configuration()
        .function_name(format!("{}-api", dev.url("stack")))
        .send()
        .await
        .unwrap();
    let ttl = function
        .environment()
        .and_then(|e| e.variables())
        .and_then(|v| v.get("URL_TTL_SECONDS"))
        .map(|t| t.parse::<u64>().expect("URL_TTL_SECONDS is a number"));
    assert!(
        ttl.is_none_or(|t| t <= MAX_URL_TTL),
        "deployed URL_TTL_SECONDS {ttl:?}"
    );
}

#[tokio::test]
async fn presigned_get_url_is_sigv4_expires_within_900s_and_signs_only_host() {
    let dev = start_dev();
    let images = dev.url("images_bucket").to_owned();
    let answer = post(&dev, json!({"contentType": "image/png", "size": 8})).await;
    let key = answer["key"].as_str().unwrap().to_owned();
    let put = reqwest::Client::new()
        .put(answer["uploadUrl"].as_str().unwrap())
        .header("content-type", "image/png")
        .body(b"\x89PNG\r\n\x1a\n".to_vec())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{:?}", put.text().await);

    let page = gallery(&dev).await;
    let images_listed = page["images"].as_array().expect("images");
    let [image] = images_listed.as_slice() else {
        panic!("one image: {page:#}")
    };
    assert_eq!(image["key"], key.as_str());
    let url = Presigned::parse(image["url"].as_str().unwrap());
    assert_short_lived_sigv4(&url, &page["expiresIn"], &images);
    assert_eq!(url.path, format!("/{images}/{key}"));
    // An <img src> sends no chosen headers: only host may be signed.
    assert_eq!(url.signed_headers(), BTreeSet::from(["host"]));
    let signature = url.param("X-Amz-Signature");
    assert_eq!(
        url.expected_signature("GET", &[], TEST_SECRET, TEST_REGION),
        signature,
        "independent SigV4 of the GET"
    );
    assert_ne!(
        url.with_param("X-Amz-Expires", "86400").expected_signature(
            "GET",
            &[],
            TEST_SECRET,
            TEST_REGION
        ),
        signature
    );
    assert_ne!(
        url.expected_signature("GET", &[], "not-the-secret", TEST_REGION),
        signature
    );
}

// ---------------------------------------------------------------------------------------------
// Keys.

/// `Ok(uuid)` when `key` is `images/<13 digits>-<uuid v4>.<ext>`, the shape of
/// `^images/\d{13}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.png$`
/// for `.png`.
fn server_key_uuid<'a>(key: &'a str, ext: &str) -> Result<&'a str, String> {
    let fail = |why: &str| Err(format!("{key:?}: {why}"));
    let Some(rest) = key.strip_prefix("images/") else {
        return fail("not under images/");
    };
    let Some(rest) = rest.strip_suffix(&format!(".{ext}")) else {
        return fail("wrong extension");
    };
    let (Some(stamp), Some(rest)) = (rest.get(..13), rest.get(13..)) else {
        return fail("too short");
    };
    if !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return fail("no 13-digit timestamp");
    }
    let Some(uuid) = rest.strip_prefix('-') else {
        return fail("no '-' after the timestamp");
    };
    let groups: Vec<&str> = uuid.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lengths != [8, 4, 4, 4, 12] {
        return fail("not an 8-4-4-4-12 UUID");
    }
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if !groups.iter().all(|g| g.bytes().all(lower_hex)) {
        return fail("UUID is not lower-case hex");
    }
    if !groups[2].starts_with('4') {
        return fail("UUID is not version 4");
    }
    if !groups[3].starts_with(['8', '9', 'a', 'b']) {
        return fail("UUID is not of the RFC 4122 variant");
    }
    Ok(uuid)
}

#[tokio::test]
async fn upload_keys_are_server_chosen_under_images_with_a_random_uuid() {
    let dev = start_dev();
    let images = dev.url("images_bucket").to_owned();
    let mut uuids = BTreeSet::new();
    let mut keys = BTreeSet::new();
    for _ in 0..5 {
        let answer = post(&dev, json!({"contentType": "image/png", "size": 10})).await;
        let key = answer["key"].as_str().unwrap().to_owned();
        let uuid = server_key_uuid(&key, "png").unwrap_or_else(|e| panic!("{e}"));
        uuids.insert(uuid.to_owned());
        let url = Presigned::parse(answer["uploadUrl"].as_str().unwrap());
        assert_eq!(
            url.path,
            format!("/{images}/{key}"),
            "the URL is for the key"
        );
        keys.insert(key);
    }
    assert_eq!(keys.len(), 5, "every POST gets its own key: {keys:?}");
    assert_eq!(
        uuids.len(),
        5,
        "the UUID part is random, not only the time: {uuids:?}"
    );

    // Whatever the client asks for, the key is the server's.
    let answer = post(
        &dev,
        json!({
            "contentType": "image/png",
            "size": 10,
            "key": "images/mine.png",
            "Key": "../site/index.html",
            "filename": "../../index.html",
            "name": "cat.png",
        }),
    )
    .await;
    let key = answer["key"].as_str().unwrap();
    server_key_uuid(key, "png").unwrap_or_else(|e| panic!("client fields steered the key: {e}"));
    let url = Presigned::parse(answer["uploadUrl"].as_str().unwrap());
    assert_eq!(url.path, format!("/{images}/{key}"));
    for chosen in ["mine", "index.html", "cat.png", ".."] {
        assert!(!url.path.contains(chosen), "{chosen} in {}", url.path);
    }
}

// ---------------------------------------------------------------------------------------------
// The function's own headers (without the Function URL's CORS layer).

#[tokio::test]
async fn function_sets_no_access_control_headers_itself() {
    let w = World::new();
    let report = w.deploy();
    let origin = report["website_url"]
        .as_str()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let sdk = w.sdk().await;
    let app_for = |bucket: String| {
        let config =
            cat_upload_fn::Config::from_lookup(|k| (k == "IMAGES_BUCKET").then(|| bucket.clone()))
                .unwrap();
        cat_upload_fn::App::new(&sdk, config).unwrap()
    };
    let app = app_for(w.images_bucket());
    let request = |method: &str, uri: &str, body: &str| {
        http::Request::builder()
            .method(method)
            .uri(uri)
            .header("origin", origin.as_str())
            .header("content-type", "application/json")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(body.as_bytes().to_vec())
            .unwrap()
    };
    let cases = [
        ("POST", "/", r#"{"contentType":"image/png","size":10}"#, 200),
        ("GET", "/", "", 200),
        ("GET", "/?limit=5", "", 200),
        ("OPTIONS", "/", "", 405),
        ("DELETE", "/", "", 405),
        ("POST", "/", "{", 400),
        ("POST", "/", r#"{"contentType":"text/html"}"#, 415),
        ("GET", "/?limit=0", "", 400),
    ];
    for (method, uri, body, status) in cases {
        let response = app.handle(request(method, uri, body)).await;
        assert_eq!(
            response.status(),
            status,
            "{method} {uri} {body}: {}",
            response.body()
        );
        assert!(
            response.headers().contains_key("content-type"),
            "{method} {uri}: {:?}",
            response.headers()
        );
        let cors: Vec<_> = response
            .headers()
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .collect();
        assert!(
            cors.is_empty(),
            "{method} {uri} {body}: the function set {cors:?}; the Function URL adds CORS, both together break browsers"
        );
    }

    // A server-side error too: the store cannot be listed.
    let broken = app_for(format!("{}-missing", w.images_bucket()));
    let response = broken.handle(request("GET", "/", "")).await;
    assert!(response.status().is_server_error(), "{}", response.body());
    assert!(
        !response
            .headers()
            .keys()
            .any(|name| name.as_str().starts_with("access-control-")),
        "{:?}",
        response.headers()
    );
}

// ---------------------------------------------------------------------------------------------
// The checkers themselves: they pass known-good input and reject known-bad input.

/// The independent SigV4 reproduces AWS's documented presigned GET and RFC 4231's HMACs.
#[test]
fn independent_sigv4_reproduces_aws_documented_example() {
    assert_eq!(
        hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        hex::encode(hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
    let url = Presigned::parse(
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
         &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
    );
    assert_eq!(
        url.expected_signature(
            "GET",
            &[],
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "us-east-1"
        ),
        url.param("X-Amz-Signature")
    );
    assert_eq!(amz_date_unix("20130524T000000Z"), 1_369_353_600);
}

#[test]
fn key_check_accepts_only_server_shaped_keys() {
    let good = "images/8235999999999-3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b.png";
    assert_eq!(
        server_key_uuid(good, "png"),
        Ok("3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b")
    );
    for bad in [
        "images/mine.png",
        "uploads/8235999999999-3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b.html",
        "images/823599999999-3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-3f0c1a2b-4c5d-1e6f-9a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-3f0c1a2b-4c5d-4e6f-7a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-3F0C1A2B-4c5d-4e6f-9a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-3f0c1a2b4c5d-4e6f-9a0b-1c2d3e4f5a6b.png",
        "images/8235999999999-00000000-0000-0000-0000-000000000000.png",
        "images/../8235999999999-3f0c1a2b-4c5d-4e6f-9a0b-1c2d3e4f5a6b.png",
    ] {
        assert!(server_key_uuid(bad, "png").is_err(), "{bad}");
    }
}

/// The role check rejects what a too-broad role would hold.
#[test]
fn role_resource_check_rejects_other_buckets_prefixes_and_log_groups() {
    let lg = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/s-api";
    let get = json!({"Action": ["s3:GetObject"]});
    let list = |prefix: Value| json!({"Action": "s3:ListBucket", "Condition": {"StringLike": {"s3:prefix": prefix}}});
    let ok = |r: &str, s: &Value| resource_is_the_function_s_own(r, s, "imgs", lg).is_ok();
    assert!(ok("arn:aws:s3:::imgs/images/*", &get));
    assert!(ok(&format!("{lg}:log-stream:*"), &get));
    assert!(ok(
        "arn:aws:s3:::imgs",
        &list(json!(["images/", "images/*"]))
    ));
    assert!(!ok("arn:aws:s3:::imgs", &list(json!(["*"]))));
    assert!(!ok(
        "arn:aws:s3:::imgs",
        &json!({"Action": "s3:ListBucket"})
    ));
    assert!(!ok("arn:aws:s3:::imgs", &get));
    assert!(!ok("arn:aws:s3:::imgs/*", &get));
    assert!(!ok("arn:aws:s3:::imgs*/images/*", &get));
    assert!(!ok("arn:aws:s3:::site/images/*", &get));
    assert!(!ok("*", &get));
    assert!(!ok(&format!("{lg}*"), &get));
    assert!(!ok("arn:aws:logs:us-east-1:123456789012:log-group:*", &get));
}
