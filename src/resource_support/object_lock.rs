//! S3 Object Lock: an object version under a legal hold or an unexpired retention cannot be
//! deleted, so teardown looks for such versions before it deletes anything, instead of
//! stopping half-way with the function and the site already gone.

use anyhow::bail;
use aws_sdk_s3::types::{ObjectLockEnabled, ObjectLockLegalHoldStatus};

use crate::aws::{error_code, Aws, SdkResultExt};
use crate::resource_support::bucket::versions::{self, Markers};

/// One version that S3 will not delete, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub key: String,
    pub version: Option<String>,
    pub why: String,
}

/// Refuses (naming the first locked version and how to free it) when any version in the
/// bucket is held; a bucket without Object Lock costs one call.
pub async fn check_deletable(aws: &Aws, bucket: &str) -> anyhow::Result<()> {
    let locked = locked_versions(aws, bucket).await?;
    let Some(first) = locked.first() else {
        return Ok(());
    };
    let version = first.version.as_deref().unwrap_or("null");
    bail!(
        "bucket {bucket}: {} object version(s) are locked by S3 Object Lock (first: {} version {version}, {}), so teardown deleted nothing: lift legal holds with `aws s3api put-object-legal-hold --bucket {bucket} --key {} --version-id {version} --legal-hold Status=OFF` and wait for retention periods to end, then run teardown again",
        locked.len(),
        first.key,
        first.why,
        first.key,
    )
}

pub async fn locked_versions(aws: &Aws, bucket: &str) -> anyhow::Result<Vec<Locked>> {
    let config = aws
        .s3
        .get_object_lock_configuration()
        .bucket(bucket)
        .send()
        .await;
    let config = match config {
        Err(e) if error_code(&e) == Some("ObjectLockConfigurationNotFoundError") => None,
        other => {
            other.or_absent(|| format!("read Object Lock configuration of bucket {bucket}"))?
        }
    };
    let enabled = config
        .and_then(|c| c.object_lock_configuration)
        .and_then(|c| c.object_lock_enabled)
        == Some(ObjectLockEnabled::Enabled);
    if !enabled {
        return Ok(Vec::new());
    }
    let mut locked = Vec::new();
    let mut from = Markers::default();
    loop {
        let Some(page) = versions::list(aws, bucket, 1000, from).await? else {
            return Ok(locked);
        };
        for version in page.versions {
            let lock = lock_of(aws, bucket, &version.key, version.version_id.as_deref()).await?;
            if let Some(why) = lock {
                locked.push(Locked {
                    key: version.key,
                    version: version.version_id,
                    why,
                });
            }
        }
        match page.next {
            Some(next) => from = next,
            None => return Ok(locked),
        }
    }
}

/// Why this version cannot be deleted now, if it cannot.
async fn lock_of(
    aws: &Aws,
    bucket: &str,
    key: &str,
    version: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let head = aws
        .s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await
        .or_absent(|| format!("read object {key} of bucket {bucket}"))?;
    let Some(head) = head else { return Ok(None) };
    if head.object_lock_legal_hold_status() == Some(&ObjectLockLegalHoldStatus::On) {
        return Ok(Some("legal hold ON".into()));
    }
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
    Ok(head
        .object_lock_retain_until_date()
        .filter(|until| until.secs() > now.secs())
        .map(|until| format!("retained until {until}")))
}
