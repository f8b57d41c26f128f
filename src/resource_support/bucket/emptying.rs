//! Teardown's side of a bucket: every object version and delete marker removed, then the
//! bucket, waiting out uploads that arrive meanwhile.

use std::time::Duration;

use anyhow::{bail, Context};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::versions::{self, Markers, Page};

use crate::aws::{
    error_code, retry_while_settling, seconds, Aws, Progress, SdkResultExt, Settling,
};

/// How long teardown keeps emptying a bucket that S3 still finds objects in (uploads through
/// presigned URLs handed out before the function was deleted, valid for up to 15 minutes).
const STILL_FILLING: Settling = Settling::up_to(Duration::from_secs(60), Duration::from_secs(8));

enum Emptying {
    /// DeleteBucket answered BucketNotEmpty: something arrived after the listing.
    NotEmpty,
    /// DeleteBucket answered OperationAborted: S3 is still applying another change to it.
    Busy,
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
    delete_emptying(aws, bucket, progress, true).await
}

/// Like [`empty_and_delete`] for a bucket emptied just before: DeleteBucket comes first, and
/// only S3's BucketNotEmpty (an upload since) makes it wait and empty the bucket again.
pub async fn delete_emptied(
    aws: &Aws,
    bucket: &str,
    progress: Progress<'_>,
) -> anyhow::Result<usize> {
    delete_emptying(aws, bucket, progress, false).await
}

async fn delete_emptying(
    aws: &Aws,
    bucket: &str,
    progress: Progress<'_>,
    empty_first: bool,
) -> anyhow::Result<usize> {
    let deleted = std::sync::atomic::AtomicUsize::new(0);
    let skip_emptying = std::sync::atomic::AtomicBool::new(!empty_first);
    // Why the last DeleteBucket did not go through, for the progress line.
    let busy = std::sync::atomic::AtomicBool::new(false);
    let emptied = retry_while_settling(
        STILL_FILLING,
        |e| matches!(e, Emptying::NotEmpty | Emptying::Busy),
        |delay, attempt| {
            let why = match busy.load(std::sync::atomic::Ordering::Relaxed) {
                true => "S3 is still applying another change to it (OperationAborted), deleting it again",
                false => "S3 still finds objects in it (BucketNotEmpty: a late upload), emptying it again",
            };
            progress(format!(
                "bucket {bucket}: {why} in {} (attempt {attempt})",
                seconds(delay)
            ))
        },
        || async {
            if !skip_emptying.swap(false, std::sync::atomic::Ordering::Relaxed) {
                let count = empty(aws, bucket).await.map_err(Emptying::Failed)?;
                deleted.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
            }
            let deleted = aws.s3.delete_bucket().bucket(bucket).send().await;
            let code = deleted.as_ref().err().and_then(error_code).map(str::to_owned);
            let aborted = code.as_deref() == Some("OperationAborted");
            busy.store(
                aborted,
                std::sync::atomic::Ordering::Relaxed,
            );
            match deleted {
                Err(_) if code.as_deref() == Some("BucketNotEmpty") => Err(Emptying::NotEmpty),
                Err(_) if aborted => {
                    // Emptied already: the next attempt only deletes the bucket.
                    skip_emptying.store(true, std::sync::atomic::Ordering::Relaxed);
                    Err(Emptying::Busy)
                }
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
        Err(Emptying::Busy) => bail!(
            "delete bucket {bucket}: OperationAborted: S3 kept applying another change to it; run teardown again in a few minutes"
        ),
        Err(Emptying::Failed(e)) => Err(e),
    }
}

/// DeleteObjects calls in flight at once while the next page is listed.
const DELETES_IN_FLIGHT: usize = 4;

/// DeleteObjects takes at most 1,000 keys.
const BATCH: usize = 1000;

/// Deletes every object version and delete marker; returns how many. Pages are listed on
/// with S3's key and version markers (never from the start again) while earlier pages are
/// deleted in full batches of 1,000, a few DeleteObjects at a time. A page is deleted only
/// once the page after it is listed: its last entry is that listing's marker.
pub async fn empty(aws: &Aws, bucket: &str) -> anyhow::Result<usize> {
    let mut deletes = Deletes {
        aws,
        bucket,
        in_flight: tokio::task::JoinSet::new(),
        deleted: 0,
    };
    let mut from = Markers::default();
    let (mut deletable, mut listed) = (Vec::new(), Vec::new());
    loop {
        let page = versions::list(aws, bucket, BATCH as i32, std::mem::take(&mut from)).await?;
        deletable.append(&mut listed);
        while deletable.len() >= BATCH {
            deletes.start(deletable.drain(..BATCH).collect()).await?;
        }
        let Some(page) = page else { break };
        listed = identifiers(&page);
        match page.next {
            Some(next) => from = next,
            None => break,
        }
    }
    deletable.append(&mut listed);
    while !deletable.is_empty() {
        let rest = deletable.split_off(deletable.len().min(BATCH));
        deletes
            .start(std::mem::replace(&mut deletable, rest))
            .await?;
    }
    deletes.finish().await
}

/// The DeleteObjects calls of one emptying, at most [`DELETES_IN_FLIGHT`] at once.
struct Deletes<'a> {
    aws: &'a Aws,
    bucket: &'a str,
    in_flight: tokio::task::JoinSet<anyhow::Result<()>>,
    deleted: usize,
}

impl Deletes<'_> {
    async fn start(&mut self, batch: Vec<ObjectIdentifier>) -> anyhow::Result<()> {
        while self.in_flight.len() >= DELETES_IN_FLIGHT {
            if let Some(done) = self.in_flight.join_next().await {
                done.context("delete task")??;
            }
        }
        self.deleted += batch.len();
        let (s3, bucket) = (self.aws.s3.clone(), self.bucket.to_owned());
        self.in_flight
            .spawn(async move { delete_batch(&s3, &bucket, batch, "empty bucket").await });
        Ok(())
    }

    async fn finish(mut self) -> anyhow::Result<usize> {
        while let Some(done) = self.in_flight.join_next().await {
            done.context("delete task")??;
        }
        Ok(self.deleted)
    }
}

/// Every version and delete marker of a listing page.
fn identifiers(page: &Page) -> Vec<ObjectIdentifier> {
    page.versions
        .iter()
        .chain(&page.delete_markers)
        .filter_map(|entry| {
            ObjectIdentifier::builder()
                .key(&entry.key)
                .set_version_id(entry.version_id.clone())
                .build()
                .ok()
        })
        .collect()
}

/// Teardown's read: one entry listed the way emptying lists, so that a bucket whose objects
/// cannot be listed (no permission, an unreadable answer) stops teardown before its first
/// deletion, not half-way through.
pub async fn check_listable(aws: &Aws, bucket: &str) -> anyhow::Result<()> {
    versions::list(aws, bucket, 1, Markers::default()).await?;
    Ok(())
}

/// One DeleteObjects of at most 1,000 objects; `doing` begins the error ("empty bucket").
pub async fn delete_batch(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    objects: Vec<ObjectIdentifier>,
    doing: &str,
) -> anyhow::Result<()> {
    let (objects, alone): (Vec<_>, Vec<_>) = objects
        .into_iter()
        .partition(|object| fits_in_xml(object.key()));
    for object in alone {
        s3.delete_object()
            .bucket(bucket)
            .key(object.key())
            .set_version_id(object.version_id().map(str::to_owned))
            .send()
            .await
            .or_fail(|| format!("{doing} {bucket}: delete {:?}", object.key()))?;
    }
    if objects.is_empty() {
        return Ok(());
    }
    // DeleteObjects answers 200 with per-key errors, which SDKs do not retry: the keys that
    // failed for a passing reason (InternalError, SlowDown) are sent again, and only them.
    let count = objects.len();
    let pending = std::sync::Mutex::new(objects);
    let pending = &pending;
    retry_while_settling(
        KEY_RETRIES,
        |e: &Failed| e.passing,
        |delay, attempt| {
            tracing::info!(target: "catup::steps", "{doing} {bucket}: some keys not deleted yet, sending them again in {} (attempt {attempt})", seconds(delay));
        },
        move || async move {
            let batch = pending.lock().unwrap().clone();
            let out = s3
                .delete_objects()
                .bucket(bucket)
                .delete(Delete::builder().set_objects(Some(batch)).quiet(true).build()?)
                .send()
                .await
                .or_fail(|| format!("{doing} {bucket}"))
                .map_err(Failed::other)?;
            let Some(first) = out.errors().first() else {
                return Ok(());
            };
            let passing = out
                .errors()
                .iter()
                .all(|e| e.code().is_some_and(|c| PASSING_KEY_ERRORS.contains(&c)));
            let message = format!(
                "{doing} {bucket}: {} of {} not deleted (first: {} {})",
                out.errors().len(),
                crate::output::count(count, "object", "objects"),
                first.key().unwrap_or("?"),
                first.message().or(first.code()).unwrap_or("")
            );
            let again = out.errors().iter().filter_map(|e| {
                let key = e.key()?;
                let id = ObjectIdentifier::builder().key(key);
                id.set_version_id(e.version_id().map(str::to_owned)).build().ok()
            });
            *pending.lock().unwrap() = again.collect();
            Err(Failed {
                passing,
                error: anyhow::anyhow!(message),
            })
        },
    )
    .await
    .map_err(|failed| failed.error)
}

/// Per-key errors inside DeleteObjects' 200 that a later try can get past.
const PASSING_KEY_ERRORS: [&str; 4] = [
    "InternalError",
    "SlowDown",
    "ServiceUnavailable",
    "OperationAborted",
];
const KEY_RETRIES: Settling = Settling::up_to(Duration::from_secs(60), Duration::from_secs(8));

/// A DeleteObjects that did not delete everything, and whether trying again may.
struct Failed {
    passing: bool,
    error: anyhow::Error,
}

impl Failed {
    fn other(error: anyhow::Error) -> Failed {
        Failed {
            passing: false,
            error,
        }
    }
}

impl From<aws_smithy_types::error::operation::BuildError> for Failed {
    fn from(e: aws_smithy_types::error::operation::BuildError) -> Failed {
        Failed::other(e.into())
    }
}

/// Whether XML 1.0 can carry the key. A key with another control character (anyone may
/// upload one) would make DeleteObjects' XML body malformed, so such an object is deleted
/// alone with DeleteObject, its key in the URL.
fn fits_in_xml(key: &str) -> bool {
    key.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_control_characters_do_not_fit_in_xml() {
        for key in [
            "images/a.png",
            "a b+c%41",
            "tab\tnew\nline\r",
            "caf\u{e9}",
            "\u{7f}",
        ] {
            assert!(fits_in_xml(key), "{key:?}");
        }
        for key in ["\u{1}x.png", "a\u{0}", "\u{b}", "\u{1f}", "\u{fffe}"] {
            assert!(!fits_in_xml(key), "{key:?}");
        }
    }
}
