//! The function's role: what its policies reach and who may assume it.

use std::collections::BTreeSet;

use catup_testkit::policy::{document, statements, strings};
use catup_testkit::MOTO_ACCOUNT_ID;
use serde_json::{json, Value};

use super::{assert_none, negations};
use crate::common::World;

/// Every policy document the role's permissions come from: inline and attached managed ones.
async fn role_permission_documents(w: &World) -> Vec<(String, Value)> {
    let iam = w.iam().await;
    let role = w.role();
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
        documents.push((format!("inline {name}"), document(policy.policy_document())));
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
        let current = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .unwrap();
        let text = current.policy_version().and_then(|v| v.document()).unwrap();
        documents.push((format!("attached {arn}"), document(text)));
    }
    documents
}

/// `Ok` when `resource` lies inside the images bucket's `images/` prefix, or `thumbs/` for
/// reading only (the function signs the thumbnails' URLs; it never writes there: the thumbnail
/// function's trigger listens on `images/`), or the function's own log group. The bucket
/// itself (for listing) counts only when every action is s3:ListBucket and a condition keeps
/// `s3:prefix` under `images/` or `thumbs/`.
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
    if resource.starts_with(&format!("{bucket_arn}/thumbs/")) {
        let actions = strings(statement, "Action");
        return match actions.iter().all(|a| *a == "s3:GetObject") {
            true => Ok(()),
            false => Err(format!(
                "{resource} with {actions:?}: thumbs/ is for reading only"
            )),
        };
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
        let prefix_bound = !prefixes.is_empty()
            && prefixes
                .iter()
                .all(|p| p.starts_with("images/") || p.starts_with("thumbs/"));
        return if only_listing && prefix_bound {
            Ok(())
        } else {
            Err(format!(
                "{resource} (the whole bucket) without ListBucket-only actions bound to s3:prefix images/"
            ))
        };
    }
    Err(format!(
        "{resource} is outside {bucket_arn}/images/, {bucket_arn}/thumbs/ and {log_group_arn}"
    ))
}

/// Wildcard actions, negations and resources beyond `images/` and the own log group, in any
/// statement of any policy of the role.
pub(super) async fn role_overreach(w: &World) -> Vec<String> {
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
pub(super) async fn trust_beyond_lambda(w: &World) -> Vec<String> {
    let role = w.role_read_back().await;
    let doc = document(role.assume_role_policy_document().expect("trust policy"));
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
    assert!(ok("arn:aws:s3:::imgs/thumbs/*", &get));
    let put = json!({"Action": ["s3:GetObject", "s3:PutObject"]});
    assert!(!ok("arn:aws:s3:::imgs/thumbs/*", &put));
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
