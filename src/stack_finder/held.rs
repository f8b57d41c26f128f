//! What a found stack holds: a bucket's own region, the images under `images/` (count,
//! bytes, last upload) and the bytes its log group stores. Reads only.

use aws_sdk_s3::primitives::DateTime;
use cat_upload_fn::listed_key;

use crate::aws::{reason, Aws, SdkResultExt};
pub use crate::output::Images;
use crate::region::Region;
use crate::resource_support::bucket::ownership::IMAGES_PREFIX;
use crate::resources::log_group;

/// The bucket's own region (HeadBucket names it, also when answering 301 from another
/// region); `None` when it is gone since the listing.
pub async fn bucket_region(aws: &Aws, bucket: &str) -> anyhow::Result<Option<Region>> {
    let header = |region: Option<&str>| {
        Region::parse(region.unwrap_or(aws.region.as_str())).unwrap_or(aws.region.clone())
    };
    match aws.s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(Some(header(out.bucket_region()))),
        Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
            Some(404) => Ok(None),
            Some(301) => {
                let raw = e
                    .raw_response()
                    .and_then(|r| r.headers().get("x-amz-bucket-region"));
                Ok(raw.map(|r| header(Some(r))))
            }
            _ => anyhow::bail!("read bucket {bucket}: {}", reason(&e)),
        },
    }
}

/// Every image under `images/`, counted; `aws` is of the bucket's region.
pub async fn images(aws: &Aws, bucket: &str) -> anyhow::Result<Images> {
    let mut pages = aws
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(IMAGES_PREFIX)
        .encoding_type(listed_key::LISTING_ENCODING)
        .into_paginator()
        .send();
    let month_ago =
        DateTime::from_secs(DateTime::from(std::time::SystemTime::now()).secs() - 30 * 24 * 3600);
    let mut held = Images::default();
    let mut newest: Option<DateTime> = None;
    while let Some(page) = pages.next().await {
        let page = page.or_fail(|| format!("list {IMAGES_PREFIX} of bucket {bucket}"))?;
        for object in page.contents() {
            held.count += 1;
            held.bytes += u64::try_from(object.size().unwrap_or(0)).unwrap_or(0);
            if let Some(modified) = object.last_modified() {
                if modified.secs() >= month_ago.secs() {
                    held.uploads_last_30_days += 1;
                }
                if newest.is_none_or(|n| n.secs() < modified.secs()) {
                    newest = Some(*modified);
                }
            }
        }
    }
    held.last_upload =
        newest.and_then(|n| n.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok());
    Ok(held)
}

/// The bytes the log group stores (0 when it is gone).
pub async fn log_bytes(aws: &Aws, group: &str) -> anyhow::Result<u64> {
    let found = log_group::find(aws, group).await?;
    Ok(found.as_ref().map_or(0, log_group::stored_bytes))
}
