//! The function's IAM role: Lambda may assume it, and its one inline policy allows exactly
//! what the function does (list/get/put under images/, write its own logs).

use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::Tag;
use serde_json::Value;

use std::time::Duration;

use crate::aws::{
    error_code, reason, retry_while_settling, seconds, Aws, Progress, SdkResultExt, Settling,
};
use crate::policies::Template;
use crate::reconcile::{aspects, Change, Foreign, Kind, Outcome, Ownership};
use crate::resource::{Applying, Deleting, Need, Planning, Reading, Resource};
use crate::stack::{Stack, STACK_TAG};
use crate::stack_resources::Found;
use crate::stack_resources::Observed;
use crate::teardown_plan::{owned, Step, TeardownAction};

pub mod given;

pub const INLINE_POLICY: &str = "catup-runtime";
/// The region whose function the role serves (IAM itself is global).
pub const REGION_TAG: &str = "catup:region";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub stack: String,
    pub region: String,
    pub trust: Value,
    pub runtime_policy: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actual {
    pub stack_tag: Option<String>,
    pub region_tag: Option<String>,
    pub trust: Option<Value>,
    pub runtime_policy: Option<Value>,
    /// Inline policies other than ours, and attached managed policies (ARNs): anything here
    /// widens the function's permissions beyond least privilege.
    pub extra_inline: Vec<String>,
    pub attached: Vec<String>,
    /// When IAM created the role (seconds since 1970): a role newer than the function's last
    /// change was deleted and re-created, and Lambda's grant for the old one is stale.
    pub created_at: Option<i64>,
    /// IAM's unique id of the role: a role re-created under the same name has a new one.
    pub role_id: Option<String>,
}

/// `None` when the stack uses the caller's role (`--role-arn`).
pub fn desired(stack: &Stack) -> anyhow::Result<Option<Desired>> {
    let Some(name) = &stack.role_name else {
        return Ok(None);
    };
    let values = stack.policy_values();
    Ok(Some(Desired {
        name: name.clone(),
        stack: stack.tag_value().to_owned(),
        region: stack.region.to_string(),
        trust: Template::LambdaTrust.render(&values)?,
        runtime_policy: Template::FunctionRuntime.render(&values)?,
    }))
}

/// IAM returns policy documents URL-encoded; a document that does not parse counts as drift.
pub fn parse_document(raw: &str) -> Option<Value> {
    serde_json::from_str(raw).ok().or_else(|| {
        let decoded = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .ok()?;
        serde_json::from_str(&decoded).ok()
    })
}

/// IAM's AccessDenied as the one line that says what accounts that deny it (student labs)
/// do instead; any other answer is left to the caller.
fn unless_denied<T, E: ProvideErrorMetadata + std::error::Error + 'static>(
    result: Result<T, SdkError<E, HttpResponse>>,
    what: &str,
) -> anyhow::Result<Result<T, SdkError<E, HttpResponse>>> {
    match result {
        Err(e) if error_code(&e) == Some("AccessDenied") => anyhow::bail!(
            "{what}: {}; in an account that cannot manage IAM roles (a student lab), pass --role-arn with an existing role such as LabRole",
            reason(&e)
        ),
        other => Ok(other),
    }
}

/// The role and its policies, in one round trip: the policy reads do not wait for GetRole
/// (IAM answers each with NoSuchEntity when the role does not exist).
pub async fn describe(aws: &Aws, name: &str) -> anyhow::Result<Option<Actual>> {
    let (role, inline, attached, policy) = tokio::join!(
        get_role(aws, name),
        list_inline(aws, name),
        list_attached(aws, name),
        get_runtime_policy(aws, name)
    );
    let Some(role) = role? else {
        return Ok(None);
    };
    Ok(Some(actual_of(&role, &inline?, &attached?, policy?)))
}

/// [`describe`] of the stack's role; nothing is read without one (a `--role-arn` role is
/// not the stack's).
pub async fn describe_if_ours(aws: &Aws, name: Option<&str>) -> anyhow::Result<Option<Actual>> {
    match name {
        Some(name) => describe(aws, name).await,
        None => Ok(None),
    }
}

type IamRole = aws_sdk_iam::types::Role;
type InlineList = aws_sdk_iam::operation::list_role_policies::ListRolePoliciesOutput;
type AttachedList =
    aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput;
type RolePolicy = aws_sdk_iam::operation::get_role_policy::GetRolePolicyOutput;

async fn get_role(aws: &Aws, name: &str) -> anyhow::Result<Option<IamRole>> {
    let role = unless_denied(
        aws.iam.get_role().role_name(name).send().await,
        &format!("read role {name}"),
    )?
    .or_absent(|| format!("read role {name}"))?;
    Ok(role.and_then(|r| r.role))
}

async fn list_inline(aws: &Aws, name: &str) -> anyhow::Result<InlineList> {
    aws.iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .or_fail(|| format!("list inline policies of role {name}"))
}

async fn list_attached(aws: &Aws, name: &str) -> anyhow::Result<AttachedList> {
    aws.iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .or_fail(|| format!("list attached policies of role {name}"))
}

async fn get_runtime_policy(aws: &Aws, name: &str) -> anyhow::Result<Option<RolePolicy>> {
    aws.iam
        .get_role_policy()
        .role_name(name)
        .policy_name(INLINE_POLICY)
        .send()
        .await
        .or_absent(|| format!("read inline policy {INLINE_POLICY} of role {name}"))
}

fn actual_of(
    role: &IamRole,
    inline: &InlineList,
    attached: &AttachedList,
    policy: Option<RolePolicy>,
) -> Actual {
    let tag = |key: &str| {
        let found = role.tags().iter().find(|t| t.key() == key);
        found.map(|t| t.value().to_owned())
    };
    Actual {
        stack_tag: tag(STACK_TAG),
        region_tag: tag(REGION_TAG),
        trust: role.assume_role_policy_document().and_then(parse_document),
        runtime_policy: policy.and_then(|p| parse_document(p.policy_document())),
        extra_inline: inline
            .policy_names()
            .iter()
            .filter(|n| *n != INLINE_POLICY)
            .cloned()
            .collect(),
        attached: attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect(),
        created_at: Some(role.create_date().secs()),
        role_id: Some(role.role_id().to_owned()),
    }
}

/// Roles are created with their tags in the same call, so an untagged role is never ours,
/// and one tagged for another region serves another region's function.
pub fn check_owner(desired: &Desired, actual: &Actual) -> Result<(), Foreign> {
    Ownership::require_ours(
        actual.stack_tag.as_deref(),
        Kind::Role,
        &desired.name,
        &desired.stack,
    )?;
    match actual.region_tag.as_deref() {
        Some(region) if region != desired.region => Err(Foreign::refused(
            Kind::Role,
            &desired.name,
            &desired.stack,
            format!("is tagged {REGION_TAG}={region}"),
            format!("it serves the stack in {region}: delete or rename it, or pass --role-arn"),
        )),
        _ => Ok(()),
    }
}

/// Whether a role of the old, region-less name was last written for this region's stack
/// (its inline policy is exactly this region's): then this region's teardown removes it.
pub fn is_this_regions_legacy(desired: &Desired, actual: &Actual) -> bool {
    actual.stack_tag.as_deref() == Some(desired.stack.as_str())
        && actual.runtime_policy.as_ref() == Some(&desired.runtime_policy)
}

aspects! {
    /// What can differ on the role, in the order apply changes it.
    Aspect {
        TrustPolicy => "trust policy",
        InlinePolicy => "inline policy",
        ExtraPolicies => "extra policies",
    }
}

pub fn diff(desired: &Desired, actual: Option<&Actual>) -> Change<Aspect> {
    let Some(actual) = actual else {
        return Change::Create;
    };
    Change::from_checks([
        (
            Aspect::TrustPolicy,
            actual.trust.as_ref() != Some(&desired.trust),
        ),
        (
            Aspect::InlinePolicy,
            actual.runtime_policy.as_ref() != Some(&desired.runtime_policy),
        ),
        (
            Aspect::ExtraPolicies,
            !actual.extra_inline.is_empty() || !actual.attached.is_empty(),
        ),
    ])
}

/// Applies the change; returns IAM's id of the role as it now is (the function remembers
/// which role its grant is for).
pub async fn apply(
    aws: &Aws,
    desired: &Desired,
    actual: Option<&Actual>,
    change: &Change<Aspect>,
) -> anyhow::Result<(Outcome, Option<String>)> {
    let name = desired.name.as_str();
    let mut role_id = actual.and_then(|a| a.role_id.clone());
    if change.is_create() {
        let created = aws
            .iam
            .create_role()
            .role_name(name)
            .description(format!(
                "Cat Upload function of catup stack {}",
                desired.stack
            ))
            .assume_role_policy_document(desired.trust.to_string())
            .tags(
                Tag::builder()
                    .key(STACK_TAG)
                    .value(&desired.stack)
                    .build()?,
            )
            .tags(
                Tag::builder()
                    .key(REGION_TAG)
                    .value(&desired.region)
                    .build()?,
            )
            .send()
            .await;
        let created = unless_denied(created, &format!("create role {name}"))?
            .or_code(&["EntityAlreadyExists"], || format!("create role {name}"))?;
        match created {
            Some(created) => role_id = created.role().map(|r| r.role_id().to_owned()),
            // Created by a first attempt whose answer was lost, or by someone else meanwhile.
            None => match describe(aws, name).await? {
                Some(actual) => {
                    check_owner(desired, &actual)?;
                    role_id = actual.role_id;
                }
                None => anyhow::bail!("create role {name}: IAM says it exists but cannot read it"),
            },
        }
    } else if change.differs(Aspect::TrustPolicy) {
        aws.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(desired.trust.to_string())
            .send()
            .await
            .or_fail(|| format!("update trust policy of role {name}"))?;
    }
    if change.differs(Aspect::InlinePolicy) {
        let put = aws
            .iam
            .put_role_policy()
            .role_name(name)
            .policy_name(INLINE_POLICY)
            .policy_document(desired.runtime_policy.to_string())
            .send()
            .await;
        unless_denied(put, &format!("set inline policy of role {name}"))?
            .or_fail(|| format!("set inline policy of role {name}"))?;
    }
    if let (true, Some(actual)) = (change.differs(Aspect::ExtraPolicies), actual) {
        remove_extra_policies(aws, name, &actual.extra_inline, &actual.attached).await?;
    }
    Ok((change.outcome(), role_id))
}

/// Deletes inline policies and detaches managed ones; gone already is fine.
async fn remove_extra_policies(
    aws: &Aws,
    name: &str,
    inline: &[String],
    attached: &[String],
) -> anyhow::Result<()> {
    for policy in inline {
        aws.iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .or_absent(|| format!("delete inline policy {policy} of role {name}"))?;
    }
    for arn in attached {
        aws.iam
            .detach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
            .or_absent(|| format!("detach {arn} from role {name}"))?;
    }
    Ok(())
}

/// Deletes the role after its inline policies and managed-policy attachments (IAM refuses
/// to delete a role that has any).
pub async fn delete(aws: &Aws, name: &str, progress: Progress<'_>) -> anyhow::Result<Outcome> {
    let inline = aws
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .or_absent(|| format!("list inline policies of role {name}"))?;
    let Some(inline) = inline else {
        return Ok(Outcome::Absent);
    };
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .or_fail(|| format!("list attached policies of role {name}"))?;
    let attached: Vec<String> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect();
    // IAM refuses to delete a role that still has policies.
    remove_extra_policies(aws, name, inline.policy_names(), &attached).await?;
    // IAM may answer DeleteConflict ("must delete policies first") for a while after the
    // policies' deletion: it has not caught up yet (Terraform retries it too).
    let gone = retry_while_settling(
        POLICIES_GONE,
        |e| error_code(e) == Some("DeleteConflict"),
        |delay, attempt| {
            progress(format!(
                "role {name}: IAM does not see its policies gone yet (DeleteConflict), retrying in {} (attempt {attempt})",
                seconds(delay)
            ))
        },
        || aws.iam.delete_role().role_name(name).send(),
    )
    .await
    .or_absent(|| format!("delete role {name}"))?;
    Ok(Outcome::of_deletion(gone.is_some()))
}

const POLICIES_GONE: Settling = Settling::up_to(Duration::from_secs(120), Duration::from_secs(10));

/// Like [`delete`], with the policies a read just found (no listing first). A policy added
/// since makes IAM answer DeleteConflict; then [`delete`] lists them again.
pub async fn delete_described(
    aws: &Aws,
    name: &str,
    actual: &Actual,
    progress: Progress<'_>,
) -> anyhow::Result<Outcome> {
    let mut inline = actual.extra_inline.clone();
    if actual.runtime_policy.is_some() {
        inline.push(INLINE_POLICY.to_owned());
    }
    remove_extra_policies(aws, name, &inline, &actual.attached).await?;
    match aws.iam.delete_role().role_name(name).send().await {
        Err(e) if error_code(&e) == Some("DeleteConflict") => delete(aws, name, progress).await,
        other => {
            let gone = other.or_absent(|| format!("delete role {name}"))?;
            Ok(Outcome::of_deletion(gone.is_some()))
        }
    }
}

/// Why an old role is in teardown's list at all.
pub const LEGACY_ROLE_NOTE: &str = "the region-less name of older catup versions";

/// The roles teardown reads: the stack's own, and the one of the old, region-less name.
#[derive(Debug, Clone, Default)]
pub struct FoundRoles {
    /// `None` also with `--role-arn` (the role is not the stack's to read or delete).
    pub own: Option<Actual>,
    pub legacy: Option<Actual>,
}

/// The function's role: the stack's own, or (`--role-arn`) one it only uses.
pub struct Role;

impl Resource for Role {
    const KIND: Kind = Kind::Role;
    const NEEDS: &'static [Need] = &[];
    /// `None` for a `--role-arn` role: not the stack's to change.
    type Desired = Option<Desired>;
    type Actual = Actual;
    type Aspect = Aspect;

    fn desired(stack: &Stack) -> anyhow::Result<Option<Desired>> {
        desired(stack)
    }

    async fn describe(read: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        describe_if_ours(read.aws, read.stack.role_name.as_deref()).await
    }

    fn check_owner(desired: &Option<Desired>, actual: &Actual) -> Result<(), Foreign> {
        desired.as_ref().map_or(Ok(()), |d| check_owner(d, actual))
    }

    fn diff(plan: &Planning<'_>) -> Change<Aspect> {
        match &plan.desired.role {
            Some(desired) => diff(desired, plan.observed.role.as_ref()),
            None => Change::External,
        }
    }

    fn name(stack: &Stack, _: &Observed) -> String {
        stack.role_name.clone().unwrap_or(stack.role_arn.clone())
    }

    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        if let Some(desired) = &a.desired.role {
            let (_, role_id) =
                apply(a.aws, desired, a.observed.role.as_ref(), &a.changes.role).await?;
            if let Some(id) = role_id {
                a.publish(Kind::Role, &id);
            }
        }
        Ok(())
    }

    type Found = FoundRoles;

    async fn find(read: &Reading<'_>) -> anyhow::Result<FoundRoles> {
        let stack = read.stack;
        let legacy = stack
            .legacy_role_name
            .as_deref()
            .filter(|_| stack.role_name.is_some());
        let (own, legacy) = tokio::try_join!(
            describe_if_ours(read.aws, stack.role_name.as_deref()),
            describe_if_ours(read.aws, legacy),
        )?;
        Ok(FoundRoles { own, legacy })
    }

    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>> {
        let desired = desired(stack)?;
        let roles = &found.role;
        let own = match (&stack.role_name, &desired, &roles.own) {
            (Some(name), Some(desired), Some(actual)) => {
                Step::new(Kind::Role, name, owned(check_owner(desired, actual)))
            }
            (Some(name), _, _) => Step::new(Kind::Role, name, TeardownAction::Absent),
            (None, _, _) => Step::new(Kind::Role, &stack.role_arn, TeardownAction::External),
        };
        let legacy = match (&stack.legacy_role_name, &desired, &roles.legacy) {
            (Some(name), Some(desired), Some(actual))
                if is_this_regions_legacy(desired, actual) =>
            {
                Some(Step {
                    note: Some(LEGACY_ROLE_NOTE),
                    ..Step::new(Kind::Role, name, TeardownAction::Delete)
                })
            }
            _ => None,
        };
        Ok([own].into_iter().chain(legacy).collect())
    }

    /// Deleted after the function (which needs it): a function left without its role fails
    /// every invocation, and a role deleted and re-created under the same name leaves a
    /// function's KMS grant stale.
    async fn delete(
        d: &Deleting<'_>,
        gone: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        if !gone.await {
            return Ok(());
        }
        let found = &d.found.role;
        let progress = |message: String| d.progress(message);
        for (step, actual) in d.plan.steps_of(Kind::Role).zip([&found.own, &found.legacy]) {
            match (&step.action, actual) {
                (TeardownAction::Delete, Some(actual)) => {
                    let outcome = delete_described(d.aws, &step.name, actual, &progress).await?;
                    if let Some(note) = step.note {
                        d.reporter
                            .note(format!("role {} ({note}): deleted", step.name));
                    }
                    d.reporter.resource(step.kind, &step.name, &outcome);
                }
                (TeardownAction::External, _) => {
                    d.reporter
                        .resource(step.kind, &step.name, &Outcome::External)
                }
                _ => d.absent(step),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_documents_parse_plain_or_url_encoded() {
        let doc = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded: String =
            percent_encoding::utf8_percent_encode(doc, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let expected: Value = serde_json::from_str(doc).unwrap();
        assert_eq!(parse_document(doc), Some(expected.clone()));
        assert_eq!(parse_document(&encoded), Some(expected));
        assert_eq!(parse_document("%7Bnot json"), None);
    }

    #[test]
    fn diff_and_ownership() {
        let d = Desired {
            name: "s-api-us-east-1-role".into(),
            stack: "s".into(),
            region: "us-east-1".into(),
            trust: serde_json::json!({"a": 1}),
            runtime_policy: serde_json::json!({"b": 2}),
        };
        let ok = Actual {
            stack_tag: Some("s".into()),
            region_tag: Some("us-east-1".into()),
            created_at: None,
            role_id: None,
            trust: Some(d.trust.clone()),
            runtime_policy: Some(d.runtime_policy.clone()),
            extra_inline: vec![],
            attached: vec![],
        };
        assert_eq!(diff(&d, None), Change::Create);
        assert_eq!(diff(&d, Some(&ok)), Change::InSync);
        let no_policy = Actual {
            runtime_policy: None,
            ..ok.clone()
        };
        assert_eq!(
            diff(&d, Some(&no_policy)),
            Change::Update(vec![Aspect::InlinePolicy])
        );
        let widened = Actual {
            attached: vec!["arn:aws:iam::aws:policy/AmazonS3FullAccess".into()],
            ..ok.clone()
        };
        assert_eq!(
            diff(&d, Some(&widened)),
            Change::Update(vec![Aspect::ExtraPolicies])
        );
        assert!(check_owner(&d, &ok).is_ok());
        let untagged = Actual {
            stack_tag: None,
            ..ok.clone()
        };
        assert!(check_owner(&d, &untagged).is_err());
        let other_region = Actual {
            region_tag: Some("eu-west-1".into()),
            created_at: None,
            role_id: None,
            ..ok.clone()
        };
        let err = check_owner(&d, &other_region).unwrap_err().to_string();
        assert!(err.contains("catup:region=eu-west-1"), "{err}");
        assert!(is_this_regions_legacy(&d, &ok));
        let written_elsewhere = Actual {
            runtime_policy: Some(serde_json::json!({"b": 3})),
            ..ok
        };
        assert!(!is_this_regions_legacy(&d, &written_elsewhere));
    }
}
