//! Table tests of teardown's plan: what each read leads to.

use super::*;
use crate::resource_support::bucket::found::FoundBucket as Bucket;
use crate::resource_support::bucket::Basics;
use crate::resources::role::{FoundRoles, LEGACY_ROLE_NOTE};
use crate::resources::{function, log_group, role};
use crate::stack::Stack;
use crate::stack::{ROLE_TAG, STACK_TAG};
use crate::stack_resources::Found;

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
        unlistable: None,
    }
}

fn words(plan: &TeardownPlan) -> Vec<(Kind, &'static str)> {
    plan.steps().map(|s| (s.kind, s.action.word())).collect()
}

#[test]
fn nothing_found_is_all_absent_and_deletes_nothing() {
    let stack = Stack::example("us-east-1");
    let plan = TeardownPlan::of(&stack, &Found::default()).unwrap();
    assert!(plan.steps().all(|s| s.action == TeardownAction::Absent));
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
    let unlistable = Bucket {
        unlistable: Some("list bucket b: AccessDenied".into()),
        ..tagged(&tag, "images")
    };
    let cases: [(Bucket, &str, &str); 7] = [
        (tagged(&tag, "images"), "delete", ""),
        (leftover, "delete", ""),
        (untagged, "refused", "no catup:stack tag"),
        (tagged("other", "images"), "refused", "catup:stack=other"),
        (tagged(&tag, "site"), "refused", "catup:role=site"),
        (locked, "refused", "Object Lock"),
        (unlistable, "refused", "cannot be listed"),
    ];
    for (bucket, word, why) in cases {
        let found = Found {
            images: Some(bucket.clone()),
            ..Found::default()
        };
        let plan = TeardownPlan::of(&stack, &found).unwrap();
        assert_eq!(
            plan.step(Kind::ImagesBucket).action.word(),
            word,
            "{bucket:?}"
        );
        assert_eq!(plan.deletes_anything(), word == "delete");
        if let TeardownAction::Refused { why: said, message } =
            &plan.step(Kind::ImagesBucket).action
        {
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
        TeardownPlan::of(&stack, &found)
            .unwrap()
            .step(Kind::SiteBucket)
            .action
            .clone()
    };
    assert_eq!(plan_with(Some((None, false))), TeardownAction::Delete);
    let refused = plan_with(Some((None, true)));
    assert!(
        matches!(&refused, TeardownAction::Refused { why, .. } if why.contains("images/")),
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
    let line = plan.step(Kind::FunctionUrl).line().to_string();
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
        last_modified: None,
    }
}

#[test]
fn a_deployed_stack_deletes_all_and_this_region_s_legacy_role_too() {
    let stack = Stack::example("us-east-1");
    let desired = role::desired(&stack).unwrap().unwrap();
    let role_actual = role::Actual {
        stack_tag: Some(desired.stack.clone()),
        region_tag: Some(desired.region.clone()),
        created_at: None,
        role_id: None,
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
            stored_bytes: 0,
            stack_tag: Some(tag.clone()),
        }),
        role: FoundRoles {
            own: Some(role_actual.clone()),
            legacy: Some(role_actual.clone()),
        },
        function: Some(function_actual(&stack)),
        url: true,
        site_files: (),
        budget: None,
        ..Found::default()
    };
    let plan = TeardownPlan::of(&stack, &found).unwrap();
    assert!(plan.steps().all(Step::deletes), "{plan:?}");
    assert_eq!(plan.steps().count(), 7);
    let legacy = plan.steps_of(Kind::Role).nth(1).unwrap();
    assert_eq!(Some(&legacy.name), stack.legacy_role_name.as_ref());
    assert_eq!(legacy.line().detail.as_deref(), Some(LEGACY_ROLE_NOTE));

    // Written for another region: that region's teardown removes it, not this one.
    found.role.legacy = Some(role::Actual {
        runtime_policy: Some(serde_json::json!({"other": "region"})),
        ..role_actual
    });
    let plan = TeardownPlan::of(&stack, &found).unwrap();
    assert_eq!(plan.steps_of(Kind::Role).nth(1), None);
    assert_eq!(plan.steps().count(), 6);
}
