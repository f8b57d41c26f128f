//! What both buckets share: existence, the stack tag, creation in the region, public access
//! block flags, and emptying every version before deletion.

use anyhow::{anyhow, bail};
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging,
};

use ownership::BucketRole;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use cat_upload_fn::listed_key;

use crate::aws::{
    error_code, reason, retry_while_settling, seconds, Aws, Progress, SdkResultExt, Settling,
};
use crate::reconcile::{Foreign, Kind, Ownership};
use crate::stack::STACK_TAG;

/// S3 keeps a just-deleted bucket's name busy (OperationAborted) for up to minutes: teardown
/// then deploy meets it.
const NAME_RELEASE: Settling = Settling::up_to(Duration::from_secs(180), Duration::from_secs(15));
/// Calls right after CreateBucket may answer NoSuchBucket for a few seconds.
const NEW_BUCKET: Settling = Settling::up_to(Duration::from_secs(60), Duration::from_secs(5));

pub mod by_tags;
mod emptying;
pub mod found;
pub mod ownership;
pub mod versions;
pub use emptying::{check_listable, delete_batch, delete_emptied, empty, empty_and_delete};

/// A bucket a deploy is changing, and how it reports waiting for S3.
#[derive(Clone, Copy)]
pub struct Changing<'a> {
    pub aws: &'a Aws,
    pub name: &'a str,
    /// Created by this deploy: S3 may not know it everywhere yet.
    pub just_created: bool,
    pub progress: Progress<'a>,
}

impl<'a> Changing<'a> {
    pub fn new(aws: &'a Aws, name: &'a str, just_created: bool, progress: Progress<'a>) -> Self {
        Changing {
            aws,
            name,
            just_created,
            progress,
        }
    }

    /// S3 answered NoSuchBucket for a bucket this deploy just created.
    pub fn not_there_yet<E: ProvideErrorMetadata>(&self, e: &SdkError<E, HttpResponse>) -> bool {
        self.just_created && error_code(e) == Some("NoSuchBucket")
    }

    pub fn announce(&self, why: &str, delay: Duration, attempt: u32) {
        (self.progress)(format!(
            "bucket {}: {why}, retrying in {} (attempt {attempt})",
            self.name,
            seconds(delay)
        ));
    }

    /// Runs `call`, retried while S3 does not know the new bucket yet, or is still applying
    /// another change to the bucket (OperationAborted, which S3 may answer to any bucket
    /// configuration call; Terraform's provider retries it on every one).
    pub async fn call<T, E, Fut>(
        &self,
        call: impl FnMut() -> Fut,
    ) -> Result<T, SdkError<E, HttpResponse>>
    where
        E: ProvideErrorMetadata,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    {
        let why = std::cell::Cell::new(NOT_THERE_YET);
        retry_while_settling(
            NEW_BUCKET,
            |e| self.settling(e).inspect(|reason| why.set(reason)).is_some(),
            |delay, attempt| self.announce(why.get(), delay, attempt),
            call,
        )
        .await
    }

    /// Why `e` is S3 catching up with this bucket rather than a refusal, if it is.
    pub fn settling<E: ProvideErrorMetadata>(
        &self,
        e: &SdkError<E, HttpResponse>,
    ) -> Option<&'static str> {
        if error_code(e) == Some("OperationAborted") {
            Some(BUSY)
        } else if self.not_there_yet(e) {
            Some(NOT_THERE_YET)
        } else {
            None
        }
    }
}

pub const NOT_THERE_YET: &str = "S3 does not know the new bucket everywhere yet (NoSuchBucket)";
const BUSY: &str = "S3 is still applying another change to this bucket (OperationAborted)";

/// The four public access block flags, in S3's order: BlockPublicAcls, IgnorePublicAcls,
/// BlockPublicPolicy, RestrictPublicBuckets.
pub type PublicAccessFlags = [bool; 4];

/// Whose an existing bucket is and whether adopting it would be safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basics {
    pub tags: Vec<(String, String)>,
    /// Exactly what a deploy killed between CreateBucket and PutBucketTagging leaves: no tag,
    /// no object or version, no policy, CORS or website configuration.
    pub leftover: bool,
}

impl Basics {
    pub fn ownership(&self, stack: &str) -> Ownership {
        let tag = self.tags.iter().find(|(k, _)| k == STACK_TAG);
        Ownership::of(tag.map(|(_, v)| v.as_str()), stack)
    }

    /// Deploy manages (and teardown deletes) the bucket if it is ours, or a killed deploy's
    /// leftover (S3 cannot create and tag in one call); never one with anyone else's tags.
    pub fn check_deployable(&self, kind: Kind, name: &str, stack: &str) -> Result<(), Foreign> {
        match self.ownership(stack) {
            Ownership::Ours => Ok(()),
            Ownership::Untagged if self.leftover => Ok(()),
            other => Err(Foreign::new(kind, name, stack, &other)),
        }
    }

    pub fn tagged_for(&self, stack: &str) -> bool {
        self.ownership(stack) == Ownership::Ours
    }

    /// Carries this stack's tag and the role's.
    pub fn tagged_as(&self, stack: &str, role: BucketRole) -> bool {
        self.tagged_for(stack) && ownership::role_tag(self) == Some(role.tag_value())
    }
}

/// `None` when the bucket does not exist; an error when it exists but is not reachable with
/// these credentials (another account's, or in another region).
pub async fn describe(aws: &Aws, bucket: &str) -> anyhow::Result<Option<Basics>> {
    match aws.s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => {}
        Err(e) if crate::aws::is_not_found(&e) => return Ok(None),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            match status {
                Some(403) => bail!("bucket {bucket} exists and belongs to another AWS account (or you lack s3:ListBucket on it): choose another name (--site-bucket / --images-bucket)"),
                Some(301) => bail!("bucket {bucket} exists in another region: deploy to that region or choose another name"),
                _ => bail!("read bucket {bucket}: {}", reason(&e)),
            }
        }
    }
    let tags = read_tags(aws, bucket).await?;
    // Tags decide by themselves: only an untagged bucket is probed for a killed deploy's
    // leftover (one object at most is listed, whatever the bucket holds).
    let leftover = tags.is_empty()
        && is_empty(aws, bucket).await?
        && ownership::is_unconfigured(aws, bucket).await?;
    Ok(Some(Basics { tags, leftover }))
}

/// Whose the bucket is, in one call where the tags decide: GetBucketTagging answers for a
/// tagged bucket and says NoSuchBucket for a missing one. Anything else (no tags, another
/// account's bucket, another region's) goes through [`describe`], whose HeadBucket gives the
/// error that says what to do and whose probe finds a killed deploy's leftover.
pub async fn read_owner(aws: &Aws, bucket: &str) -> anyhow::Result<Option<Basics>> {
    match aws.s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(tagging) if !tagging.tag_set().is_empty() => Ok(Some(Basics {
            tags: tagging
                .tag_set
                .into_iter()
                .map(|tag| (tag.key, tag.value))
                .collect(),
            leftover: false,
        })),
        Err(e) if error_code(&e) == Some("NoSuchBucket") => Ok(None),
        _ => describe(aws, bucket).await,
    }
}

async fn read_tags(aws: &Aws, bucket: &str) -> anyhow::Result<Vec<(String, String)>> {
    let tagging = aws.s3.get_bucket_tagging().bucket(bucket).send().await;
    tag_pairs(tagging.or_absent(|| format!("read tags of bucket {bucket}"))?)
}

fn tag_pairs(
    tagging: Option<aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput>,
) -> anyhow::Result<Vec<(String, String)>> {
    Ok(tagging
        .map(|t| {
            t.tag_set
                .into_iter()
                .map(|tag| (tag.key, tag.value))
                .collect()
        })
        .unwrap_or_default())
}

/// Whose a bucket is once CreateBucket said this account has it: read as any existing
/// bucket (its tags, and whether it is a killed deploy's empty, unconfigured leftover), in
/// one round trip; NoSuchBucket, for a bucket this deploy has just made, is waited out.
async fn read_after_create(target: &Changing<'_>) -> anyhow::Result<Basics> {
    let (aws, bucket) = (target.aws, target.name);
    let (tags, empty, unconfigured) = tokio::try_join!(
        async {
            let out = target
                .call(|| aws.s3.get_bucket_tagging().bucket(bucket).send())
                .await;
            tag_pairs(out.or_absent(|| format!("read tags of bucket {bucket}"))?)
        },
        async {
            let out = target
                .call(|| {
                    aws.s3
                        .list_object_versions()
                        .bucket(bucket)
                        .max_keys(1)
                        .encoding_type(listed_key::LISTING_ENCODING)
                        .send()
                })
                .await;
            let page = out.or_absent(|| format!("list bucket {bucket}"))?;
            anyhow::Ok(page.as_ref().is_none_or(holds_nothing))
        },
        ownership::is_unconfigured(aws, bucket),
    )?;
    Ok(Basics {
        leftover: tags.is_empty() && empty && unconfigured,
        tags,
    })
}

async fn is_empty(aws: &Aws, bucket: &str) -> anyhow::Result<bool> {
    let page = aws
        .s3
        .list_object_versions()
        .bucket(bucket)
        .max_keys(1)
        .encoding_type(listed_key::LISTING_ENCODING)
        .send()
        .await
        .or_fail(|| format!("list bucket {bucket}"))?;
    Ok(holds_nothing(&page))
}

/// A one-entry listing of versions found neither an object version nor a delete marker.
fn holds_nothing(
    page: &aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput,
) -> bool {
    page.versions().is_empty() && page.delete_markers().is_empty()
}

/// Creates the bucket; `false` when S3 answers that this account has it already (a retried
/// create whose first answer was lost, or another deploy that got there first).
pub async fn create(target: &Changing<'_>) -> anyhow::Result<bool> {
    let (aws, bucket) = (target.aws, target.name);
    let created = retry_while_settling(
        NAME_RELEASE,
        |e| error_code(e) == Some("OperationAborted"),
        |delay, attempt| {
            target.announce(
                "S3 is still releasing this name after a recent delete (OperationAborted)",
                delay,
                attempt,
            )
        },
        || {
            let mut request = aws.s3.create_bucket().bucket(bucket);
            // us-east-1 is the one region that must not be named as a location constraint.
            if aws.region.as_str() != "us-east-1" {
                request = request.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(aws.region.as_str()))
                        .build(),
                );
            }
            request.send()
        },
    )
    .await;
    match created {
        Ok(_) => Ok(true),
        Err(e) if error_code(&e) == Some("BucketAlreadyOwnedByYou") => Ok(false),
        Err(e) if error_code(&e) == Some("BucketAlreadyExists") => Err(anyhow!(
            "bucket name {bucket} is taken by another AWS account: choose another with --site-bucket / --images-bucket"
        )),
        Err(e) => Err(anyhow!("create bucket {bucket}: {}", reason(&e))),
    }
}

/// The first step of every bucket's apply: create it if it is being created, then tag it
/// when `retag` (S3 has no create-with-tags that every region honours).
pub async fn ensure_tagged(
    target: &Changing<'_>,
    stack: &str,
    role: BucketRole,
    actual: Option<&Basics>,
    retag: bool,
) -> anyhow::Result<()> {
    let (aws, bucket) = (target.aws, target.name);
    // Not "created" before the bucket says whose it is: S3 answers BucketAlreadyOwnedByYou
    // for a bucket this account has, except in us-east-1, where it answers 200.
    if target.just_created && (!create(target).await? || aws.region.as_str() == "us-east-1") {
        let basics = read_after_create(target).await?;
        basics.check_deployable(role.kind(), bucket, stack)?;
        ownership::check_role(&basics, role, bucket, stack)?;
    }
    if retag {
        let current = actual.map(|a| a.tags.as_slice()).unwrap_or_default();
        put_stack_tag(target, current, stack, role).await?;
    }
    Ok(())
}

/// Adds this stack's tag and the bucket's role, keeping any other tags the bucket has.
async fn put_stack_tag(
    target: &Changing<'_>,
    current: &[(String, String)],
    stack: &str,
    role: BucketRole,
) -> anyhow::Result<()> {
    let (aws, bucket) = (target.aws, target.name);
    let ours = ownership::bucket_tags(stack, role);
    let mut tags: Vec<Tag> = current
        .iter()
        .filter(|(k, _)| ours.iter().all(|(key, _)| k != key))
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()?;
    for (key, value) in ours {
        tags.push(Tag::builder().key(key).value(value).build()?);
    }
    let tagging = Tagging::builder().set_tag_set(Some(tags)).build()?;
    target
        .call(|| {
            aws.s3
                .put_bucket_tagging()
                .bucket(bucket)
                .tagging(tagging.clone())
                .send()
        })
        .await
        .or_fail(|| format!("tag bucket {bucket}"))?;
    Ok(())
}

pub async fn read_public_access(
    aws: &Aws,
    bucket: &str,
) -> anyhow::Result<Option<PublicAccessFlags>> {
    let out = aws
        .s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .or_absent(|| format!("read public access block of bucket {bucket}"))?;
    Ok(out
        .and_then(|o| o.public_access_block_configuration)
        .map(|c| {
            [
                c.block_public_acls.unwrap_or(false),
                c.ignore_public_acls.unwrap_or(false),
                c.block_public_policy.unwrap_or(false),
                c.restrict_public_buckets.unwrap_or(false),
            ]
        }))
}

pub async fn put_public_access(
    target: &Changing<'_>,
    flags: PublicAccessFlags,
) -> anyhow::Result<()> {
    let (aws, bucket) = (target.aws, target.name);
    let [block_acls, ignore_acls, block_policy, restrict] = flags;
    let config = PublicAccessBlockConfiguration::builder()
        .block_public_acls(block_acls)
        .ignore_public_acls(ignore_acls)
        .block_public_policy(block_policy)
        .restrict_public_buckets(restrict)
        .build();
    target
        .call(|| {
            aws.s3
                .put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(config.clone())
                .send()
        })
        .await
        .or_fail(|| format!("set public access block of bucket {bucket}"))?;
    Ok(())
}

/// The bucket policy, parsed; one that does not parse is kept as its text, so that it
/// still differs from any desired policy and still counts as granting access.
pub async fn read_policy(aws: &Aws, bucket: &str) -> anyhow::Result<Option<serde_json::Value>> {
    let out = aws
        .s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .or_absent(|| format!("read policy of bucket {bucket}"))?;
    Ok(out
        .and_then(|o| o.policy)
        .map(|p| serde_json::from_str(&p).unwrap_or(serde_json::Value::String(p))))
}

/// Whether the bucket encrypts new objects with SSE-S3 by default. (Site objects are compared
/// by MD5 against their ETag, which is the MD5 only under SSE-S3.)
pub async fn read_sse_s3(aws: &Aws, name: &str) -> anyhow::Result<bool> {
    let out = aws
        .s3
        .get_bucket_encryption()
        .bucket(name)
        .send()
        .await
        .or_absent(|| format!("read encryption of bucket {name}"))?;
    Ok(out
        .and_then(|o| o.server_side_encryption_configuration)
        .is_some_and(|c| {
            c.rules().iter().any(|r| {
                r.apply_server_side_encryption_by_default()
                    .is_some_and(|d| d.sse_algorithm() == &ServerSideEncryption::Aes256)
            })
        }))
}

pub async fn put_sse_s3(target: &Changing<'_>) -> anyhow::Result<()> {
    let (aws, name) = (target.aws, target.name);
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()?;
    let config = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(by_default)
                .build(),
        )
        .build()?;
    target
        .call(|| {
            aws.s3
                .put_bucket_encryption()
                .bucket(name)
                .server_side_encryption_configuration(config.clone())
                .send()
        })
        .await
        .or_fail(|| format!("set default encryption of bucket {name}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basics(tags: &[(&str, &str)], leftover: bool) -> Basics {
        let tags = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Basics { tags, leftover }
    }

    #[test]
    fn deploy_and_teardown_manage_only_ours_or_a_killed_deploy_s_leftover() {
        let k = Kind::ImagesBucket;
        let ours = [("team", "cats"), (STACK_TAG, "s")];
        assert!(basics(&ours, false).check_deployable(k, "b", "s").is_ok());
        assert!(basics(&[], true).check_deployable(k, "b", "s").is_ok());
        assert!(basics(&[], false).check_deployable(k, "b", "s").is_err());
        let someone_else = basics(&[("owner", "someone-else")], false);
        assert!(someone_else.check_deployable(k, "b", "s").is_err());
        let other_stack = basics(&[(STACK_TAG, "other")], false);
        assert!(other_stack.check_deployable(k, "b", "s").is_err());
    }
}
