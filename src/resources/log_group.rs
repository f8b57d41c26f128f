//! The function's log group, created ahead of the function so that it has a retention (Lambda
//! would create one that keeps logs forever) and carries the stack tag.

use std::collections::HashMap;

use aws_sdk_cloudwatchlogs::types::LogGroup as FoundGroup;

use crate::aws::{Aws, SdkResultExt};
use crate::reconcile::{aspects, Change, Foreign, Kind, Outcome, Ownership};
use crate::resource::{Applying, Deleting, Need, Planning, Reading, Resource};
use crate::stack::{Stack, STACK_TAG};
use crate::stack_resources::Found;
use crate::stack_resources::Observed;
use crate::teardown_plan::{owned, Step, TeardownAction};

pub const RETENTION_DAYS: i32 = 14;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub stack: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actual {
    /// Without the trailing ":*": the form the tagging API takes.
    pub arn: String,
    pub retention_days: Option<i32>,
    pub stack_tag: Option<String>,
    /// What the group stores (status's cost estimate counts it).
    pub stored_bytes: u64,
}

pub fn desired(stack: &Stack) -> Desired {
    Desired {
        name: stack.log_group.clone(),
        stack: stack.tag_value().to_owned(),
    }
}

/// The group and its tag in one round trip: the tags are read by the ARN the group would
/// have (`Stack::log_group_arn`) beside the listing that says whether it exists (a missing group's
/// tags answer ResourceNotFoundException on AWS, an empty set on moto: the listing decides).
pub async fn describe(aws: &Aws, name: &str, arn: &str) -> anyhow::Result<Option<Actual>> {
    let (group, stack_tag) = tokio::join!(find(aws, name), read_stack_tag(aws, name, arn));
    let Some(group) = group? else {
        return Ok(None);
    };
    Ok(Some(Actual {
        arn: arn.to_owned(),
        retention_days: group.retention_in_days(),
        stack_tag: stack_tag?,
        stored_bytes: stored_bytes(&group),
    }))
}

/// The bytes a group stores, as the listing says.
pub fn stored_bytes(group: &FoundGroup) -> u64 {
    group
        .stored_bytes()
        .map_or(0, |b| u64::try_from(b).unwrap_or(0))
}

/// The group of exactly this name, if it exists.
pub async fn find(aws: &Aws, name: &str) -> anyhow::Result<Option<FoundGroup>> {
    let page = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .or_fail(|| format!("read log group {name}"))?;
    Ok(page
        .log_groups
        .unwrap_or_default()
        .into_iter()
        .find(|g| g.log_group_name() == Some(name)))
}

async fn read_stack_tag(aws: &Aws, name: &str, arn: &str) -> anyhow::Result<Option<String>> {
    let tags = aws
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .or_absent(|| format!("read tags of log group {name}"))?;
    Ok(tags
        .and_then(|t| t.tags)
        .and_then(|mut t: HashMap<String, String>| t.remove(STACK_TAG)))
}

/// catup creates the log group with its tag in one call, so an untagged one is never its own
/// (someone's, perhaps with years of retention): deploy neither adopts nor retags it.
pub fn check_owner(desired: &Desired, actual: &Actual) -> Result<(), Foreign> {
    Ownership::require_ours(
        actual.stack_tag.as_deref(),
        Kind::LogGroup,
        &desired.name,
        &desired.stack,
    )
}

aspects! {
    /// What can differ on the log group.
    Aspect {
        Tags => "tags",
        Retention => "retention",
    }
}

pub fn diff(desired: &Desired, actual: Option<&Actual>) -> Change<Aspect> {
    let Some(actual) = actual else {
        return Change::Create;
    };
    Change::from_checks([
        (
            Aspect::Tags,
            actual.stack_tag.as_deref() != Some(desired.stack.as_str()),
        ),
        (
            Aspect::Retention,
            actual.retention_days != Some(RETENTION_DAYS),
        ),
    ])
}

pub async fn apply(
    aws: &Aws,
    desired: &Desired,
    actual: Option<&Actual>,
    change: &Change<Aspect>,
) -> anyhow::Result<Outcome> {
    let name = desired.name.as_str();
    if change.is_create() {
        aws.logs
            .create_log_group()
            .log_group_name(name)
            .tags(STACK_TAG, &desired.stack)
            .send()
            .await
            .or_code(&["ResourceAlreadyExistsException"], || {
                format!("create log group {name}")
            })?;
    } else if let (true, Some(actual)) = (change.differs(Aspect::Tags), actual) {
        aws.logs
            .tag_resource()
            .resource_arn(&actual.arn)
            .tags(STACK_TAG, &desired.stack)
            .send()
            .await
            .or_fail(|| format!("tag log group {name}"))?;
    }
    if change.differs(Aspect::Retention) {
        aws.logs
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(RETENTION_DAYS)
            .send()
            .await
            .or_fail(|| format!("set retention of log group {name}"))?;
    }
    Ok(change.outcome())
}

pub async fn delete(aws: &Aws, name: &str) -> anyhow::Result<Outcome> {
    let gone = aws
        .logs
        .delete_log_group()
        .log_group_name(name)
        .send()
        .await
        .or_absent(|| format!("delete log group {name}"))?;
    Ok(Outcome::of_deletion(gone.is_some()))
}

/// The function's log group, with its retention.
pub struct LogGroup;

impl Resource for LogGroup {
    const KIND: Kind = Kind::LogGroup;
    const NEEDS: &'static [Need] = &[];
    type Desired = Desired;
    type Actual = Actual;
    type Aspect = Aspect;

    fn desired(stack: &Stack) -> anyhow::Result<Desired> {
        Ok(desired(stack))
    }

    async fn describe(read: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        let stack = read.stack;
        describe(read.aws, &stack.log_group, &stack.log_group_arn()).await
    }

    fn check_owner(desired: &Desired, actual: &Actual) -> Result<(), Foreign> {
        check_owner(desired, actual)
    }

    fn diff(plan: &Planning<'_>) -> Change<Aspect> {
        diff(&plan.desired.log_group, plan.observed.log_group.as_ref())
    }

    fn name(stack: &Stack, _: &Observed) -> String {
        stack.log_group.clone()
    }

    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        let (desired, actual) = (&a.desired.log_group, a.observed.log_group.as_ref());
        apply(a.aws, desired, actual, &a.changes.log_group).await?;
        Ok(())
    }

    type Found = Option<Actual>;

    async fn find(read: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        <LogGroup as Resource>::describe(read).await
    }

    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>> {
        let action = match &found.log_group {
            None => TeardownAction::Absent,
            Some(actual) => owned(check_owner(&desired(stack), actual)),
        };
        Ok(vec![Step::new(Kind::LogGroup, &stack.log_group, action)])
    }

    /// After the function, so that no late invocation re-creates it (untagged, by a role that
    /// may create log groups: never catup's to delete again).
    const DELETED_AFTER: &'static [Kind] = &[Kind::Function];

    /// Deleted with the function even when it was absent at the read.
    async fn delete(
        d: &Deleting<'_>,
        gone: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        let group = d.plan.step(Kind::LogGroup);
        if !(group.deletes() || d.plan.step(Kind::Function).deletes()) {
            d.absent(group);
            return Ok(());
        }
        if !gone.await {
            return Ok(());
        }
        let outcome = delete(d.aws, &group.name).await?;
        d.reporter.resource(group.kind, &group.name, &outcome);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Desired {
        Desired {
            name: "/aws/lambda/s-api".into(),
            stack: "s".into(),
        }
    }

    #[test]
    fn diff_and_ownership() {
        let ok = Actual {
            arn: "arn".into(),
            retention_days: Some(14),
            stored_bytes: 0,
            stack_tag: Some("s".into()),
        };
        assert_eq!(diff(&d(), None), Change::Create);
        assert_eq!(diff(&d(), Some(&ok)), Change::InSync);
        let lambda_made = Actual {
            arn: "arn".into(),
            retention_days: None,
            stored_bytes: 0,
            stack_tag: None,
        };
        assert_eq!(
            diff(&d(), Some(&lambda_made)),
            Change::Update(vec![Aspect::Tags, Aspect::Retention])
        );
        assert!(check_owner(&d(), &lambda_made).is_err());
        let other = Actual {
            arn: "arn".into(),
            retention_days: Some(14),
            stored_bytes: 0,
            stack_tag: Some("t".into()),
        };
        assert!(check_owner(&d(), &other).is_err());
        assert!(check_owner(&d(), &ok).is_ok());
    }
}
