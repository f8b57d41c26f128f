//! The two resource-policy statements a public Function URL needs since October 2025
//! (InvokeFunctionUrl for auth NONE, and InvokeFunction when invoked via the URL), read back
//! and compared on what makes them public and safe: action, principal and condition.

use std::collections::BTreeSet;

use aws_sdk_lambda::types::FunctionUrlAuthType;
use serde_json::Value;

use super::{create_or_read_back, Busy};
use crate::aws::{Aws, Progress, SdkResultExt};

/// A statement catup adds: its Sid, its action and the condition that confines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub sid: &'static str,
    pub action: &'static str,
    /// (operator, key, value) of its one condition, as Lambda renders it.
    pub condition: (&'static str, &'static str, &'static str),
}

pub const PERMISSIONS: [Permission; 2] = [
    Permission {
        sid: "FunctionURLAllowPublicAccess",
        action: "lambda:InvokeFunctionUrl",
        condition: ("StringEquals", "lambda:FunctionUrlAuthType", "NONE"),
    },
    Permission {
        sid: "FunctionURLAllowInvokeAction",
        action: "lambda:InvokeFunction",
        condition: ("Bool", "lambda:InvokedViaFunctionUrl", "true"),
    },
];

/// One statement of the function's resource policy, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: String,
    pub action: String,
    /// `*` for everyone (Lambda renders it as `"*"` or `{"AWS": "*"}`).
    pub principal: String,
    pub conditions: BTreeSet<(String, String, String)>,
}

impl Permission {
    /// The statement as it must be read back.
    pub fn statement(&self) -> Statement {
        let (operator, key, value) = self.condition;
        Statement {
            sid: self.sid.into(),
            action: self.action.into(),
            principal: "*".into(),
            conditions: BTreeSet::from([(operator.into(), key.into(), value.into())]),
        }
    }

    fn is_in(&self, statements: &[Statement]) -> bool {
        statements.contains(&self.statement())
    }
}

/// The statements of a Lambda resource policy document.
pub fn statements_of(policy: &str) -> Vec<Statement> {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return Vec::new();
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    };
    let statement = |s: &Value| {
        let principal = match &s["Principal"] {
            Value::Object(p) if p.len() == 1 && p.get("AWS") == Some(&Value::from("*")) => {
                "*".to_owned()
            }
            other => text(other),
        };
        let mut conditions = BTreeSet::new();
        if let Some(operators) = s["Condition"].as_object() {
            for (operator, pairs) in operators {
                for (key, value) in pairs.as_object().into_iter().flatten() {
                    conditions.insert((operator.clone(), key.clone(), text(value)));
                }
            }
        }
        // moto keeps the AddPermission fields as they were sent instead of rendering them
        // as conditions the way Lambda does; read both forms alike.
        for (field, operator, key) in [
            (
                "FunctionUrlAuthType",
                "StringEquals",
                "lambda:FunctionUrlAuthType",
            ),
            (
                "InvokedViaFunctionUrl",
                "Bool",
                "lambda:InvokedViaFunctionUrl",
            ),
        ] {
            if !s[field].is_null() {
                conditions.insert((operator.into(), key.into(), text(&s[field])));
            }
        }
        Statement {
            sid: text(&s["Sid"]),
            action: text(&s["Action"]),
            principal,
            conditions,
        }
    };
    doc["Statement"]
        .as_array()
        .map(|statements| statements.iter().map(statement).collect())
        .unwrap_or_default()
}

pub fn missing(statements: &[Statement]) -> Vec<Permission> {
    PERMISSIONS
        .iter()
        .filter(|p| !p.is_in(statements))
        .copied()
        .collect()
}

pub async fn read(aws: &Aws, function: &str) -> anyhow::Result<Vec<Statement>> {
    let policy = aws
        .lambda
        .get_policy()
        .function_name(function)
        .send()
        .await
        .or_absent(|| format!("read resource policy of function {function}"))?;
    Ok(policy
        .and_then(|p| p.policy)
        .map(|p| statements_of(&p))
        .unwrap_or_default())
}

/// Adds the statement; one with its Sid but anything else different is replaced. A
/// ResourceConflictException is success only once the statement is read back: it also means
/// Lambda is busy with a concurrent update, and then the call is retried.
pub async fn add(
    aws: &Aws,
    function: &str,
    existing: &[Statement],
    permission: Permission,
    progress: Progress<'_>,
) -> anyhow::Result<()> {
    if existing.iter().any(|s| s.sid == permission.sid) {
        remove(aws, function, permission.sid).await?;
    }
    let what = format!("allow {} on function {function}", permission.action);
    create_or_read_back(
        &what,
        progress,
        || {
            let request = aws
                .lambda
                .add_permission()
                .function_name(function)
                .statement_id(permission.sid)
                .action(permission.action)
                .principal("*");
            let request = match permission.condition.1 {
                "lambda:FunctionUrlAuthType" => {
                    request.function_url_auth_type(FunctionUrlAuthType::None)
                }
                _ => request.invoked_via_function_url(true),
            };
            async move { request.send().await.map(|_| ()) }
        },
        || async {
            let now = read(aws, function).await.map_err(Busy::Failed)?;
            Ok(permission.is_in(&now).then_some(()))
        },
    )
    .await
}

pub async fn remove(aws: &Aws, function: &str, sid: &str) -> anyhow::Result<()> {
    aws.lambda
        .remove_permission()
        .function_name(function)
        .statement_id(sid)
        .send()
        .await
        .or_absent(|| format!("remove permission {sid} of function {function}"))?;
    Ok(())
}

/// Sids of resource-policy statements that let anyone invoke the function, other than
/// catup's own two.
pub fn extra_public_invokes(statements: &[Statement]) -> Vec<String> {
    let ours = PERMISSIONS.map(|p| p.sid);
    statements
        .iter()
        .filter(|s| s.principal == "*" && !ours.contains(&s.sid.as_str()))
        .filter(|s| {
            invokes(&serde_json::from_str(&s.action).unwrap_or(Value::from(s.action.as_str())))
        })
        .map(|s| s.sid.clone())
        .collect()
}

fn invokes(action: &Value) -> bool {
    let one = |a: &Value| {
        a.as_str().is_some_and(|a| {
            matches!(
                a,
                "lambda:InvokeFunction" | "lambda:InvokeFunctionUrl" | "lambda:*" | "*"
            )
        })
    };
    match action {
        Value::Array(items) => items.iter().any(one),
        single => one(single),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_invoke_statements_beyond_ours_are_found() {
        let policy = r#"{"Statement":[
            {"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl"},
            {"Sid":"anyone","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction"},
            {"Sid":"anyone-aws","Effect":"Allow","Principal":{"AWS":"*"},"Action":["lambda:GetFunction","lambda:*"]},
            {"Sid":"s3-events","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction"},
            {"Sid":"read","Effect":"Allow","Principal":"*","Action":"lambda:GetPolicy"}]}"#;
        let statements = statements_of(policy);
        assert_eq!(extra_public_invokes(&statements), ["anyone", "anyone-aws"]);
    }

    /// The resource policy as Lambda renders it for a public Function URL (AWS's documentation).
    const AWS_RENDERED: &str = r#"{"Version":"2012-10-17","Id":"default","Statement":[
        {"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"arn:aws:lambda:us-east-1:123456789012:function:cats-api","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}},
        {"Sid":"FunctionURLAllowInvokeAction","Effect":"Allow","Principal":{"AWS":"*"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:cats-api","Condition":{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}]}"#;

    #[test]
    fn lambdas_rendering_of_both_statements_is_in_sync() {
        assert_eq!(missing(&statements_of(AWS_RENDERED)), vec![]);
    }

    #[test]
    fn mosts_raw_fields_read_like_lambdas_conditions() {
        let moto = r#"{"Statement":[
            {"Sid":"FunctionURLAllowPublicAccess","Principal":"*","Action":"lambda:InvokeFunctionUrl","FunctionUrlAuthType":"NONE"},
            {"Sid":"FunctionURLAllowInvokeAction","Principal":"*","Action":"lambda:InvokeFunction","InvokedViaFunctionUrl":true}]}"#;
        assert_eq!(statements_of(moto), statements_of(AWS_RENDERED));
    }

    #[test]
    fn a_statement_with_our_sid_and_action_but_another_principal_or_condition_is_missing() {
        let changes: [(&str, &str); 4] = [
            (
                r#""Principal":"*""#,
                r#""Principal":{"Service":"s3.amazonaws.com"}"#,
            ),
            (r#""NONE""#, r#""AWS_IAM""#),
            (
                r#""lambda:InvokedViaFunctionUrl":"true""#,
                r#""lambda:InvokedViaFunctionUrl":"false""#,
            ),
            (
                r#","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}"#,
                "",
            ),
        ];
        for (from, to) in changes {
            let policy = AWS_RENDERED.replacen(from, to, 1);
            assert_ne!(policy, AWS_RENDERED, "{from}");
            assert_eq!(missing(&statements_of(&policy)).len(), 1, "{to}");
        }
        assert!(statements_of("not json").is_empty());
    }
}
