//! The thumbnail function (`--thumbnails`): thumbs-fn's bootstrap, run by S3's ObjectCreated
//! events under `images/` (see `thumbs_trigger`). The upload function's reads, comparison and
//! calls, with its own name, role, memory and timeout.

use std::collections::BTreeMap;

use crate::package::Package;
use crate::reconcile::{Change, Foreign, Kind, Outcome};
use crate::resource::{Applying, Deleting, Need, Planning, Reading, Resource};
use crate::resource_support::thumbnails::{self, Optional};
use crate::resources::function::{
    self, concurrency, Actual, Aspect, Desired, RoleOrigin, Settings,
};
use crate::stack::Stack;
use crate::stack_resources::{Found, Observed};
use crate::teardown_plan::{owned, Step};

/// A 24-megapixel JPEG takes 125 ms and 21 MB on the bench machine (README, "Thumbnails"):
/// memory is not what sizes it, CPU is, and Lambda gives CPU by memory; at 1,024 MB (0.58 of
/// a vCPU) a thumbnail costs about what it does at 512 MB, in half the time.
pub const MEMORY_MB: i32 = 1024;
/// A WebP original (the slowest format) takes under a second there; S3 events are
/// asynchronous, so nobody waits on this.
pub const TIMEOUT_SECONDS: i32 = 30;

pub fn desired(stack: &Stack) -> Desired {
    let size = stack.overrides.sizes.thumbs;
    Desired {
        name: stack.thumbs.function_name.clone(),
        arn: stack.thumbs_function_arn(),
        stack: stack.tag_value().to_owned(),
        settings: Settings {
            runtime: function::RUNTIME.into(),
            handler: function::HANDLER.into(),
            role: stack.thumbs.role_arn.clone(),
            memory_mb: size.memory_mb.unwrap_or(MEMORY_MB),
            timeout_seconds: size.timeout_seconds.unwrap_or(TIMEOUT_SECONDS),
            environment: BTreeMap::new(),
        },
        remembered: BTreeMap::new(),
        max_images: function::MaxImages::AsItIs,
        concurrency: concurrency::Reservation::AsItIs,
        thumbnails: None,
    }
}

async fn read(r: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
    function::describe(r.aws, &r.stack.thumbs.function_name).await
}

pub struct ThumbsFunction;

impl Resource for ThumbsFunction {
    const KIND: Kind = Kind::ThumbsFunction;
    const NEEDS: &'static [Need] = &[Need::Done(Kind::ThumbsRole)];
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
        thumbnails::owned_as(Kind::ThumbsFunction, function::check_owner(desired, actual))
    }

    fn diff(plan: &Planning<'_>) -> Change<Optional<Aspect>> {
        let wanted = thumbnails::wanted(plan.desired, plan.observed);
        let actual = plan.observed.thumbs_function.as_ref();
        thumbnails::diff(wanted, actual.is_some(), || {
            let desired = &plan.desired.thumbs_function;
            function::diff(desired, plan.thumbs_code_sha256, actual, false)
        })
    }

    fn name(stack: &Stack, _: &Observed) -> String {
        stack.thumbs.function_name.clone()
    }

    fn listed(desired: &crate::stack_resources::Desired, observed: &Observed) -> bool {
        thumbnails::is_listed(desired, observed, observed.thumbs_function.is_some())
    }

    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        let desired = &a.desired.thumbs_function;
        let Some(change) = thumbnails::own(&a.changes.thumbs_function) else {
            function::delete(a.aws, &desired.name).await?;
            return Ok(());
        };
        if change == Change::InSync {
            return Ok(());
        }
        // Its code is sent only when created or changed: a configuration needs no binary.
        let not_sent = Package::not_built();
        let package = match a.thumbs_package {
            Some(package) => package,
            None if !change.differs(Aspect::Code) => &not_sent,
            None => anyhow::bail!(
                "function {}: its code must be sent again; pass --thumbs-bootstrap FILE (thumbs-fn's thumbs-bootstrap)",
                desired.name
            ),
        };
        let role = match a.outcome(Kind::ThumbsRole) {
            Some(Outcome::Created) => RoleOrigin::CreatedNow,
            Some(Outcome::External) => RoleOrigin::Given,
            _ => RoleOrigin::CreatedEarlier,
        };
        let progress = |message: String| a.progress(message);
        function::apply(a.aws, desired, package, &change, role, &progress).await?;
        Ok(())
    }

    type Found = Option<Actual>;

    async fn find(r: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        read(r).await
    }

    /// None when there is none: an optional resource is not reported absent.
    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>> {
        Ok(match &found.thumbs_function {
            None => Vec::new(),
            Some(actual) => {
                let action = owned(function::check_owner(&desired(stack), actual));
                let name = &stack.thumbs.function_name;
                vec![Step::new(Kind::ThumbsFunction, name, action)]
            }
        })
    }

    /// After its trigger (which needs it at deploy), so that no upload invokes a function
    /// that is gone.
    async fn delete(
        d: &Deleting<'_>,
        gone: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        let Some(step) = d.plan.steps_of(Kind::ThumbsFunction).next() else {
            return Ok(());
        };
        if !step.deletes() || !gone.await {
            return Ok(());
        }
        let outcome = function::delete(d.aws, &step.name).await?;
        d.reporter.resource(step.kind, &step.name, &outcome);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// thumbs-fn takes half the function's memory as its budget for one decoded image: at the
    /// default memory a 24-megapixel photo fits even decoded at full size with alpha (it is
    /// decoded at 1/8 in fact: 21 MB peak in scripts/bench-thumbs).
    #[test]
    fn the_default_memory_holds_a_24_megapixel_photo_decoded_whole() {
        let memory = MEMORY_MB.to_string();
        let config = thumbs_fn::Config::from_lookup(|name| {
            (name == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE").then(|| memory.clone())
        })
        .unwrap();
        let whole_rgba = 6000 * 4000 * 4;
        assert!(config.max_decoded_bytes >= whole_rgba, "{config:?}");
    }
}
