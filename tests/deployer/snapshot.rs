//! Everything a stack consists of, read back through the SDK into one JSON value with the
//! stack's name and Function URL replaced by placeholders, so that two stacks deployed by
//! different histories compare equal exactly when they are the same deployment.

use catup_testkit::policy::document;
use serde_json::{json, Value};

use crate::common::World;

/// One bucket's whole state (Null when it does not exist), read back through the SDK.
pub async fn bucket_state(w: &World, name: &str) -> Value {
    let s3 = w.s3().await;
    if s3.head_bucket().bucket(name).send().await.is_err() {
        return Value::Null;
    }
    let pab = s3
        .get_public_access_block()
        .bucket(name)
        .send()
        .await
        .ok()
        .and_then(|o| o.public_access_block_configuration)
        .map(|c| {
            json!([
                c.block_public_acls,
                c.ignore_public_acls,
                c.block_public_policy,
                c.restrict_public_buckets
            ])
        });
    let mut tags: Vec<(String, String)> = s3
        .get_bucket_tagging()
        .bucket(name)
        .send()
        .await
        .map(|t| {
            t.tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    let cors = s3
        .get_bucket_cors()
        .bucket(name)
        .send()
        .await
        .ok()
        .map(|c| {
            c.cors_rules()
                .iter()
                .map(|r| {
                    json!([
                        r.allowed_methods(),
                        r.allowed_headers(),
                        r.allowed_origins(),
                        r.max_age_seconds()
                    ])
                })
                .collect::<Vec<_>>()
        });
    let policy = s3
        .get_bucket_policy()
        .bucket(name)
        .send()
        .await
        .ok()
        .and_then(|p| p.policy)
        .map(|p| document(&p));
    let website = s3
        .get_bucket_website()
        .bucket(name)
        .send()
        .await
        .ok()
        .map(|w| {
            json!([
                w.index_document().map(|d| d.suffix()),
                w.error_document().map(|d| d.key())
            ])
        });
    let encryption = s3
        .get_bucket_encryption()
        .bucket(name)
        .send()
        .await
        .ok()
        .map(|e| format!("{:?}", e.server_side_encryption_configuration));
    let listing = s3.list_objects_v2().bucket(name).send().await.unwrap();
    let mut objects = Vec::new();
    for object in listing.contents() {
        let key = object.key().unwrap();
        let head = s3.get_object().bucket(name).key(key).send().await.unwrap();
        let (content_type, cache_control) = (
            head.content_type().map(str::to_owned),
            head.cache_control().map(str::to_owned),
        );
        let body = head.body.collect().await.unwrap().into_bytes();
        let body = if key == "config.js" {
            String::from_utf8_lossy(&body).into_owned()
        } else {
            format!(
                "{} bytes, etag {}",
                body.len(),
                object.e_tag().unwrap_or("")
            )
        };
        objects.push(json!([key, content_type, cache_control, body]));
    }
    json!({"public_access": pab, "tags": tags, "cors": cors, "policy": policy, "website": website,
           "encryption": encryption, "objects": objects})
}

/// The stack's whole deployed state, normalised.
pub async fn snapshot(w: &World, stack: &str) -> Value {
    let function = format!("{stack}-api");
    let role_name = w.role_of(stack);
    let iam = w.iam().await;
    let (role, role_id) = match iam.get_role().role_name(&role_name).send().await {
        Ok(out) => {
            let role = out.role.unwrap();
            let role_id = role.role_id().to_owned();
            let names = iam
                .list_role_policies()
                .role_name(&role_name)
                .send()
                .await
                .unwrap();
            let mut policies = Vec::new();
            for policy in names.policy_names() {
                let doc = iam
                    .get_role_policy()
                    .role_name(&role_name)
                    .policy_name(policy)
                    .send()
                    .await
                    .unwrap();
                policies.push(json!([policy, document(doc.policy_document())]));
            }
            let tags: Vec<_> = role
                .tags()
                .iter()
                .map(|t| json!([t.key(), t.value()]))
                .collect();
            let state = json!({"trust": role.assume_role_policy_document().map(document), "policies": policies, "tags": tags});
            (state, Some(role_id))
        }
        Err(_) => (Value::Null, None),
    };
    let logs = w.logs().await;
    let log_group_name = format!("/aws/lambda/{function}");
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(&log_group_name)
        .send()
        .await
        .unwrap();
    let log_group = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(&log_group_name))
        .map(|g| json!({"retention": g.retention_in_days()}));
    let log_tags = match &log_group {
        Some(_) => {
            let arn = format!(
                "arn:aws:logs:{}:123456789012:log-group:{log_group_name}",
                w.region
            );
            logs.list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .ok()
                .and_then(|t| t.tags)
                .map(|t| {
                    let mut t: Vec<_> = t.into_iter().collect();
                    t.sort();
                    t
                })
        }
        None => None,
    };
    let lambda = w.lambda().await;
    let (function_state, url) = match lambda.get_function().function_name(&function).send().await {
        Ok(out) => {
            let c = out.configuration().unwrap();
            let env = c.environment().and_then(|e| e.variables()).map(|v| {
                let mut v: Vec<_> = v.iter().collect();
                v.sort();
                format!("{v:?}")
            });
            let state = json!({
                "runtime": c.runtime().map(|r| r.as_str().to_owned()), "handler": c.handler(), "role": c.role(),
                "memory": c.memory_size(), "timeout": c.timeout(), "env": env,
                "arch": c.architectures().iter().map(|a| a.as_str().to_owned()).collect::<Vec<_>>(),
                "code": c.code_sha256(), "state": c.state().map(|s| s.as_str().to_owned()),
                "tags": out.tags().map(|t| { let mut t: Vec<_> = t.iter().collect(); t.sort(); format!("{t:?}") }),
            });
            let url = lambda
                .get_function_url_config()
                .function_name(&function)
                .send()
                .await
                .ok();
            let policy = lambda
                .get_policy()
                .function_name(&function)
                .send()
                .await
                .ok()
                .and_then(|p| p.policy)
                .map(|p| document(&p));
            let mut statements: Vec<Value> = policy
                .as_ref()
                .and_then(|p| p["Statement"].as_array().cloned())
                .unwrap_or_default();
            statements.sort_by_key(|s| s["Sid"].to_string());
            let url_state = url.as_ref().map(|u| {
                let cors = u.cors().map(|c| {
                    json!([
                        c.allow_origins(),
                        c.allow_methods(),
                        c.allow_headers(),
                        c.max_age()
                    ])
                });
                json!({"auth": u.auth_type().as_str(), "cors": cors, "statements": statements})
            });
            (state, url_state.map(|s| (s, url.unwrap().function_url)))
        }
        Err(_) => (Value::Null, None),
    };
    let (url_state, url) = match url {
        Some((state, url)) => (state, Some(url)),
        None => (Value::Null, None),
    };
    let all = json!({
        "images_bucket": bucket_state(w, &w.bucket_of(stack, "images")).await,
        "site_bucket": bucket_state(w, &w.bucket_of(stack, "site")).await,
        "role": role,
        "log_group": log_group, "log_tags": log_tags,
        "function": function_state,
        "function_url": url_state,
    });
    let mut text = all.to_string().replace(stack, "<stack>");
    if let Some(url) = url {
        text = text.replace(&url, "<function-url>");
    }
    // IAM's id of the role, as the function remembers it: only the current role's id is
    // normalised, so a function still granted to an older role differs.
    if let Some(id) = role_id {
        text = text.replace(&id, "<role-id>");
    }
    serde_json::from_str(&text).unwrap()
}

/// Whether nothing of the stack is left.
pub async fn is_gone(w: &World, stack: &str) -> Result<(), String> {
    let s = snapshot(w, stack).await;
    let leftovers: Vec<&str> = [
        "images_bucket",
        "site_bucket",
        "role",
        "log_group",
        "function",
        "function_url",
    ]
    .into_iter()
    .filter(|k| !s[*k].is_null())
    .collect();
    if leftovers.is_empty() {
        Ok(())
    } else {
        Err(format!("left behind: {leftovers:?} in {s:#}"))
    }
}
