//! Teardown's mirror of the plan: for each resource, what teardown will do to it, built
//! purely from what was read. Teardown executes exactly this, and refuses everything when
//! any resource is refused (nothing is ever half-deleted); `--dry-run` prints it.

use crate::output::ResourceLine;
use crate::reconcile::{Foreign, Kind, LineState};
use crate::resource_support::bucket::ownership::{self, BucketRole};
use crate::resources::{function, log_group, role};
use crate::stack::Stack;

use super::read::{Bucket, Found};

/// What teardown will do to one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Delete,
    Absent,
    /// Not the stack's to delete (or not deletable now): `why` in a few words, `message` the
    /// error teardown stops with.
    Refused {
        why: String,
        message: String,
    },
    /// The caller's `--role-arn` role: never catup's to delete.
    External,
}

impl Action {
    pub fn line_state(&self) -> LineState {
        match self {
            Action::Delete => LineState::Delete,
            Action::Absent => LineState::Absent,
            Action::Refused { .. } => LineState::Refused,
            Action::External => LineState::External,
        }
    }

    pub fn word(&self) -> &'static str {
        self.line_state().word()
    }

    fn of_existence(found: bool) -> Action {
        if found {
            Action::Delete
        } else {
            Action::Absent
        }
    }
}

impl From<Foreign> for Action {
    fn from(foreign: Foreign) -> Action {
        Action::Refused {
            message: foreign.to_string(),
            why: foreign.why,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: Kind,
    pub name: String,
    pub action: Action,
    /// Why this resource is in the list at all, where that is not obvious.
    pub note: Option<&'static str>,
}

impl Step {
    fn new(kind: Kind, name: &str, action: Action) -> Step {
        Step {
            kind,
            name: name.to_owned(),
            action,
            note: None,
        }
    }

    pub fn deletes(&self) -> bool {
        self.action == Action::Delete
    }

    pub fn line(&self) -> ResourceLine {
        let detail = match &self.action {
            Action::Refused { why, .. } => Some(why.clone()),
            _ => self.note.map(str::to_owned),
        };
        ResourceLine {
            kind: self.kind,
            name: self.name.clone(),
            state: self.action.line_state(),
            detail,
        }
    }
}

pub const LEGACY_ROLE_NOTE: &str = "the region-less name of older catup versions";

/// One step per resource of the stack, in the order reports list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeardownPlan {
    pub images: Step,
    pub site: Step,
    pub log_group: Step,
    pub role: Step,
    /// Only when it exists, is this stack's, and was last written for this region (another
    /// region's function may still use one written for that region).
    pub legacy_role: Option<Step>,
    pub function: Step,
    pub url: Step,
}

impl TeardownPlan {
    pub fn of(stack: &Stack, found: &Found) -> anyhow::Result<TeardownPlan> {
        let tag = stack.tag_value();
        let bucket = |kind, name: &str, found: Option<&Bucket>, role| {
            let action = match found {
                None => Action::Absent,
                Some(bucket) => match bucket_owner(name, tag, role, bucket) {
                    Err(foreign) => foreign.into(),
                    Ok(()) => match (&bucket.unlistable, &bucket.locked) {
                        (Some(message), _) => Action::Refused {
                            why: "its objects cannot be listed".into(),
                            message: format!("{message}: teardown deleted nothing; fix the access to the bucket's listing, then run teardown again"),
                        },
                        (None, Some(message)) => Action::Refused {
                            why: "objects locked by S3 Object Lock".into(),
                            message: message.clone(),
                        },
                        (None, None) => Action::Delete,
                    },
                },
            };
            Step::new(kind, name, action)
        };
        let log_group = match &found.log_group {
            None => Action::Absent,
            Some(actual) => owned(log_group::check_owner(&log_group::desired(stack), actual)),
        };
        let role_desired = role::desired(stack)?;
        let role = match (&stack.role_name, &role_desired, &found.role) {
            (Some(name), Some(desired), Some(actual)) => {
                Step::new(Kind::Role, name, owned(role::check_owner(desired, actual)))
            }
            (Some(name), _, _) => Step::new(Kind::Role, name, Action::Absent),
            (None, _, _) => Step::new(Kind::Role, &stack.role_arn, Action::External),
        };
        let legacy_role = match (&stack.legacy_role_name, &role_desired, &found.legacy_role) {
            (Some(name), Some(desired), Some(actual))
                if role::is_this_regions_legacy(desired, actual) =>
            {
                Some(Step {
                    note: Some(LEGACY_ROLE_NOTE),
                    ..Step::new(Kind::Role, name, Action::Delete)
                })
            }
            _ => None,
        };
        let function = match &found.function {
            None => Action::Absent,
            Some(actual) => owned(function::check_owner(&function::desired(stack), actual)),
        };
        // The URL is the function's: it goes with it, or stays with it.
        let url = match (&function, found.url) {
            (Action::Refused { message, .. }, true) => Action::Refused {
                why: "its function is not this stack's".into(),
                message: message.clone(),
            },
            (_, url) => Action::of_existence(url),
        };
        Ok(TeardownPlan {
            images: bucket(
                Kind::ImagesBucket,
                &stack.images_bucket,
                found.images.as_ref(),
                BucketRole::Images,
            ),
            site: bucket(
                Kind::SiteBucket,
                &stack.site_bucket,
                found.site.as_ref(),
                BucketRole::Site,
            ),
            log_group: Step::new(Kind::LogGroup, &stack.log_group, log_group),
            role,
            legacy_role,
            function: Step::new(Kind::Function, &stack.function_name, function),
            url: Step::new(Kind::FunctionUrl, &stack.function_name, url),
        })
    }

    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        [&self.images, &self.site, &self.log_group, &self.role]
            .into_iter()
            .chain(&self.legacy_role)
            .chain([&self.function, &self.url])
    }

    /// The error teardown stops with, before deleting anything: the first refusal's.
    pub fn refusal(&self) -> Option<&str> {
        self.steps().find_map(|step| match &step.action {
            Action::Refused { message, .. } => Some(message.as_str()),
            _ => None,
        })
    }

    /// Nothing refused, and something to delete.
    pub fn deletes_anything(&self) -> bool {
        self.refusal().is_none() && self.steps().any(Step::deletes)
    }

    pub fn lines(&self) -> Vec<ResourceLine> {
        self.steps().map(Step::line).collect()
    }
}

fn owned(check: Result<(), Foreign>) -> Action {
    match check {
        Ok(()) => Action::Delete,
        Err(foreign) => foreign.into(),
    }
}

/// The ownership half of each bucket's `check_owner`, on what teardown reads: ours (or a
/// killed deploy's leftover), tagged for this role, and for the site bucket of an older
/// catup, nothing that holds images or blocks all public access.
fn bucket_owner(name: &str, stack: &str, role: BucketRole, bucket: &Bucket) -> Result<(), Foreign> {
    let basics = &bucket.basics;
    basics.check_deployable(role.kind(), name, stack)?;
    ownership::check_role(basics, role, name, stack)?;
    match (role, bucket.exposure) {
        (BucketRole::Site, Some((public_access, holds_images))) => {
            ownership::check_may_become_public(basics, public_access, holds_images, name, stack)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
