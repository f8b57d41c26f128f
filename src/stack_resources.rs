//! The stack's resources, declared once. Each line names a field, the resource (a type that
//! implements [`Resource`] in its own file) and nothing else: what it needs, how it is read,
//! compared and applied are the resource's. From this list come the desired and observed
//! state of the whole stack, its changes, the ownership check, the plan's rows and deploy's
//! order of work; a resource left out of any of them does not compile.

use crate::reconcile::{Change, Foreign, Kind};
use crate::resource::{apply_one, Applying, Milestones, Planning, Reading, Resource};
use crate::resources::site_files;
use crate::resources::{function, function_url, images_bucket, log_group, role, site_bucket};
use crate::stack::Stack;

/// Declares the structs that hold one value per resource, and the loops over them.
macro_rules! stack_resources {
    ($($field:ident: $resource:ty,)+) => {
        /// Every kind of resource in the list, in report order.
        pub const KINDS: &[Kind] = &[$(<$resource as Resource>::KIND,)+];

        /// The desired state of every resource, derived from the stack alone.
        pub struct Desired {
            $(pub $field: <$resource as Resource>::Desired,)+
        }

        /// The actual state of every resource (`None`: it does not exist).
        pub struct Observed {
            $(pub $field: Option<<$resource as Resource>::Actual>,)+
        }

        /// What closes the gap, for every resource.
        #[derive(Debug, Clone)]
        pub struct Changes {
            $(pub $field: Change<<$resource as Resource>::Aspect>,)+
        }

        /// One resource's row of a plan, before refusals are laid over it.
        pub struct Row {
            pub kind: Kind,
            pub name: String,
            pub change: crate::reconcile::Action,
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
                let ($($field,)+) = tokio::join!(
                    $(<$resource as Resource>::describe(read),)+
                );
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

            /// One row per resource, in list order.
            pub fn rows(&self, stack: &Stack, observed: &Observed) -> Vec<Row> {
                vec![$(
                    Row {
                        kind: <$resource as Resource>::KIND,
                        name: <$resource as Resource>::name(stack, observed),
                        change: self.$field.action(),
                    },
                )+]
            }

            /// Applies every change, each as soon as what it needs is done (independent
            /// resources side by side). The first error ends the deploy.
            pub async fn apply(applying: &Applying<'_>) -> anyhow::Result<()> {
                tokio::try_join!(
                    $(apply_one::<$resource>(applying, &applying.changes.$field),)+
                )?;
                Ok(())
            }
        }
    };
}

stack_resources! {
    images: images_bucket::ImagesBucket,
    site: site_bucket::SiteBucket,
    log_group: log_group::LogGroup,
    role: role::Role,
    function: function::Function,
    url: function_url::FunctionUrl,
    site_files: site_files::SiteFiles,
}

impl Observed {
    /// The site's objects, key -> ETag (none while the site bucket does not exist).
    pub fn site_etags(&self) -> std::collections::HashMap<String, String> {
        self.site_files.clone().unwrap_or_default()
    }
}

/// The milestones of one deploy, one per resource of the list.
pub(crate) fn milestones() -> Milestones {
    Milestones::new(KINDS)
}
