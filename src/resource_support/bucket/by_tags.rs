//! The stack's buckets found by their own tags (`catup:stack` and `catup:role`) in this
//! region, without the function that remembers custom names: how a teardown cut short after
//! the function's deletion is finished by the next one.

use aws_sdk_resourcegroupstagging::types::TagFilter;

use crate::aws::{Aws, SdkResultExt};
use crate::resource_support::bucket::ownership::BucketRole;
use crate::stack::{ROLE_TAG, STACK_TAG};

/// A bucket whose own tags say it is the stack's, in one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub name: String,
    pub role: BucketRole,
}

/// Every bucket of this region tagged for `stack` with a role, by name.
pub async fn find(aws: &Aws, stack: &str) -> anyhow::Result<Vec<Tagged>> {
    let mut pages = aws
        .tagging
        .get_resources()
        .tag_filters(TagFilter::builder().key(STACK_TAG).values(stack).build())
        .resource_type_filters("s3:bucket")
        .into_paginator()
        .send();
    let mut candidates = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.or_fail(|| format!("find the buckets tagged {STACK_TAG}={stack}"))?;
        for mapping in page.resource_tag_mapping_list() {
            let tag = |key: &str| {
                mapping
                    .tags()
                    .iter()
                    .find(|t| t.key() == key)
                    .map(|t| t.value())
            };
            let role = match tag(ROLE_TAG) {
                Some("site") => BucketRole::Site,
                Some("images") => BucketRole::Images,
                _ => continue,
            };
            let name = mapping
                .resource_arn()
                .and_then(|arn| arn.rsplit(":::").next());
            if let (Some(name), Some(stack_tag)) = (name, tag(STACK_TAG)) {
                if stack_tag == stack {
                    candidates.push(Tagged {
                        name: name.to_owned(),
                        role,
                    });
                }
            }
        }
    }
    // The listing may hold other regions' buckets: a stack of the same name deployed there,
    // which is not this one's to touch.
    let here = which_in_region(aws, &candidates).await?;
    let mut found: Vec<Tagged> = candidates
        .into_iter()
        .zip(here)
        .filter_map(|(bucket, here)| here.then_some(bucket))
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

async fn which_in_region(aws: &Aws, buckets: &[Tagged]) -> anyhow::Result<Vec<bool>> {
    let mut tasks = tokio::task::JoinSet::new();
    for (index, bucket) in buckets.iter().enumerate() {
        let (aws_s3, name, region) = (
            aws.s3.clone(),
            bucket.name.clone(),
            aws.region.as_str().to_owned(),
        );
        tasks.spawn(async move { (index, in_region(&aws_s3, &name, &region).await) });
    }
    let mut here = vec![false; buckets.len()];
    while let Some(done) = tasks.join_next().await {
        let (index, answer) = done?;
        here[index] = answer?;
    }
    Ok(here)
}

/// Whether the bucket is in `region` (HeadBucket names the bucket's region; S3 answers 301
/// for one of another region, 404 for one deleted since the listing).
async fn in_region(s3: &aws_sdk_s3::Client, bucket: &str, region: &str) -> anyhow::Result<bool> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(out.bucket_region().is_none_or(|r| r == region)),
        Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
            Some(301 | 403 | 404) => Ok(false),
            _ => Err(anyhow::anyhow!(
                "read bucket {bucket}: {}",
                crate::aws::reason(&e)
            )),
        },
    }
}
