//! Security properties (issue 6), read from the live stack in moto: what the buckets, the role
//! and the Function URL allow, and what the function's presigned URLs and responses contain.
//!
//! Policies are judged generically (every statement, Action/Resource as string or array), not
//! compared with a copy of `policies/`. Presigned URLs are checked against the testkit's
//! independent SigV4 checker (moto does not verify signatures), never against catup's
//! presigner. Each stack check returns what it found wrong (empty when the property holds),
//! so that `opened_up` can prove every check fails on a stack that lacks its property.

mod buckets;
mod function_url;
mod headers;
mod keys;
mod opened_up;
mod presigned;
mod role;

use serde_json::Value;

/// Negated elements (NotAction, NotResource, NotPrincipal) grant everything they do not name.
pub(super) fn negations(statement: &Value, problems: &mut Vec<String>) {
    for field in ["NotAction", "NotResource", "NotPrincipal"] {
        if statement.get(field).is_some() {
            problems.push(format!("{field} grants all it does not name: {statement}"));
        }
    }
}

/// Whether a Principal element names everyone: `"*"` or `{"AWS": "*"}` (or in an array).
pub(super) fn names_everyone(principal: &Value) -> bool {
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
pub(super) fn assert_none(problems: Vec<String>, what: &str) {
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}
