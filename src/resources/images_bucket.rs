//! The private images bucket: all public access blocked, SSE-S3 by default, and CORS that
//! lets the website origin (exactly) PUT uploads and GET images with presigned URLs.

use anyhow::Context;
use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
use serde_json::Value;

use crate::aws::{Aws, Progress, SdkResultExt};
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

pub mod lifecycle;

const ALL_BLOCKED: PublicAccessFlags = [true; 4];

/// One CORS rule, normalised so that AWS's ordering and casing do not count as drift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsRuleSpec {
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub origins: Vec<String>,
    pub max_age: Option<i32>,
}

impl CorsRuleSpec {
    fn new(
        methods: &[String],
        headers: &[String],
        origins: &[String],
        max_age: Option<i32>,
    ) -> Self {
        let sorted = |items: &[String], lower: bool| {
            let mut v: Vec<String> = items
                .iter()
                .map(|s| {
                    if lower {
                        s.to_ascii_lowercase()
                    } else {
                        s.clone()
                    }
                })
                .collect();
            v.sort();
            v
        };
        CorsRuleSpec {
            methods: sorted(methods, false),
            headers: sorted(headers, true),
            origins: sorted(origins, false),
            max_age,
        }
    }

    fn from_sdk(rule: &CorsRule) -> Self {
        CorsRuleSpec::new(
            rule.allowed_methods(),
            rule.allowed_headers(),
            rule.allowed_origins(),
            rule.max_age_seconds(),
        )
    }

    fn to_sdk(&self) -> anyhow::Result<CorsRule> {
        Ok(CorsRule::builder()
            .set_allowed_methods(Some(self.methods.clone()))
            .set_allowed_headers(Some(self.headers.clone()))
            .set_allowed_origins(Some(self.origins.clone()))
            .set_max_age_seconds(self.max_age)
            .build()?)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub stack: String,
    /// Set when the name is remembered, not given: the bucket must prove it is the stack's.
    pub pointer: Option<ownership::Pointer>,
    pub cors: Vec<CorsRuleSpec>,
    /// The user's cap on how long uploads are kept (`--keep-days`).
    pub keep_days: lifecycle::KeepDays,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Actual {
    pub basics: Basics,
    /// Rules that expire objects would silently empty the gallery.
    pub lifecycle: lifecycle::Lifecycle,
    pub public_access: Option<PublicAccessFlags>,
    pub cors: Vec<CorsRuleSpec>,
    pub sse_s3: bool,
    /// The bucket policy, if any. Its Allow statements are drift (access is the role's and
    /// the presigned URLs' only); Deny statements (e.g. an organisation's TLS-only rule) stay.
    pub policy: Option<Value>,
}

pub fn desired(stack: &Stack) -> anyhow::Result<Desired> {
    let doc = Template::ImagesCors.render(&stack.policy_values())?;
    Ok(Desired {
        name: stack.images_bucket.clone(),
        stack: stack.tag_value().to_owned(),
        pointer: ownership::Pointer::of(stack, BucketRole::Images),
        cors: cors_rules_from_json(&doc)?,
        keep_days: lifecycle::KeepDays::from_flag(stack.overrides.keep_days),
    })
}

/// The rules of `policies/images-cors.json` (S3's CORSConfiguration JSON shape).
fn cors_rules_from_json(doc: &Value) -> anyhow::Result<Vec<CorsRuleSpec>> {
    let strings = |rule: &Value, field: &str| -> Vec<String> {
        rule[field]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    doc["CORSRules"]
        .as_array()
        .context("images CORS document has no CORSRules array")?
        .iter()
        .map(|rule| {
            Ok(CorsRuleSpec::new(
                &strings(rule, "AllowedMethods"),
                &strings(rule, "AllowedHeaders"),
                &strings(rule, "AllowedOrigins"),
                rule["MaxAgeSeconds"].as_i64().map(|n| n as i32),
            ))
        })
        .collect()
}

pub async fn describe(aws: &Aws, name: &str) -> anyhow::Result<Option<Actual>> {
    // One round trip: the configuration is read beside the owner, and counts only once the
    // owner read says the bucket exists (its error is the one that says what to do).
    let (basics, configuration) = tokio::join!(bucket::read_owner(aws, name), async {
        tokio::try_join!(
            bucket::read_public_access(aws, name),
            read_cors(aws, name),
            bucket::read_sse_s3(aws, name),
            bucket::read_policy(aws, name),
            lifecycle::read_lifecycle(aws, name),
        )
    });
    let Some(basics) = basics? else {
        return Ok(None);
    };
    let (public_access, cors, sse_s3, policy, lifecycle) = configuration?;
    Ok(Some(Actual {
        basics,
        lifecycle,
        public_access,
        cors,
        sse_s3,
        policy,
    }))
}

async fn read_cors(aws: &Aws, name: &str) -> anyhow::Result<Vec<CorsRuleSpec>> {
    let out = aws
        .s3
        .get_bucket_cors()
        .bucket(name)
        .send()
        .await
        .or_absent(|| format!("read CORS of bucket {name}"))?;
    Ok(out
        .map(|o| o.cors_rules().iter().map(CorsRuleSpec::from_sdk).collect())
        .unwrap_or_default())
}

pub fn check_owner(desired: &Desired, actual: &Actual) -> Result<(), Foreign> {
    let (name, stack) = (desired.name.as_str(), desired.stack.as_str());
    let pointer = desired.pointer.as_ref();
    ownership::check_pointer(&actual.basics, BucketRole::Images, pointer, name, stack)?;
    actual
        .basics
        .check_deployable(Kind::ImagesBucket, name, stack)?;
    ownership::check_role(&actual.basics, BucketRole::Images, name, stack)
}

aspects! {
    /// What can differ on the images bucket, in the order apply changes it.
    Aspect {
        Tags => "tags",
        PublicAccessBlock => "public access block",
        Encryption => "encryption",
        Cors => "cors",
        Policy => "policy",
        Lifecycle => "lifecycle",
    }
}

pub fn diff(desired: &Desired, actual: Option<&Actual>) -> Change<Aspect> {
    let Some(actual) = actual else {
        return Change::Create;
    };
    Change::from_checks([
        (
            Aspect::Tags,
            !actual.basics.tagged_as(&desired.stack, BucketRole::Images),
        ),
        (
            Aspect::PublicAccessBlock,
            actual.public_access != Some(ALL_BLOCKED),
        ),
        (Aspect::Encryption, !actual.sse_s3),
        (Aspect::Cors, actual.cors != desired.cors),
        (
            Aspect::Policy,
            actual.policy.as_ref().is_some_and(grants_access),
        ),
        (
            Aspect::Lifecycle,
            actual.lifecycle.differs(desired.keep_days),
        ),
    ])
}

pub async fn apply(
    aws: &Aws,
    desired: &Desired,
    actual: Option<&Actual>,
    change: &Change<Aspect>,
    progress: Progress<'_>,
) -> anyhow::Result<Outcome> {
    let name = desired.name.as_str();
    let target = Changing::new(aws, name, change.is_create(), progress);
    let basics = actual.map(|a| &a.basics);
    let retag = change.differs(Aspect::Tags);
    bucket::ensure_tagged(&target, &desired.stack, BucketRole::Images, basics, retag).await?;
    // Block public access before anything else can be written to the bucket.
    if change.differs(Aspect::PublicAccessBlock) {
        bucket::put_public_access(&target, ALL_BLOCKED).await?;
    }
    if change.differs(Aspect::Encryption) {
        bucket::put_sse_s3(&target).await?;
    }
    if change.differs(Aspect::Cors) {
        put_cors(&target, desired).await?;
    }
    if let (true, Some(policy)) = (
        change.differs(Aspect::Policy),
        actual.and_then(|a| a.policy.as_ref()),
    ) {
        keep_only_denies(&target, policy).await?;
    }
    // A new bucket has no rules: it needs a call only for a cap.
    let capped = matches!(desired.keep_days, lifecycle::KeepDays::Days(_));
    if change.differs(Aspect::Lifecycle) && (actual.is_some() || capped) {
        let current = actual.map(|a| a.lifecycle.clone()).unwrap_or_default();
        lifecycle::put_rules(&target, &current, desired.keep_days).await?;
    }
    Ok(change.outcome())
}

/// Whether a bucket policy grants anything: any statement that is not a Deny (a policy that
/// does not parse counts as granting, to be safe).
fn grants_access(policy: &Value) -> bool {
    match policy["Statement"].as_array() {
        Some(statements) => statements.iter().any(|s| s["Effect"] != "Deny"),
        None => !policy.is_null(),
    }
}

/// Removes the Allow statements, keeping the Deny ones (or the whole policy if none remain).
async fn keep_only_denies(target: &Changing<'_>, policy: &Value) -> anyhow::Result<()> {
    let (s3, name) = (&target.aws.s3, target.name);
    let denies: Vec<Value> = policy["Statement"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter(|s| s["Effect"] == "Deny")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if denies.is_empty() {
        target
            .call(|| s3.delete_bucket_policy().bucket(name).send())
            .await
            .or_absent(|| format!("remove the policy of bucket {name}"))?;
    } else {
        let version = policy
            .get("Version")
            .cloned()
            .unwrap_or("2012-10-17".into());
        let kept = serde_json::json!({"Version": version, "Statement": denies});
        let kept = kept.to_string();
        target
            .call(|| s3.put_bucket_policy().bucket(name).policy(&kept).send())
            .await
            .or_fail(|| format!("remove the Allow statements of bucket {name}'s policy"))?;
    }
    Ok(())
}

async fn put_cors(target: &Changing<'_>, desired: &Desired) -> anyhow::Result<()> {
    let rules = desired
        .cors
        .iter()
        .map(CorsRuleSpec::to_sdk)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = CorsConfiguration::builder()
        .set_cors_rules(Some(rules))
        .build()?;
    target
        .call(|| {
            target
                .aws
                .s3
                .put_bucket_cors()
                .bucket(&desired.name)
                .cors_configuration(config.clone())
                .send()
        })
        .await
        .or_fail(|| format!("set CORS of bucket {}", desired.name))?;
    Ok(())
}

/// Deletes the images bucket, emptied while the function went: DeleteBucket first, and only
/// a late upload (BucketNotEmpty) empties it again. Returns the versions deleted here.
pub async fn delete(aws: &Aws, name: &str, progress: Progress<'_>) -> anyhow::Result<usize> {
    bucket::delete_emptied(aws, name, progress).await
}

/// The private bucket the images go to.
pub struct ImagesBucket;

impl Resource for ImagesBucket {
    const KIND: Kind = Kind::ImagesBucket;
    const NEEDS: &'static [Need] = &[];
    type Desired = Desired;
    type Actual = Actual;
    type Aspect = Aspect;

    fn desired(stack: &Stack) -> anyhow::Result<Desired> {
        desired(stack)
    }

    async fn describe(read: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        describe(read.aws, &read.stack.images_bucket).await
    }

    fn check_owner(desired: &Desired, actual: &Actual) -> Result<(), Foreign> {
        check_owner(desired, actual)
    }

    fn diff(plan: &Planning<'_>) -> Change<Aspect> {
        diff(&plan.desired.images, plan.observed.images.as_ref())
    }

    fn name(stack: &Stack, _: &Observed) -> String {
        stack.images_bucket.clone()
    }

    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        let progress = |message: String| a.progress(message);
        let actual = a.observed.images.as_ref();
        apply(
            a.aws,
            &a.desired.images,
            actual,
            &a.changes.images,
            &progress,
        )
        .await?;
        Ok(())
    }

    type Found = Option<FoundBucket>;

    async fn find(read: &Reading<'_>) -> anyhow::Result<Option<FoundBucket>> {
        let (stack, name) = (read.stack, &read.stack.images_bucket);
        found::read(read.aws, stack, name, BucketRole::Images).await
    }

    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>> {
        let (name, bucket) = (&stack.images_bucket, found.images.as_ref());
        Ok(vec![found::step(
            Kind::ImagesBucket,
            name,
            bucket,
            BucketRole::Images,
            stack,
        )])
    }

    /// Deleted once the function is gone, so that no new presigned upload URL is handed out
    /// for it; emptied meanwhile, and once more then if uploads arrived.
    const DELETED_AFTER: &'static [Kind] = &[Kind::Function];

    async fn delete(
        d: &Deleting<'_>,
        gone: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        let step = d.plan.step(Kind::ImagesBucket);
        if !step.deletes() {
            d.absent(step);
            return Ok(());
        }
        let already = bucket::empty(d.aws, &step.name).await?;
        // A function that could not be deleted keeps its bucket (its error is the one
        // reported).
        if !gone.await {
            return Ok(());
        }
        let progress = |message: String| d.progress(message);
        let more = delete(d.aws, &step.name, &progress).await?;
        d.deleted_bucket(step, already + more);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::{ROLE_TAG, STACK_TAG};

    fn desired_for(region: &str) -> Desired {
        let stack = Stack::example(region);
        desired(&stack).unwrap()
    }

    fn in_sync(d: &Desired) -> Actual {
        Actual {
            basics: Basics {
                tags: vec![
                    (STACK_TAG.into(), d.stack.clone()),
                    (ROLE_TAG.into(), "images".into()),
                ],
                leftover: false,
            },
            lifecycle: lifecycle::Lifecycle::default(),
            public_access: Some(ALL_BLOCKED),
            cors: d.cors.clone(),
            sse_s3: true,
            policy: None,
        }
    }

    #[test]
    fn cors_allows_get_and_put_with_content_type_from_the_site_origin_only() {
        let d = desired_for("eu-central-1");
        assert_eq!(
            d.cors,
            vec![CorsRuleSpec {
                methods: vec!["GET".into(), "PUT".into()],
                headers: vec!["content-type".into()],
                origins: vec![
                    "http://cats-site-123456789012-eu-central-1.s3-website.eu-central-1.amazonaws.com"
                        .into()
                ],
                max_age: Some(3000),
            }]
        );
    }

    #[test]
    fn diff_names_each_differing_aspect() {
        let d = desired_for("us-east-1");
        assert_eq!(diff(&d, None), Change::Create);
        assert_eq!(diff(&d, Some(&in_sync(&d))), Change::InSync);

        let mut a = in_sync(&d);
        a.cors.clear();
        assert_eq!(diff(&d, Some(&a)), Change::Update(vec![Aspect::Cors]));

        let mut a = in_sync(&d);
        a.public_access = Some([true, true, false, true]);
        a.sse_s3 = false;
        assert_eq!(
            diff(&d, Some(&a)),
            Change::Update(vec![Aspect::PublicAccessBlock, Aspect::Encryption])
        );

        let mut a = in_sync(&d);
        a.public_access = None;
        a.basics.tags.clear();
        assert_eq!(
            diff(&d, Some(&a)),
            Change::Update(vec![Aspect::Tags, Aspect::PublicAccessBlock])
        );

        let mut a = in_sync(&d);
        a.policy = Some(serde_json::json!({"Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        ]}));
        assert_eq!(
            diff(&d, Some(&a)),
            Change::InSync,
            "a Deny-only policy is fine"
        );
        a.policy.as_mut().unwrap()["Statement"]
            .as_array_mut()
            .unwrap()
            .push(
                serde_json::json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}),
            );
        assert_eq!(diff(&d, Some(&a)), Change::Update(vec![Aspect::Policy]));

        // An origin with a trailing slash is a different origin to browsers.
        let mut a = in_sync(&d);
        a.cors[0].origins[0].push('/');
        assert!(diff(&d, Some(&a)).differs(Aspect::Cors));
    }

    #[test]
    fn cors_comparison_ignores_order_and_header_case() {
        let a = CorsRuleSpec::new(
            &["PUT".into(), "GET".into()],
            &["Content-Type".into()],
            &["http://x".into()],
            Some(3000),
        );
        let b = CorsRuleSpec::new(
            &["GET".into(), "PUT".into()],
            &["content-type".into()],
            &["http://x".into()],
            Some(3000),
        );
        assert_eq!(a, b);
    }
}
