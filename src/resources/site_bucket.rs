//! The public website bucket: ACLs stay blocked, public policies allowed (only as far as the
//! public-read policy needs), the public-read policy, and website hosting with index.html as
//! index and error document.

use aws_sdk_s3::types::{ErrorDocument, IndexDocument, WebsiteConfiguration};
use serde_json::Value;

use crate::aws::{error_code, reason, retry_while_settling, Aws, Progress, SdkResultExt, Settling};
use crate::policies::Template;
use crate::reconcile::{aspects, Change, Foreign, Kind, Outcome};
use crate::resource::{Applying, Deleting, Need, Planning, Reading, Resource};
use crate::resource_support::bucket::found::{self, FoundBucket};
use crate::resource_support::bucket::ownership::{self, BucketRole};
use crate::resource_support::bucket::{self, Basics, Changing, PublicAccessFlags};
use crate::stack::Stack;
use crate::stack_resources::Found;
use crate::stack_resources::Observed;
use crate::teardown_plan::Step;

mod cors;

/// ACLs blocked and ignored; bucket policies may be public (BlockPublicPolicy and
/// RestrictPublicBuckets off), which S3 requires before it accepts the public-read policy.
const POLICY_ONLY: PublicAccessFlags = [true, true, false, false];
pub const INDEX_DOCUMENT: &str = "index.html";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub stack: String,
    /// Set when the name is remembered, not given: the bucket must prove it is the stack's.
    pub pointer: Option<ownership::Pointer>,
    pub policy: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Website {
    pub index: Option<String>,
    pub error: Option<String>,
    /// RedirectAllRequestsTo or routing rules: the site would send visitors elsewhere.
    pub redirects: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actual {
    pub basics: Basics,
    pub public_access: Option<PublicAccessFlags>,
    pub policy: Option<Value>,
    pub website: Option<Website>,
    pub sse_s3: bool,
    /// Objects under `images/`: read unless the bucket is tagged as a site bucket.
    pub holds_images: bool,
    /// The site needs no CORS (its pages are same-origin); any rule is drift.
    pub cors_rules: usize,
}

pub fn desired(stack: &Stack) -> anyhow::Result<Desired> {
    Ok(Desired {
        name: stack.site_bucket.clone(),
        stack: stack.tag_value().to_owned(),
        pointer: ownership::Pointer::of(stack, BucketRole::Site),
        policy: Template::SiteBucketPolicy.render(&stack.policy_values())?,
    })
}

pub async fn describe(aws: &Aws, name: &str) -> anyhow::Result<Option<Actual>> {
    // One round trip: the configuration is read beside the owner, and counts only once the
    // owner read says the bucket exists (its error is the one that says what to do).
    let (basics, configuration) = tokio::join!(bucket::read_owner(aws, name), async {
        tokio::try_join!(
            bucket::read_public_access(aws, name),
            bucket::read_policy(aws, name),
            read_website(aws, name),
            bucket::read_sse_s3(aws, name),
            cors::cors_rule_count(aws, name),
        )
    });
    let Some(basics) = basics? else {
        return Ok(None);
    };
    let (public_access, policy, website, sse_s3, cors_rules) = configuration?;
    // Only a bucket without a role tag is probed for images (rare: an older catup's).
    let holds_images = match ownership::role_tag(&basics) {
        Some(_) => false,
        None => ownership::holds_images(aws, name).await?,
    };
    Ok(Some(Actual {
        basics,
        public_access,
        policy,
        website,
        sse_s3,
        holds_images,
        cors_rules,
    }))
}

async fn read_website(aws: &Aws, name: &str) -> anyhow::Result<Option<Website>> {
    let out = aws
        .s3
        .get_bucket_website()
        .bucket(name)
        .send()
        .await
        .or_absent(|| format!("read website configuration of bucket {name}"))?;
    Ok(out.map(|o| Website {
        redirects: o.redirect_all_requests_to.is_some() || !o.routing_rules().is_empty(),
        index: o.index_document.map(|d| d.suffix),
        error: o.error_document.map(|d| d.key),
    }))
}

/// Ours (or a killed deploy's leftover), never the images bucket, and nothing that holds
/// images or blocks all public access unless catup made it a site bucket.
pub fn check_owner(desired: &Desired, actual: &Actual) -> Result<(), Foreign> {
    let (name, stack) = (desired.name.as_str(), desired.stack.as_str());
    let basics = &actual.basics;
    let pointer = desired.pointer.as_ref();
    ownership::check_pointer(basics, BucketRole::Site, pointer, name, stack)?;
    basics.check_deployable(Kind::SiteBucket, name, stack)?;
    ownership::check_role(basics, BucketRole::Site, name, stack)?;
    ownership::check_may_become_public(
        basics,
        actual.public_access,
        actual.holds_images,
        name,
        stack,
    )
}

fn desired_website() -> Website {
    Website {
        index: Some(INDEX_DOCUMENT.into()),
        error: Some(INDEX_DOCUMENT.into()),
        redirects: false,
    }
}

aspects! {
    /// What can differ on the site bucket, in the order apply changes it.
    Aspect {
        Tags => "tags",
        Encryption => "encryption",
        PublicAccessBlock => "public access block",
        Policy => "policy",
        Website => "website",
        Cors => "cors",
    }
}

pub fn diff(desired: &Desired, actual: Option<&Actual>) -> Change<Aspect> {
    let Some(actual) = actual else {
        return Change::Create;
    };
    Change::from_checks([
        (
            Aspect::Tags,
            !actual.basics.tagged_as(&desired.stack, BucketRole::Site),
        ),
        (Aspect::Encryption, !actual.sse_s3),
        (
            Aspect::PublicAccessBlock,
            actual.public_access != Some(POLICY_ONLY),
        ),
        (
            Aspect::Policy,
            actual.policy.as_ref() != Some(&desired.policy),
        ),
        (Aspect::Website, actual.website != Some(desired_website())),
        (Aspect::Cors, actual.cors_rules > 0),
    ])
}

pub async fn apply(
    aws: &Aws,
    desired: &Desired,
    actual: Option<&Actual>,
    change: &Change<Aspect>,
    progress: Progress<'_>,
    ready_for_objects: impl FnOnce(),
) -> anyhow::Result<Outcome> {
    let name = desired.name.as_str();
    let target = Changing::new(aws, name, change.is_create(), progress);
    let basics = actual.map(|a| &a.basics);
    let retag = change.differs(Aspect::Tags);
    bucket::ensure_tagged(&target, &desired.stack, BucketRole::Site, basics, retag).await?;
    if change.differs(Aspect::Encryption) {
        bucket::put_sse_s3(&target).await?;
    }
    // Objects may go in once the bucket is tagged and encrypts (their ETags are then their
    // MD5s); the public access block, policy and website hosting follow meanwhile. One call
    // at a time per bucket: S3 answers OperationAborted to concurrent configuration changes.
    ready_for_objects();
    // Order matters on real S3: a public policy is refused while BlockPublicPolicy is on.
    let block_changes = change.differs(Aspect::PublicAccessBlock);
    if block_changes {
        bucket::put_public_access(&target, POLICY_ONLY).await?;
    }
    if change.differs(Aspect::Policy) {
        put_public_read_policy(&target, desired, block_changes).await?;
    }
    if change.differs(Aspect::Website) {
        let config = WebsiteConfiguration::builder()
            .index_document(IndexDocument::builder().suffix(INDEX_DOCUMENT).build()?)
            .error_document(ErrorDocument::builder().key(INDEX_DOCUMENT).build()?)
            .build();
        target
            .call(|| {
                aws.s3
                    .put_bucket_website()
                    .bucket(name)
                    .website_configuration(config.clone())
                    .send()
            })
            .await
            .or_fail(|| format!("set website hosting of bucket {name}"))?;
    }
    if change.differs(Aspect::Cors) && actual.is_some() {
        cors::remove_cors(&target).await?;
    }
    Ok(change.outcome())
}

/// S3 applies a public access block change with a delay, and refuses a public policy with
/// AccessDenied until it has: right after loosening the block, retry for a while.
async fn put_public_read_policy(
    target: &Changing<'_>,
    desired: &Desired,
    block_just_changed: bool,
) -> anyhow::Result<()> {
    let (aws, name) = (target.aws, desired.name.as_str());
    // Which of the two waits the last refusal was, for the progress line.
    let waiting_for = std::cell::Cell::new(bucket::NOT_THERE_YET);
    retry_while_settling(
        POLICY_PROPAGATION,
        |e| {
            if block_just_changed && error_code(e) == Some("AccessDenied") {
                waiting_for.set("the public access block change is not in effect yet");
                true
            } else {
                let settling = target.settling(e);
                waiting_for.set(settling.unwrap_or(bucket::NOT_THERE_YET));
                settling.is_some()
            }
        },
        |delay, attempt| target.announce(waiting_for.get(), delay, attempt),
        || {
            aws.s3
                .put_bucket_policy()
                .bucket(name)
                .policy(desired.policy.to_string())
                .send()
        },
    )
    .await
    .map_err(|e| {
        let why = reason(&e);
        // Still refused after the bucket's own block was lifted: the account's or the
        // organization's setting is what blocks it.
        let hint = if why.contains("BlockPublicPolicy") {
            ": the account's or organization's S3 Block Public Access setting blocks public policies (aws s3control get-public-access-block --account-id <account>)"
        } else {
            ""
        };
        anyhow::anyhow!("set public-read policy of bucket {name}: {why}{hint}")
    })?;
    Ok(())
}

const POLICY_PROPAGATION: Settling = Settling::up_to(
    std::time::Duration::from_secs(60),
    std::time::Duration::from_secs(8),
);

/// Empties the site bucket of every version and delete marker, then deletes it. Returns the
/// versions deleted.
pub async fn delete(aws: &Aws, name: &str, progress: Progress<'_>) -> anyhow::Result<usize> {
    bucket::empty_and_delete(aws, name, progress).await
}

/// The public website bucket.
pub struct SiteBucket;

impl Resource for SiteBucket {
    const KIND: Kind = Kind::SiteBucket;
    const NEEDS: &'static [Need] = &[];
    type Desired = Desired;
    type Actual = Actual;
    type Aspect = Aspect;

    fn desired(stack: &Stack) -> anyhow::Result<Desired> {
        desired(stack)
    }

    async fn describe(read: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        describe(read.aws, &read.stack.site_bucket).await
    }

    fn check_owner(desired: &Desired, actual: &Actual) -> Result<(), Foreign> {
        check_owner(desired, actual)
    }

    fn diff(plan: &Planning<'_>) -> Change<Aspect> {
        diff(&plan.desired.site, plan.observed.site.as_ref())
    }

    fn name(stack: &Stack, _: &Observed) -> String {
        stack.site_bucket.clone()
    }

    /// Ready for the site's files as soon as it takes objects, before its website settings.
    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        let progress = |message: String| a.progress(message);
        let (desired, actual) = (&a.desired.site, a.observed.site.as_ref());
        let ready = || a.ready(Kind::SiteBucket);
        apply(a.aws, desired, actual, &a.changes.site, &progress, ready).await?;
        Ok(())
    }

    type Found = Option<FoundBucket>;

    async fn find(read: &Reading<'_>) -> anyhow::Result<Option<FoundBucket>> {
        let (stack, name) = (read.stack, &read.stack.site_bucket);
        found::read(read.aws, stack, name, BucketRole::Site).await
    }

    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>> {
        let (name, bucket) = (&stack.site_bucket, found.site.as_ref());
        Ok(vec![found::step(
            Kind::SiteBucket,
            name,
            bucket,
            BucketRole::Site,
            stack,
        )])
    }

    async fn delete(
        d: &Deleting<'_>,
        gone: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        let step = d.plan.step(Kind::SiteBucket);
        if !step.deletes() {
            d.absent(step);
            return Ok(());
        }
        if !gone.await {
            return Ok(());
        }
        let progress = |message: String| d.progress(message);
        let objects = delete(d.aws, &step.name, &progress).await?;
        d.deleted_bucket(step, objects);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::{ROLE_TAG, STACK_TAG};

    fn desired_in(region: &str) -> Desired {
        let stack = Stack::example(region);
        desired(&stack).unwrap()
    }

    fn in_sync(d: &Desired) -> Actual {
        Actual {
            basics: Basics {
                tags: vec![
                    (STACK_TAG.into(), d.stack.clone()),
                    (ROLE_TAG.into(), "site".into()),
                ],
                leftover: false,
            },
            public_access: Some(POLICY_ONLY),
            policy: Some(d.policy.clone()),
            website: Some(desired_website()),
            sse_s3: true,
            holds_images: false,
            cors_rules: 0,
        }
    }

    #[test]
    fn policy_grants_get_object_on_this_bucket_only() {
        let d = desired_in("us-west-2");
        let statement = &d.policy["Statement"][0];
        assert_eq!(statement["Action"], "s3:GetObject");
        assert_eq!(statement["Principal"], "*");
        assert_eq!(
            statement["Resource"],
            "arn:aws:s3:::cats-site-123456789012-us-west-2/*"
        );
    }

    #[test]
    fn diff_names_each_differing_aspect_in_apply_order() {
        let d = desired_in("us-east-1");
        assert_eq!(diff(&d, None), Change::Create);
        assert_eq!(diff(&d, Some(&in_sync(&d))), Change::InSync);

        let mut a = in_sync(&d);
        a.public_access = Some([true; 4]);
        a.policy = None;
        assert_eq!(
            diff(&d, Some(&a)),
            Change::Update(vec![Aspect::PublicAccessBlock, Aspect::Policy])
        );

        let mut a = in_sync(&d);
        a.website = Some(Website {
            index: Some("index.html".into()),
            error: Some("error.html".into()),
            redirects: false,
        });
        assert_eq!(diff(&d, Some(&a)), Change::Update(vec![Aspect::Website]));

        let mut a = in_sync(&d);
        a.policy.as_mut().unwrap()["Statement"][0]["Action"] = "s3:*".into();
        assert_eq!(diff(&d, Some(&a)), Change::Update(vec![Aspect::Policy]));
    }
}
