//! The thumbnail function's own role (`--thumbnails`): Lambda may assume it, and its one
//! inline policy (policies/thumbs-runtime.json) reads `images/*`, writes `thumbs/*` and its own
//! log group, nothing else. It cannot write where its trigger listens, so a thumbnail can
//! never trigger another. With `--role-arn` both functions use that role and this is none.

use crate::policies::Template;
use crate::reconcile::{Change, Foreign, Kind};
use crate::resource::{Applying, Deleting, Need, Planning, Reading, Resource};
use crate::resource_support::thumbnails::{self, Optional};
use crate::resources::role::{self, Actual, Aspect, Desired};
use crate::stack::Stack;
use crate::stack_resources::{Found, Observed};
use crate::teardown_plan::{owned, Step, TeardownAction};

/// `None` with `--role-arn`.
pub fn desired(stack: &Stack) -> anyhow::Result<Option<Desired>> {
    let Some(name) = &stack.thumbs.role_name else {
        return Ok(None);
    };
    let mut values = stack.policy_values();
    values.log_group = stack.thumbs.log_group.clone();
    Ok(Some(Desired {
        name: name.clone(),
        stack: stack.tag_value().to_owned(),
        region: stack.region.to_string(),
        trust: Template::LambdaTrust.render(&values)?,
        runtime_policy: Template::ThumbsRuntime.render(&values)?,
    }))
}

pub struct ThumbsRole;

impl Resource for ThumbsRole {
    const KIND: Kind = Kind::ThumbsRole;
    const NEEDS: &'static [Need] = &[];
    type Desired = Option<Desired>;
    type Actual = Actual;
    type Aspect = Optional<Aspect>;

    fn desired(stack: &Stack) -> anyhow::Result<Option<Desired>> {
        desired(stack)
    }

    async fn describe(r: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        let read = role::describe_if_ours(r.aws, r.stack.thumbs.role_name.as_deref());
        thumbnails::read_if_worth(r, read).await
    }

    fn check_owner(desired: &Option<Desired>, actual: &Actual) -> Result<(), Foreign> {
        let Some(desired) = desired else {
            return Ok(());
        };
        thumbnails::owned_as(Kind::ThumbsRole, role::check_owner(desired, actual))
    }

    fn diff(plan: &Planning<'_>) -> Change<Optional<Aspect>> {
        let wanted = thumbnails::wanted(plan.desired, plan.observed);
        match &plan.desired.thumbs_role {
            Some(desired) => {
                let actual = plan.observed.thumbs_role.as_ref();
                thumbnails::diff(wanted, actual.is_some(), || role::diff(desired, actual))
            }
            None => Change::External,
        }
    }

    fn name(stack: &Stack, _: &Observed) -> String {
        let thumbs = &stack.thumbs;
        thumbs.role_name.clone().unwrap_or(thumbs.role_arn.clone())
    }

    fn listed(desired: &crate::stack_resources::Desired, observed: &Observed) -> bool {
        thumbnails::is_listed(desired, observed, observed.thumbs_role.is_some())
    }

    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        let Some(desired) = &a.desired.thumbs_role else {
            return Ok(());
        };
        let actual = a.observed.thumbs_role.as_ref();
        match (thumbnails::own(&a.changes.thumbs_role), actual) {
            (Some(change), _) => {
                role::apply(a.aws, desired, actual, &change).await?;
            }
            (None, Some(actual)) => {
                let progress = |message: String| a.progress(message);
                role::delete_described(a.aws, &desired.name, actual, &progress).await?;
            }
            (None, None) => {}
        }
        Ok(())
    }

    type Found = Option<Actual>;

    async fn find(r: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        role::describe_if_ours(r.aws, r.stack.thumbs.role_name.as_deref()).await
    }

    /// None when there is none of the stack's own (an optional resource is not reported
    /// absent, and a `--role-arn` role is not the stack's).
    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>> {
        Ok(match (desired(stack)?, &found.thumbs_role) {
            (Some(desired), Some(actual)) => vec![Step::new(
                Kind::ThumbsRole,
                &desired.name,
                owned(role::check_owner(&desired, actual)),
            )],
            _ => Vec::new(),
        })
    }

    /// Deleted after its function (which needs it at deploy).
    async fn delete(
        d: &Deleting<'_>,
        gone: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        let Some(step) = d.plan.steps_of(Kind::ThumbsRole).next() else {
            return Ok(());
        };
        let Some(actual) = &d.found.thumbs_role else {
            return Ok(());
        };
        if step.action != TeardownAction::Delete || !gone.await {
            return Ok(());
        }
        let progress = |message: String| d.progress(message);
        let outcome = role::delete_described(d.aws, &step.name, actual, &progress).await?;
        d.reporter.resource(step.kind, &step.name, &outcome);
        Ok(())
    }
}
