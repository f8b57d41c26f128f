//! The stack's resources, declared once. Each line names a field, the resource (a type that
//! implements [`Resource`] in its own file) and nothing else: what it needs, how it is read,
//! compared and applied are the resource's. From this list come the desired and observed
//! state of the whole stack, its changes, the ownership check, the plan's rows and deploy's
//! order of work; a resource left out of any of them does not compile.

use crate::reconcile::{Change, Foreign, Kind};
use crate::resource::{
    apply_one, delete_one, Applying, Deleting, Milestones, Need, Planning, Reading, Resource,
};
use crate::resource_support::bucket::found::FoundBucket;
use crate::resource_support::bucket_role::BucketRole;
use crate::resources::site_files;
use crate::resources::{
    budget, function, function_url, images_bucket, log_group, role, site_bucket, thumbs_function,
    thumbs_log_group, thumbs_role, thumbs_trigger,
};
use crate::stack::Stack;
use crate::teardown_plan::{Step, TeardownPlan};

/// Declares the structs that hold one value per resource, and the loops over them.
macro_rules! stack_resources {
    ($($field:ident: $kind:ident => $resource:ty,)+) => {
        /// Every kind of resource in the list, in report order.
        pub const KINDS: &[Kind] = &[$(<$resource as Resource>::KIND,)+];

        /// Every kind names its resource here: a kind left out of the list does not compile.
        pub fn resource_name(kind: Kind) -> &'static str {
            match kind {
                $(Kind::$kind => std::any::type_name::<$resource>(),)+
            }
        }

        #[cfg(test)]
        fn declared_kinds() -> Vec<(Kind, Kind)> {
            vec![$((Kind::$kind, <$resource as Resource>::KIND),)+]
        }

        /// The desired state of every resource, derived from the stack alone.
        pub struct Desired {
            $(pub $field: <$resource as Resource>::Desired,)+
        }

        /// The actual state of every resource (`None`: it does not exist).
        #[derive(Default)]
        pub struct Observed {
            $(pub $field: Option<<$resource as Resource>::Actual>,)+
        }

        /// What teardown found of every resource.
        #[derive(Debug, Clone, Default)]
        pub struct Found {
            $(pub $field: <$resource as Resource>::Found,)+
        }

        impl Found {
            /// Every read at once; the first resource's error in list order wins.
            pub async fn read(read: &Reading<'_>) -> anyhow::Result<Found> {
                let ($($field,)+) = Box::pin(async { tokio::join!(
                    $(<$resource as Resource>::find(read),)+
                ) }).await;
                Ok(Found { $($field: $field?,)+ })
            }

            /// Teardown's steps, in list order.
            pub fn steps(&self, stack: &Stack) -> anyhow::Result<Vec<Step>> {
                let mut steps = Vec::new();
                $(steps.extend(<$resource as Resource>::teardown_steps(stack, self)?);)+
                Ok(steps)
            }

            /// Deletes every resource, each once what must go first is gone. A failing
            /// deletion never abandons the others mid-call: all run to their end.
            pub async fn delete(deleting: &Deleting<'_>) -> Vec<anyhow::Result<()>> {
                let ($($field,)+) = Box::pin(async { tokio::join!(
                    $(delete_one::<$resource>(deleting, deleted_first(<$resource as Resource>::KIND)),)+
                ) }).await;
                vec![$($field,)+]
            }
        }

        /// Each resource's order facts: its kind, its needs at deploy, what it is deleted
        /// after and with.
        const ORDER: &[(Kind, &[Need], &[Kind], Option<Kind>)] = &[$((
            <$resource as Resource>::KIND,
            <$resource as Resource>::NEEDS,
            <$resource as Resource>::DELETED_AFTER,
            <$resource as Resource>::DELETED_WITH,
        ),)+];

        /// What closes the gap, for every resource.
        #[derive(Debug, Clone)]
        pub struct Changes {
            $(pub $field: Change<<$resource as Resource>::Aspect>,)+
        }

        /// One resource's row of a plan, before refusals are laid over it.
        pub struct Row {
            pub kind: Kind,
            pub name: String,
            pub change: crate::reconcile::DeployAction,
        }

        impl Desired {
            pub fn of(stack: &Stack) -> anyhow::Result<Desired> {
                Ok(Desired {
                    $($field: <$resource as Resource>::desired(stack)?,)+
                })
            }
        }

        impl Observed {
            /// Every read at once. When several fail, the error of the first resource in
            /// the list is the one returned (a bucket's own error before its objects').
            pub async fn read(read: &Reading<'_>) -> anyhow::Result<Observed> {
                // Boxed, as every join over the list: a dozen resources' futures on the stack
                // overflow the main thread's in a debug build (catup dev).
                let ($($field,)+) = Box::pin(async { tokio::join!(
                    $(<$resource as Resource>::describe(read),)+
                ) }).await;
                let observed = Observed { $($field: $field?,)+ };
                $(
                    tracing::info!(
                        target: "catup::steps",
                        "read {} {}: {}",
                        <$resource as Resource>::KIND,
                        <$resource as Resource>::name(read.stack, &observed),
                        if observed.$field.is_some() { "exists" } else { "absent" },
                    );
                )+
                Ok(observed)
            }

            /// Resources with one of the stack's names that another owns (deploy changes
            /// nothing of them), in list order.
            pub fn foreign(&self, desired: &Desired) -> Vec<Foreign> {
                let mut found = Vec::new();
                $(
                    if let Some(actual) = &self.$field {
                        let owner = <$resource as Resource>::check_owner(&desired.$field, actual);
                        found.extend(owner.err());
                    }
                )+
                found
            }
        }

        impl Changes {
            pub fn of(plan: &Planning<'_>) -> Changes {
                Changes {
                    $($field: <$resource as Resource>::diff(plan),)+
                }
            }

            /// One row per listed resource, in list order.
            pub fn rows(&self, stack: &Stack, desired: &Desired, observed: &Observed) -> Vec<Row> {
                let mut rows = Vec::new();
                $(
                    if <$resource as Resource>::listed(desired, observed) {
                        rows.push(Row {
                            kind: <$resource as Resource>::KIND,
                            name: <$resource as Resource>::name(stack, observed),
                            change: self.$field.action(),
                        });
                    }
                )+
                rows
            }

            /// Applies every change, each as soon as what it needs is done (independent
            /// resources side by side). The first error ends the deploy.
            pub async fn apply(applying: &Applying<'_>) -> anyhow::Result<()> {
                Box::pin(async { tokio::try_join!(
                    $(apply_one::<$resource>(applying, &applying.changes.$field),)+
                ) }).await?;
                Ok(())
            }
        }
    };
}

stack_resources! {
    images: ImagesBucket => images_bucket::ImagesBucket,
    site: SiteBucket => site_bucket::SiteBucket,
    log_group: LogGroup => log_group::LogGroup,
    role: Role => role::Role,
    function: Function => function::Function,
    url: FunctionUrl => function_url::FunctionUrl,
    site_files: SiteFiles => site_files::SiteFiles,
    budget: Budget => budget::Budget,
    thumbs_log_group: ThumbsLogGroup => thumbs_log_group::ThumbsLogGroup,
    thumbs_role: ThumbsRole => thumbs_role::ThumbsRole,
    thumbs_function: ThumbsFunction => thumbs_function::ThumbsFunction,
    thumbs_trigger: ThumbsTrigger => thumbs_trigger::ThumbsTrigger,
}

impl Observed {
    /// The site's objects, key -> ETag (none while the site bucket does not exist).
    pub fn site_etags(&self) -> std::collections::HashMap<String, String> {
        self.site_files.clone().unwrap_or_default()
    }
}

/// What teardown deletes before `kind`: what needs it at deploy (unless that goes with
/// another resource), what it is declared deleted after, and what it goes with.
pub fn deleted_first(kind: Kind) -> Vec<Kind> {
    let needs_it = |needs: &[Need]| {
        needs
            .iter()
            .any(|n| matches!(n, Need::Done(k) | Need::Ready(k) if *k == kind))
    };
    let mut first: Vec<Kind> = ORDER
        .iter()
        .filter(|(other, needs, _, with)| *other != kind && with.is_none() && needs_it(needs))
        .map(|(other, ..)| *other)
        .collect();
    if let Some((_, _, after, with)) = ORDER.iter().find(|(k, ..)| *k == kind) {
        first.extend(after.iter().copied());
        first.extend(*with);
    }
    first
}

/// The milestones of one deploy or teardown, one per resource of the list.
pub(crate) fn milestones() -> Milestones {
    Milestones::new(KINDS)
}

impl TeardownPlan {
    pub fn of(stack: &Stack, found: &Found) -> anyhow::Result<TeardownPlan> {
        Ok(TeardownPlan::new(found.steps(stack)?))
    }
}

impl Found {
    /// Teardown's read of the stack's bucket of `role`.
    pub fn bucket(&self, role: BucketRole) -> Option<&FoundBucket> {
        match role {
            BucketRole::Site => self.site.as_ref(),
            BucketRole::Images => self.images.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::SiteInput;

    #[test]
    fn each_line_of_the_list_is_the_resource_of_its_kind() {
        for (declared, implemented) in declared_kinds() {
            assert_eq!(declared, implemented, "{}", resource_name(declared));
        }
        let mut sorted = KINDS.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, KINDS, "each kind once, in report order");
    }

    /// What the list derives for every resource, with no edit elsewhere: a plan row (which
    /// status reports as a state and deploy applies), and teardown's steps.
    #[test]
    fn every_listed_resource_is_planned_and_torn_down() {
        let mut stack = Stack::example("eu-west-1");
        // The optional budget is listed once it is wanted.
        stack.overrides.budget = budget::Wanted::Monthly {
            usd: 10,
            email: "teacher@example.com".into(),
        };
        // And so are the thumbnail resources.
        stack.overrides.thumbnails = Some(true);
        let desired = Desired::of(&stack).unwrap();
        let observed = Observed::default();
        let site = SiteInput {
            files: &[],
            complete: true,
            api_url: None,
        };
        let rows = |stack: &Stack, desired: &Desired| {
            let plan = crate::deploy_plan::DeployPlan::new(
                stack,
                desired,
                &observed,
                Default::default(),
                &site,
            );
            plan.rows()
        };
        let planned: Vec<Kind> = rows(&stack, &desired).iter().map(|r| r.kind).collect();
        assert_eq!(planned, KINDS);
        let teardown = TeardownPlan::of(&stack, &Found::default()).unwrap();
        for kind in KINDS {
            // The site's files go with the site bucket: no step of their own. A budget that
            // is not there is no step either (an optional resource is not reported absent).
            let steps = teardown.steps_of(*kind).count();
            let optional = [
                Kind::SiteFiles,
                Kind::Budget,
                Kind::ThumbsLogGroup,
                Kind::ThumbsRole,
                Kind::ThumbsFunction,
                Kind::ThumbsTrigger,
            ];
            let own_step = !optional.contains(kind);
            assert_eq!(steps, usize::from(own_step), "{kind}");
        }
        let with_budget = Found {
            budget: Some(budget::Actual {
                limit_usd: Some(10.0),
                alerts_percent: budget::ALERTS_PERCENT.to_vec(),
                emails: None,
            }),
            ..Found::default()
        };
        let teardown = TeardownPlan::of(&stack, &with_budget).unwrap();
        assert_eq!(teardown.steps_of(Kind::Budget).count(), 1);
        // Not wanted and absent: no row.
        stack.overrides.budget = budget::Wanted::AsItIs;
        stack.overrides.thumbnails = None;
        let desired = Desired::of(&stack).unwrap();
        let rows = rows(&stack, &desired);
        assert!(rows.iter().all(|r| r.kind != Kind::Budget));
        assert!(rows.iter().all(|r| r.kind < Kind::ThumbsLogGroup));
    }

    #[test]
    fn teardown_deletes_in_the_reverse_order_of_deploy_s_needs() {
        // The function needs the role; its URL goes with it; the images bucket and the log
        // group are declared deleted after it; the site bucket waits for its files.
        assert_eq!(deleted_first(Kind::Role), [Kind::Function]);
        assert_eq!(deleted_first(Kind::Function), Vec::<Kind>::new());
        // config.js names the URL: the site's files count as gone before it (at once: they
        // go with their bucket).
        assert_eq!(
            deleted_first(Kind::FunctionUrl),
            [Kind::SiteFiles, Kind::Function]
        );
        // The thumbnail trigger (a notification on the images bucket) goes before its bucket
        // and before its function; the function before its role and log group.
        assert_eq!(
            deleted_first(Kind::ImagesBucket),
            [Kind::ThumbsTrigger, Kind::Function]
        );
        assert_eq!(deleted_first(Kind::ThumbsFunction), [Kind::ThumbsTrigger]);
        assert_eq!(deleted_first(Kind::ThumbsRole), [Kind::ThumbsFunction]);
        assert_eq!(deleted_first(Kind::ThumbsLogGroup), [Kind::ThumbsFunction]);
        assert_eq!(deleted_first(Kind::LogGroup), [Kind::Function]);
        assert_eq!(deleted_first(Kind::SiteBucket), [Kind::SiteFiles]);
        assert_eq!(deleted_first(Kind::SiteFiles), Vec::<Kind>::new());
    }
}
