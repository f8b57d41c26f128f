//! The Function URL: public (auth NONE), CORS for the website origin only, and the two
//! resource-policy statements a public URL needs since October 2025 (InvokeFunctionUrl, and
//! InvokeFunction when invoked via the URL), each added once.

use serde_json::Value;

use aws_sdk_lambda::types::{Cors, FunctionUrlAuthType};

use super::exposure;
use crate::aws::{Aws, SdkResultExt};
use crate::plan::{Change, Outcome};
use crate::stack::Stack;

pub const MAX_AGE_SECONDS: i32 = 300;

/// A resource-policy statement catup adds: its Sid and its action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub sid: &'static str,
    pub action: &'static str,
}

pub const PERMISSIONS: [Permission; 2] = [
    Permission {
        sid: "FunctionURLAllowPublicAccess",
        action: "lambda:InvokeFunctionUrl",
    },
    Permission {
        sid: "FunctionURLAllowInvokeAction",
        action: "lambda:InvokeFunction",
    },
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlCors {
    pub origins: Vec<String>,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub max_age: Option<i32>,
    pub allow_credentials: bool,
}

impl UrlCors {
    fn normalised(mut self) -> UrlCors {
        self.methods
            .iter_mut()
            .for_each(|m| m.make_ascii_uppercase());
        self.headers
            .iter_mut()
            .for_each(|h| h.make_ascii_lowercase());
        self.origins.sort();
        self.methods.sort();
        self.headers.sort();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub function_name: String,
    pub cors: UrlCors,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actual {
    pub url: String,
    pub auth_none: bool,
    pub cors: Option<UrlCors>,
    /// (Sid, Action) of every statement of the function's resource policy.
    pub statements: Vec<(String, String)>,
    /// Sids of other statements that let anyone invoke the function.
    pub extra_public: Vec<String>,
}

pub fn desired(stack: &Stack) -> Desired {
    Desired {
        function_name: stack.function_name.clone(),
        cors: UrlCors {
            origins: vec![stack.site_origin()],
            methods: vec!["GET".into(), "POST".into()],
            headers: vec!["content-type".into()],
            max_age: Some(MAX_AGE_SECONDS),
            allow_credentials: false,
        }
        .normalised(),
    }
}

pub async fn describe(aws: &Aws, function: &str) -> anyhow::Result<Option<Actual>> {
    let (config, policy) = tokio::try_join!(
        async {
            aws.lambda
                .get_function_url_config()
                .function_name(function)
                .send()
                .await
                .or_absent(|| format!("read Function URL of {function}"))
        },
        async {
            aws.lambda
                .get_policy()
                .function_name(function)
                .send()
                .await
                .or_absent(|| format!("read resource policy of function {function}"))
        },
    )?;
    let Some(config) = config else {
        return Ok(None);
    };
    let policy = policy.and_then(|p| p.policy).unwrap_or_default();
    let ours = PERMISSIONS.map(|p| p.sid);
    let (statements, extra_public) = (
        statements_of(&policy),
        exposure::extra_public_invokes(&policy, &ours),
    );
    Ok(Some(Actual {
        url: config.function_url,
        auth_none: config.auth_type == FunctionUrlAuthType::None,
        cors: config.cors.map(|c| {
            UrlCors {
                origins: c.allow_origins().to_vec(),
                methods: c.allow_methods().to_vec(),
                headers: c.allow_headers().to_vec(),
                max_age: c.max_age(),
                allow_credentials: c.allow_credentials().unwrap_or(false),
            }
            .normalised()
        }),
        statements,
        extra_public,
    }))
}

/// (Sid, Action) pairs of a Lambda resource policy document.
fn statements_of(policy: &str) -> Vec<(String, String)> {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return Vec::new();
    };
    doc["Statement"]
        .as_array()
        .map(|statements| {
            statements
                .iter()
                .map(|s| {
                    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                    (text(&s["Sid"]), text(&s["Action"]))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn missing_permissions(actual: &Actual) -> Vec<Permission> {
    PERMISSIONS
        .iter()
        .filter(|p| {
            !actual
                .statements
                .iter()
                .any(|(sid, action)| sid == p.sid && action == p.action)
        })
        .copied()
        .collect()
}

pub fn diff(desired: &Desired, actual: Option<&Actual>) -> Change {
    let Some(actual) = actual else {
        return Change::Create;
    };
    Change::from_checks(&[
        ("auth", !actual.auth_none),
        ("cors", actual.cors.as_ref() != Some(&desired.cors)),
        ("permissions", !missing_permissions(actual).is_empty()),
        ("public permissions", !actual.extra_public.is_empty()),
    ])
}

fn cors(desired: &Desired) -> Cors {
    let c = &desired.cors;
    Cors::builder()
        .set_allow_origins(Some(c.origins.clone()))
        .set_allow_methods(Some(c.methods.clone()))
        .set_allow_headers(Some(c.headers.clone()))
        .set_max_age(c.max_age)
        .allow_credentials(c.allow_credentials)
        .build()
}

/// Applies the change; returns the outcome and the URL.
pub async fn apply(
    aws: &Aws,
    desired: &Desired,
    actual: Option<&Actual>,
    change: &Change,
) -> anyhow::Result<(Outcome, String)> {
    let function = desired.function_name.as_str();
    let url = match actual {
        None => {
            let created = aws
                .lambda
                .create_function_url_config()
                .function_name(function)
                .auth_type(FunctionUrlAuthType::None)
                .cors(cors(desired))
                .send()
                .await
                .or_code(&["ResourceConflictException"], || {
                    format!("create Function URL of {function}")
                })?;
            match created {
                Some(created) => created.function_url,
                // Created by a first attempt whose answer was lost.
                None => {
                    aws.lambda
                        .get_function_url_config()
                        .function_name(function)
                        .send()
                        .await
                        .or_fail(|| format!("read Function URL of {function}"))?
                        .function_url
                }
            }
        }
        Some(actual) if change.differs("auth") || change.differs("cors") => {
            aws.lambda
                .update_function_url_config()
                .function_name(function)
                .auth_type(FunctionUrlAuthType::None)
                .cors(cors(desired))
                .send()
                .await
                .or_fail(|| format!("update Function URL of {function}"))?;
            actual.url.clone()
        }
        Some(actual) => actual.url.clone(),
    };
    let missing = match actual {
        None => PERMISSIONS.to_vec(),
        Some(actual) => missing_permissions(actual),
    };
    for permission in missing {
        add_permission(aws, function, actual, permission).await?;
    }
    for sid in actual
        .map(|a| a.extra_public.as_slice())
        .unwrap_or_default()
    {
        remove_permission(aws, function, sid).await?;
    }
    Ok((change.outcome(), url))
}

async fn add_permission(
    aws: &Aws,
    function: &str,
    actual: Option<&Actual>,
    permission: Permission,
) -> anyhow::Result<()> {
    // A statement with our Sid but another action is replaced, not duplicated.
    let taken = actual.is_some_and(|a| a.statements.iter().any(|(sid, _)| sid == permission.sid));
    if taken {
        remove_permission(aws, function, permission.sid).await?;
    }
    let mut request = aws
        .lambda
        .add_permission()
        .function_name(function)
        .statement_id(permission.sid)
        .action(permission.action)
        .principal("*");
    request = match permission.action {
        "lambda:InvokeFunctionUrl" => request.function_url_auth_type(FunctionUrlAuthType::None),
        _ => request.invoked_via_function_url(true),
    };
    request
        .send()
        .await
        .or_code(&["ResourceConflictException"], || {
            format!("allow {} on function {function}", permission.action)
        })?;
    Ok(())
}

async fn remove_permission(aws: &Aws, function: &str, sid: &str) -> anyhow::Result<()> {
    aws.lambda
        .remove_permission()
        .function_name(function)
        .statement_id(sid)
        .send()
        .await
        .or_absent(|| format!("remove permission {sid} of function {function}"))?;
    Ok(())
}

/// Removes the permissions and the URL configuration.
pub async fn delete(aws: &Aws, function: &str, actual: Option<&Actual>) -> anyhow::Result<Outcome> {
    let Some(actual) = actual else {
        return Ok(Outcome::Absent);
    };
    for permission in PERMISSIONS {
        if actual
            .statements
            .iter()
            .any(|(sid, _)| sid == permission.sid)
        {
            remove_permission(aws, function, permission.sid).await?;
        }
    }
    let gone = aws
        .lambda
        .delete_function_url_config()
        .function_name(function)
        .send()
        .await
        .or_absent(|| format!("delete Function URL of {function}"))?;
    Ok(Outcome::of_deletion(gone.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Desired {
        let stack = Stack::example("eu-west-2");
        desired(&stack)
    }

    fn in_sync(d: &Desired) -> Actual {
        Actual {
            url: "https://x.lambda-url.eu-west-2.on.aws/".into(),
            auth_none: true,
            cors: Some(d.cors.clone()),
            statements: PERMISSIONS
                .iter()
                .map(|p| (p.sid.to_owned(), p.action.to_owned()))
                .collect(),
            extra_public: vec![],
        }
    }

    #[test]
    fn cors_is_the_site_origin_exactly_with_get_and_post() {
        let d = d();
        assert_eq!(
            d.cors.origins,
            vec!["http://cats-site-123456789012-eu-west-2.s3-website.eu-west-2.amazonaws.com"]
        );
        assert_eq!(d.cors.methods, vec!["GET", "POST"]);
        assert_eq!(d.cors.headers, vec!["content-type"]);
        assert_eq!(d.cors.max_age, Some(300));
    }

    #[test]
    fn diff_finds_auth_cors_and_missing_statements() {
        let d = d();
        assert_eq!(diff(&d, None), Change::Create);
        assert_eq!(diff(&d, Some(&in_sync(&d))), Change::InSync);

        let mut a = in_sync(&d);
        a.cors.as_mut().unwrap().origins = vec!["*".into()];
        a.auth_none = false;
        assert_eq!(
            diff(&d, Some(&a)),
            Change::Update(vec!["auth".into(), "cors".into()])
        );

        let mut a = in_sync(&d);
        a.statements.remove(1);
        assert_eq!(missing_permissions(&a), vec![PERMISSIONS[1]]);
        assert_eq!(
            diff(&d, Some(&a)),
            Change::Update(vec!["permissions".into()])
        );

        let mut a = in_sync(&d);
        a.statements[0].1 = "lambda:InvokeFunction".into();
        assert_eq!(missing_permissions(&a), vec![PERMISSIONS[0]]);
    }

    #[test]
    fn statements_are_read_from_the_policy_document() {
        let policy = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl"},
            {"Sid":"other","Action":"lambda:InvokeFunction"}]}"#;
        assert_eq!(
            statements_of(policy),
            vec![
                (
                    "FunctionURLAllowPublicAccess".into(),
                    "lambda:InvokeFunctionUrl".into()
                ),
                ("other".into(), "lambda:InvokeFunction".into())
            ]
        );
        assert!(statements_of("not json").is_empty());
    }
}
