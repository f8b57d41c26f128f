//! The thumbnail function's log group (`--thumbnails`): the upload function's log group's
//! reads, comparison and calls under the thumbnail function's name.

use crate::reconcile::{Change, Foreign, Kind};
use crate::resource::{Applying, Deleting, Need, Planning, Reading, Resource};
use crate::resource_support::thumbnails::{self, Optional};
use crate::resources::log_group::{self, Actual, Aspect, Desired};
use crate::stack::Stack;
use crate::stack_resources::{Found, Observed};
use crate::teardown_plan::{owned, Step};

fn desired(stack: &Stack) -> Desired {
    Desired {
        name: stack.thumbs.log_group.clone(),
        stack: stack.tag_value().to_owned(),
    }
}

async fn read(read: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
    let stack = read.stack;
    log_group::describe(
        read.aws,
        &stack.thumbs.log_group,
        &stack.thumbs_log_group_arn(),
    )
    .await
}

pub struct ThumbsLogGroup;

impl Resource for ThumbsLogGroup {
    const KIND: Kind = Kind::ThumbsLogGroup;
    const NEEDS: &'static [Need] = &[];
    type Desired = Desired;
    type Actual = Actual;
    type Aspect = Optional<Aspect>;

    fn desired(stack: &Stack) -> anyhow::Result<Desired> {
        Ok(desired(stack))
    }

    async fn describe(r: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        thumbnails::read_if_worth(r, read(r)).await
    }

    fn check_owner(desired: &Desired, actual: &Actual) -> Result<(), Foreign> {
        thumbnails::owned_as(
            Kind::ThumbsLogGroup,
            log_group::check_owner(desired, actual),
        )
    }

    fn diff(plan: &Planning<'_>) -> Change<Optional<Aspect>> {
        let actual = plan.observed.thumbs_log_group.as_ref();
        thumbnails::diff(
            thumbnails::wanted(plan.desired, plan.observed),
            actual.is_some(),
            || log_group::diff(&plan.desired.thumbs_log_group, actual),
        )
    }

    fn name(stack: &Stack, _: &Observed) -> String {
        stack.thumbs.log_group.clone()
    }

    fn listed(desired: &crate::stack_resources::Desired, observed: &Observed) -> bool {
        thumbnails::is_listed(desired, observed, observed.thumbs_log_group.is_some())
    }

    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        let desired = &a.desired.thumbs_log_group;
        match thumbnails::own(&a.changes.thumbs_log_group) {
            Some(change) => {
                let actual = a.observed.thumbs_log_group.as_ref();
                log_group::apply(a.aws, desired, actual, &change).await?;
            }
            None => {
                log_group::delete(a.aws, &desired.name).await?;
            }
        }
        Ok(())
    }

    type Found = Option<Actual>;

    async fn find(r: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        read(r).await
    }

    /// None when there is none: an optional resource is not reported absent.
    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>> {
        Ok(match &found.thumbs_log_group {
            None => Vec::new(),
            Some(actual) => {
                let action = owned(log_group::check_owner(&desired(stack), actual));
                vec![Step::new(
                    Kind::ThumbsLogGroup,
                    &stack.thumbs.log_group,
                    action,
                )]
            }
        })
    }

    /// After the function, so that no late invocation re-creates it untagged.
    const DELETED_AFTER: &'static [Kind] = &[Kind::ThumbsFunction];

    async fn delete(
        d: &Deleting<'_>,
        gone: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        let Some(group) = d.plan.steps_of(Kind::ThumbsLogGroup).next() else {
            return Ok(());
        };
        if !group.deletes() || !gone.await {
            return Ok(());
        }
        let outcome = log_group::delete(d.aws, &group.name).await?;
        d.reporter.resource(group.kind, &group.name, &outcome);
        Ok(())
    }
}
