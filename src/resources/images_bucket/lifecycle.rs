//! Lifecycle rules on the images bucket: a rule that expires objects quietly empties the
//! gallery, so it is drift that deploy removes; other rules (aborting uploads) stay.

use aws_sdk_s3::types::{BucketLifecycleConfiguration, LifecycleRule};

use crate::aws::{Aws, SdkResultExt};
use crate::resource_support::bucket::Changing;

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
