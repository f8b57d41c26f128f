//! Teardown's side of a bucket: every object version and delete marker removed, then the
//! bucket, waiting out uploads that arrive meanwhile.

use std::time::Duration;

use anyhow::bail;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use crate::aws::{
    error_code, retry_while_settling, seconds, Aws, Progress, SdkResultExt, Settling,
};

/// How long teardown keeps emptying a bucket that S3 still finds objects in (uploads through
/// presigned URLs handed out before the function was deleted, valid for up to 15 minutes).
const STILL_FILLING: Settling = Settling::up_to(Duration::from_secs(60), Duration::from_secs(8));

enum Emptying {
    /// DeleteBucket answered BucketNotEmpty: something arrived after the listing.
    NotEmpty,
    Failed(anyhow::Error),
}

/// Deletes every object version and delete marker, then the bucket; while S3 answers
/// BucketNotEmpty (a late upload), waits and empties it again. Returns how many versions
/// and markers were deleted. A bucket already gone is success.
pub async fn empty_and_delete(
    aws: &Aws,
    bucket: &str,
    progress: Progress<'_>,
) -> anyhow::Result<usize> {
    let deleted = std::sync::atomic::AtomicUsize::new(0);
    let emptied = retry_while_settling(
        STILL_FILLING,
        |e| matches!(e, Emptying::NotEmpty),
        |delay, attempt| {
            progress(format!(
                "bucket {bucket}: S3 still finds objects in it (BucketNotEmpty: a late upload), emptying it again in {} (attempt {attempt})",
                seconds(delay)
            ))
        },
        || async {
            let count = empty(aws, bucket).await.map_err(Emptying::Failed)?;
            deleted.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
            match aws.s3.delete_bucket().bucket(bucket).send().await {
                Err(e) if error_code(&e) == Some("BucketNotEmpty") => Err(Emptying::NotEmpty),
                other => other
                    .or_absent(|| format!("delete bucket {bucket}"))
                    .map(|_| ())
                    .map_err(Emptying::Failed),
            }
        },
    )
    .await;
    match emptied {
        Ok(()) => Ok(deleted.into_inner()),
        Err(Emptying::NotEmpty) => bail!(
            "delete bucket {bucket}: BucketNotEmpty: uploads keep arriving; run teardown again once they stop"
        ),
        Err(Emptying::Failed(e)) => Err(e),
    }
}

/// Deletes every object version and delete marker; returns how many.
async fn empty(aws: &Aws, bucket: &str) -> anyhow::Result<usize> {
    let mut deleted = 0;
    loop {
        // Always list from the start: what was listed before is deleted now.
        let page = aws
            .s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(1000)
            .send()
            .await
            .or_absent(|| format!("list bucket {bucket}"))?;
        let Some(page) = page else { return Ok(deleted) };
        let objects: Vec<ObjectIdentifier> = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            )
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .set_key(key.map(str::to_owned))
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        if objects.is_empty() {
            return Ok(deleted);
        }
        let count = objects.len();
        let out = aws
            .s3
            .delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(objects))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .or_fail(|| format!("empty bucket {bucket}"))?;
        if let Some(first) = out.errors().first() {
            bail!(
                "empty bucket {bucket}: {} of {count} objects not deleted (first: {} {})",
                out.errors().len(),
                first.key().unwrap_or("?"),
                first.message().unwrap_or("")
            );
        }
        deleted += count;
    }
}
