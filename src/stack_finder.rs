//! Every catup stack in the account, in every region: found by catup's ownership tags and
//! names (never by a name alone), with what each holds and what it costs a month. Reads
//! only. `catup list` reports it; the commands asked about a stack that is not in their
//! region use it to say where it is.

pub mod budgets;
pub mod held;
pub mod named;
pub mod report;
pub mod roles;
pub mod tagged;

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::aws::Aws;
use crate::pricing::{self, Prices, Usage};
use crate::reconcile::Kind;
use crate::region::Region;
use held::Images;
use tagged::Tagged;

/// The resources `list` sees of a stack: the Function URL goes with its function and the
/// site's files with their bucket.
pub const LISTED: [Kind; 5] = [
    Kind::ImagesBucket,
    Kind::SiteBucket,
    Kind::LogGroup,
    Kind::Role,
    Kind::Function,
];

#[derive(Debug, Clone, Serialize)]
pub struct FoundResource {
    pub kind: Kind,
    pub name: String,
}

/// One stack in one region, with what is left of it.
#[derive(Debug, Clone, Serialize)]
pub struct FoundStack {
    pub stack: String,
    pub region: String,
    pub resources: Vec<FoundResource>,
    /// What a complete stack has and this one lacks (a teardown cut short).
    pub missing: Vec<Kind>,
    /// `None` without an images bucket.
    pub images: Option<Images>,
    pub log_bytes: u64,
    pub monthly_usd: f64,
}

/// A region whose resources could not be read (one not enabled in the account, say).
#[derive(Debug, Clone, Serialize)]
pub struct Unread {
    pub region: String,
    pub reason: String,
}

/// Every catup resource in `regions`, each under its own region, and the regions not read.
/// IAM and Budgets (global) are read beside the regions' listings and the buckets' regions.
pub async fn locate(aws: &Aws, regions: &[Region]) -> anyhow::Result<(Vec<Tagged>, Vec<Unread>)> {
    let (roles, budgets, listed) = tokio::join!(
        roles::find(aws, regions, None),
        budgets::find(aws, regions),
        listed(aws, regions)
    );
    let (mut found, unread) = listed?;
    found.extend(roles?);
    found.extend(budgets?);
    Ok((found, unread))
}

/// Every region's listing at once, then each bucket placed in its own region.
async fn listed(aws: &Aws, regions: &[Region]) -> anyhow::Result<(Vec<Tagged>, Vec<Unread>)> {
    let mut listings = tokio::task::JoinSet::new();
    for region in regions {
        let here = aws.in_region(region);
        listings.spawn(async move { (here.region.clone(), tagged::read(&here).await) });
    }
    let (mut found, mut unread, mut buckets) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(done) = listings.join_next().await {
        match done? {
            (_, Ok(tagged)) => {
                for t in tagged {
                    match t.kind {
                        Kind::ImagesBucket | Kind::SiteBucket => buckets.push(t),
                        _ => found.push(t),
                    }
                }
            }
            (region, Err(reason)) => unread.push(Unread {
                region: region.to_string(),
                reason,
            }),
        }
    }
    found.extend(in_own_regions(aws, buckets).await?);
    unread.sort_by(|a, b| a.region.cmp(&b.region));
    Ok((found, unread))
}

/// Each bucket once, under the region it is in (a listing may name another region's).
async fn in_own_regions(aws: &Aws, buckets: Vec<Tagged>) -> anyhow::Result<Vec<Tagged>> {
    let mut seen = HashSet::new();
    let mut heads = tokio::task::JoinSet::new();
    for bucket in buckets {
        if seen.insert(bucket.name.clone()) {
            let here = aws.in_region(&bucket.region);
            heads.spawn(async move {
                let region = held::bucket_region(&here, &bucket.name).await?;
                anyhow::Ok(region.map(|region| Tagged { region, ..bucket }))
            });
        }
    }
    let mut found = Vec::new();
    while let Some(done) = heads.join_next().await {
        found.extend(done??);
    }
    Ok(found)
}

/// Every stack in `regions`, with what it holds and costs, by stack then region.
pub async fn census(
    aws: &Aws,
    regions: &[Region],
) -> anyhow::Result<(Vec<FoundStack>, Vec<Unread>)> {
    let (found, unread) = locate(aws, regions).await?;
    let mut stacks: BTreeMap<(String, Region), Vec<Tagged>> = BTreeMap::new();
    for t in found {
        stacks
            .entry((t.stack.clone(), t.region.clone()))
            .or_default()
            .push(t);
    }
    let mut reads = tokio::task::JoinSet::new();
    for ((stack, region), parts) in stacks {
        let here = aws.in_region(&region);
        reads.spawn(async move { describe(&here, stack, parts).await });
    }
    let mut described = Vec::new();
    while let Some(done) = reads.join_next().await {
        described.push(done??);
    }
    described.sort_by(|a, b| (&a.stack, &a.region).cmp(&(&b.stack, &b.region)));
    Ok((described, unread))
}

/// One stack's images and log bytes (read at once), and its cost; `aws` is of its region.
pub async fn describe(aws: &Aws, stack: String, parts: Vec<Tagged>) -> anyhow::Result<FoundStack> {
    let named = |kind: Kind| {
        parts
            .iter()
            .find(|t| t.kind == kind)
            .map(|t| t.name.clone())
    };
    let (images_bucket, log_group) = (named(Kind::ImagesBucket), named(Kind::LogGroup));
    let (images, log_bytes) = tokio::try_join!(
        async {
            match &images_bucket {
                Some(bucket) => Ok(Some(held::images(aws, bucket).await?)),
                None => anyhow::Ok(None),
            }
        },
        async {
            match &log_group {
                Some(group) => held::log_bytes(aws, group).await,
                None => Ok(0),
            }
        },
    )?;
    Ok(found_stack(stack, &aws.region, &parts, images, log_bytes))
}

/// The stack as reported: its resources in report order, what is missing, and its cost.
pub fn found_stack(
    stack: String,
    region: &Region,
    parts: &[Tagged],
    images: Option<Images>,
    log_bytes: u64,
) -> FoundStack {
    let mut resources: Vec<FoundResource> = parts
        .iter()
        .map(|t| FoundResource {
            kind: t.kind,
            name: t.name.clone(),
        })
        .collect();
    resources.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    let missing = LISTED
        .into_iter()
        .filter(|k| parts.iter().all(|t| t.kind != *k))
        .collect();
    let usage = usage_of(images.as_ref(), log_bytes);
    FoundStack {
        stack,
        region: region.to_string(),
        resources,
        missing,
        monthly_usd: pricing::monthly_usd(&usage, &Prices::of(region.as_str())),
        images,
        log_bytes,
    }
}

/// What the estimate counts of what a stack holds.
pub fn usage_of(images: Option<&Images>, log_bytes: u64) -> Usage {
    Usage {
        image_bytes: images.map_or(0, |i| i.bytes),
        uploads_last_30_days: images.map_or(0, |i| i.uploads_last_30_days),
        log_bytes,
    }
}

/// Every stack (name and region) that has anything left in `regions`, sorted; reads only
/// the listings.
pub async fn stacks(
    aws: &Aws,
    regions: &[Region],
) -> anyhow::Result<(Vec<(String, Region)>, Vec<Unread>)> {
    let (found, unread) = locate(aws, regions).await?;
    let mut stacks: Vec<(String, Region)> =
        found.into_iter().map(|t| (t.stack, t.region)).collect();
    stacks.sort();
    stacks.dedup();
    Ok((stacks, unread))
}

/// The regions other than `aws`'s own where a stack of this name has a bucket or a role
/// by catup's names and its own tags: global listings (S3, IAM) and a read per candidate,
/// not a call in every region.
pub async fn regions_of(aws: &Aws, stack: &str) -> anyhow::Result<Vec<Region>> {
    let regions = Region::all_with(&aws.region);
    let (buckets, roles) = tokio::try_join!(
        named::bucket_regions(aws, stack, &regions),
        roles::find(aws, &regions, Some(stack)),
    )?;
    let mut found: Vec<Region> = buckets
        .into_iter()
        .chain(roles.into_iter().map(|t| t.region))
        .filter(|r| *r != aws.region)
        .collect();
    found.sort();
    found.dedup();
    Ok(found)
}
