//! Settings catup never makes that expose, disable or quietly empty the stack, read so that
//! `status` reports them as drift and `deploy` removes them: public invoke statements beyond
//! catup's two, reserved concurrency 0 (the function disabled), website redirects and routing
//! rules, CORS on the site bucket, and lifecycle rules that expire the images.

use crate::resources::bucket::Changing;
use aws_sdk_s3::types::{BucketLifecycleConfiguration, LifecycleRule};
use serde_json::Value;

use super::function_url::permissions::{Statement, PERMISSIONS};
use crate::aws::{Aws, SdkResultExt};

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

/// The function's reserved concurrency, if any (0 means the function is disabled).
pub async fn reserved_concurrency(aws: &Aws, function: &str) -> anyhow::Result<Option<i32>> {
    let out = aws
        .lambda
        .get_function_concurrency()
        .function_name(function)
        .send()
        .await
        .or_absent(|| format!("read reserved concurrency of function {function}"))?;
    Ok(out.and_then(|o| o.reserved_concurrent_executions))
}

/// Lets the function run again: removes a reserved concurrency of 0.
pub async fn remove_zero_concurrency(aws: &Aws, function: &str) -> anyhow::Result<()> {
    aws.lambda
        .delete_function_concurrency()
        .function_name(function)
        .send()
        .await
        .or_absent(|| format!("remove the reserved concurrency of function {function}"))?;
    Ok(())
}

/// How many CORS rules the bucket has (the site bucket needs none: pages are same-origin).
pub async fn cors_rule_count(aws: &Aws, bucket: &str) -> anyhow::Result<usize> {
    let out = aws
        .s3
        .get_bucket_cors()
        .bucket(bucket)
        .send()
        .await
        .or_absent(|| format!("read CORS of bucket {bucket}"))?;
    Ok(out.map(|o| o.cors_rules().len()).unwrap_or(0))
}

pub async fn remove_cors(target: &Changing<'_>) -> anyhow::Result<()> {
    let (s3, bucket) = (&target.aws.s3, target.name);
    target
        .call(|| s3.delete_bucket_cors().bucket(bucket).send())
        .await
        .or_absent(|| format!("remove the CORS rules of bucket {bucket}"))?;
    Ok(())
}

/// The bucket's lifecycle rules, split into those that expire objects and the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lifecycle {
    pub expiring: Vec<LifecycleRule>,
    pub kept: Vec<LifecycleRule>,
}

impl Lifecycle {
    pub fn expires_objects(&self) -> bool {
        !self.expiring.is_empty()
    }
}

pub fn expires(rule: &LifecycleRule) -> bool {
    rule.expiration().is_some() || rule.noncurrent_version_expiration().is_some()
}

pub async fn read_lifecycle(aws: &Aws, bucket: &str) -> anyhow::Result<Lifecycle> {
    let out = aws
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await;
    let out = match out {
        Err(e) if crate::aws::error_code(&e) == Some("NoSuchLifecycleConfiguration") => None,
        other => other.or_absent(|| format!("read lifecycle rules of bucket {bucket}"))?,
    };
    let (expiring, kept) = out
        .map(|o| o.rules().to_vec())
        .unwrap_or_default()
        .into_iter()
        .partition(expires);
    Ok(Lifecycle { expiring, kept })
}

/// Removes the rules that expire objects, keeping the others.
pub async fn remove_expiring_rules(
    target: &Changing<'_>,
    lifecycle: &Lifecycle,
) -> anyhow::Result<()> {
    let (s3, bucket) = (&target.aws.s3, target.name);
    if lifecycle.kept.is_empty() {
        target
            .call(|| s3.delete_bucket_lifecycle().bucket(bucket).send())
            .await
            .or_absent(|| format!("remove the lifecycle rules of bucket {bucket}"))?;
        return Ok(());
    }
    let config = BucketLifecycleConfiguration::builder()
        .set_rules(Some(lifecycle.kept.clone()))
        .build()?;
    target
        .call(|| {
            s3.put_bucket_lifecycle_configuration()
                .bucket(bucket)
                .lifecycle_configuration(config.clone())
                .send()
        })
        .await
        .or_fail(|| format!("remove the expiring lifecycle rules of bucket {bucket}"))?;
    Ok(())
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
        let statements = crate::resources::function_url::permissions::statements_of(policy);
        assert_eq!(extra_public_invokes(&statements), ["anyone", "anyone-aws"]);
    }

    #[test]
    fn only_rules_that_expire_objects_count() {
        let expiring = LifecycleRule::builder()
            .id("gone-in-a-day")
            .status(aws_sdk_s3::types::ExpirationStatus::Enabled)
            .expiration(
                aws_sdk_s3::types::LifecycleExpiration::builder()
                    .days(1)
                    .build(),
            )
            .build()
            .unwrap();
        let abort = LifecycleRule::builder()
            .id("abort-uploads")
            .status(aws_sdk_s3::types::ExpirationStatus::Enabled)
            .build()
            .unwrap();
        assert!(expires(&expiring) && !expires(&abort));
    }
}
