//! Teardown's mirror of the plan: for each resource, what teardown will do to it, built
//! purely from what was read. Teardown executes exactly this, and refuses everything when
//! any resource is refused (nothing is ever half-deleted); `--dry-run` prints it.

use crate::output::ResourceLine;
use crate::plan::{Foreign, Kind};
use crate::resources::ownership::{self, BucketRole};
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
    pub fn word(&self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Absent => "absent",
            Action::Refused { .. } => "refused",
            Action::External => "external",
        }
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
            state: self.action.word(),
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
                    Ok(()) => match &bucket.locked {
                        Some(message) => Action::Refused {
                            why: "objects locked by S3 Object Lock".into(),
                            message: message.clone(),
                        },
                        None => Action::Delete,
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
mod tests {
    use super::*;
    use crate::resources::bucket::Basics;
    use crate::stack::{ROLE_TAG, STACK_TAG};

    fn tagged(stack: &str, role: &str) -> Bucket {
        Bucket {
            basics: Basics {
                tags: vec![
                    (STACK_TAG.into(), stack.into()),
                    (ROLE_TAG.into(), role.into()),
                ],
                leftover: false,
            },
            exposure: None,
            locked: None,
        }
    }

    fn words(plan: &TeardownPlan) -> Vec<(Kind, &'static str)> {
        plan.steps().map(|s| (s.kind, s.action.word())).collect()
    }

    #[test]
    fn nothing_found_is_all_absent_and_deletes_nothing() {
        let stack = Stack::example("us-east-1");
        let plan = TeardownPlan::of(&stack, &Found::default()).unwrap();
        assert!(plan.steps().all(|s| s.action == Action::Absent));
        assert!(!plan.deletes_anything());
        assert_eq!(plan.refusal(), None);
    }

    #[test]
    fn buckets_are_deleted_only_when_ours_for_their_role_and_unlocked() {
        let stack = Stack::example("us-east-1");
        let tag = stack.tag_value().to_owned();
        let leftover = Bucket {
            basics: Basics {
                tags: vec![],
                leftover: true,
            },
            ..tagged("", "")
        };
        let untagged = Bucket {
            basics: Basics {
                tags: vec![],
                leftover: false,
            },
            ..leftover.clone()
        };
        let locked = Bucket {
            locked: Some("bucket b: 1 object version(s) are locked".into()),
            ..tagged(&tag, "images")
        };
        let cases: [(Bucket, &str, &str); 6] = [
            (tagged(&tag, "images"), "delete", ""),
            (leftover, "delete", ""),
            (untagged, "refused", "no catup:stack tag"),
            (tagged("other", "images"), "refused", "catup:stack=other"),
            (tagged(&tag, "site"), "refused", "catup:role=site"),
            (locked, "refused", "Object Lock"),
        ];
        for (bucket, word, why) in cases {
            let found = Found {
                images: Some(bucket.clone()),
                ..Found::default()
            };
            let plan = TeardownPlan::of(&stack, &found).unwrap();
            assert_eq!(plan.images.action.word(), word, "{bucket:?}");
            assert_eq!(plan.deletes_anything(), word == "delete");
            if let Action::Refused { why: said, message } = &plan.images.action {
                assert!(said.contains(why), "{said}");
                assert_eq!(plan.refusal(), Some(message.as_str()));
            }
        }
    }

    #[test]
    fn an_older_site_bucket_holding_images_is_refused_as_deploy_refuses_it() {
        let stack = Stack::example("us-east-1");
        let mut older = tagged(stack.tag_value(), "");
        older.basics.tags.truncate(1);
        let plan_with = |exposure| {
            let site = Bucket {
                exposure,
                ..older.clone()
            };
            let found = Found {
                site: Some(site),
                ..Found::default()
            };
            TeardownPlan::of(&stack, &found).unwrap().site.action
        };
        assert_eq!(plan_with(Some((None, false))), Action::Delete);
        let refused = plan_with(Some((None, true)));
        assert!(
            matches!(&refused, Action::Refused { why, .. } if why.contains("images/")),
            "{refused:?}"
        );
    }

    #[test]
    fn a_role_arn_role_is_external_and_a_foreign_function_takes_its_url_with_it() {
        let overrides = crate::stack::Overrides {
            role_arn: Some("arn:aws:iam::123456789012:role/LabRole".into()),
            ..Default::default()
        };
        let name = crate::stack::StackName::parse("cats").unwrap();
        let region = crate::region::Region::parse("us-east-1").unwrap();
        let stack = Stack::new(name, region, "123456789012", &overrides).unwrap();
        let found = Found {
            function: Some(function::Actual {
                stack_tag: None,
                ..function_actual(&stack)
            }),
            url: true,
            ..Found::default()
        };
        let plan = TeardownPlan::of(&stack, &found).unwrap();
        assert_eq!(
            words(&plan),
            [
                (Kind::ImagesBucket, "absent"),
                (Kind::SiteBucket, "absent"),
                (Kind::LogGroup, "absent"),
                (Kind::Role, "external"),
                (Kind::Function, "refused"),
                (Kind::FunctionUrl, "refused"),
            ]
        );
        assert!(plan.refusal().unwrap().contains("function cats-api"));
        let line = plan.url.line().to_string();
        assert!(
            line.contains("refused") && line.contains("its function"),
            "{line}"
        );
    }

    fn function_actual(stack: &Stack) -> function::Actual {
        let desired = function::desired(stack);
        function::Actual {
            settings: desired.settings,
            architectures: vec![],
            code_sha256: String::new(),
            stack_tag: Some(stack.tag_value().to_owned()),
            reserved_concurrency: None,
            remembered: Default::default(),
            failed: None,
        }
    }

    #[test]
    fn a_deployed_stack_deletes_all_and_this_region_s_legacy_role_too() {
        let stack = Stack::example("us-east-1");
        let desired = role::desired(&stack).unwrap().unwrap();
        let role_actual = role::Actual {
            stack_tag: Some(desired.stack.clone()),
            region_tag: Some(desired.region.clone()),
            trust: None,
            runtime_policy: Some(desired.runtime_policy.clone()),
            extra_inline: vec![],
            attached: vec![],
        };
        let tag = stack.tag_value().to_owned();
        let mut found = Found {
            images: Some(tagged(&tag, "images")),
            site: Some(tagged(&tag, "site")),
            log_group: Some(log_group::Actual {
                arn: "arn".into(),
                retention_days: Some(14),
                stack_tag: Some(tag.clone()),
            }),
            role: Some(role_actual.clone()),
            legacy_role: Some(role_actual.clone()),
            function: Some(function_actual(&stack)),
            url: true,
        };
        let plan = TeardownPlan::of(&stack, &found).unwrap();
        assert!(plan.steps().all(Step::deletes), "{plan:?}");
        assert_eq!(plan.steps().count(), 7);
        let legacy = plan.legacy_role.as_ref().unwrap();
        assert_eq!(Some(&legacy.name), stack.legacy_role_name.as_ref());
        assert_eq!(legacy.line().detail.as_deref(), Some(LEGACY_ROLE_NOTE));

        // Written for another region: that region's teardown removes it, not this one.
        found.legacy_role = Some(role::Actual {
            runtime_policy: Some(serde_json::json!({"other": "region"})),
            ..role_actual
        });
        let plan = TeardownPlan::of(&stack, &found).unwrap();
        assert_eq!(plan.legacy_role, None);
        assert_eq!(plan.steps().count(), 6);
    }
}
