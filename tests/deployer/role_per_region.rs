//! IAM is global: one stack name deployed in two regions must not share a role, rewrite the
//! other's policy, or delete the role the other region's function runs with. A stack deployed
//! before roles were per region keeps working.

use aws_sdk_iam::types::Tag;
use catup_testkit::policy::document;
use serde_json::Value;

use crate::common::World;

const OTHER_REGION: &str = "eu-west-1";

async fn function_role(w: &World, region: &str) -> String {
    let lambda = aws_sdk_lambda::Client::new(&w.moto.sdk_config_in(region).await);
    let config = lambda
        .get_function_configuration()
        .function_name(w.function())
        .send()
        .await
        .unwrap();
    config.role().unwrap().to_owned()
}

/// The role's inline runtime policy, parsed, if the role exists.
async fn runtime_policy(w: &World, role: &str) -> Option<Value> {
    let iam = w.iam().await;
    let policy = iam
        .get_role_policy()
        .role_name(role)
        .policy_name("catup-runtime")
        .send()
        .await
        .ok()?;
    Some(document(policy.policy_document()))
}

fn role_name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap()
}

#[tokio::test]
async fn two_regions_of_one_stack_never_share_or_delete_each_other_s_role() {
    let w = World::new();
    w.deploy();
    w.deploy_as(&w.stack, &["--region", OTHER_REGION]);

    let home = function_role(&w, &w.region).await;
    let away = function_role(&w, OTHER_REGION).await;
    assert_ne!(home, away, "both regions' functions run with one role");
    for (arn, region) in [(&home, w.region.as_str()), (&away, OTHER_REGION)] {
        assert!(arn.contains(region), "{arn}");
        let policy = runtime_policy(&w, role_name_of(arn)).await.unwrap();
        let images = format!("{}-images-123456789012-{region}", w.stack);
        assert!(policy.to_string().contains(&images), "{arn}: {policy}");
    }

    w.catup(&["--region", OTHER_REGION, "teardown", "--yes"])
        .ok();
    assert!(runtime_policy(&w, role_name_of(&away)).await.is_none());
    let home_policy = runtime_policy(&w, role_name_of(&home)).await;
    assert!(
        home_policy.is_some(),
        "the other region's teardown deleted this region's role"
    );
    let status = w.catup(&["status", "--json"]);
    assert_eq!(status.code, 0, "{}", status.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_deployed_with_the_region_less_role_moves_off_it_and_teardown_removes_it() {
    let w = World::new();
    w.deploy();
    // Make the stack what an older catup left: its function runs with `<stack>-api-role`.
    let legacy = format!("{}-role", w.function());
    let iam = w.iam().await;
    let current = w.role();
    let trust = iam.get_role().role_name(&current).send().await.unwrap();
    let trust = trust.role().unwrap().assume_role_policy_document().unwrap();
    let trust = document(trust).to_string();
    let tag = Tag::builder()
        .key("catup:stack")
        .value(&w.stack)
        .build()
        .unwrap();
    iam.create_role()
        .role_name(&legacy)
        .assume_role_policy_document(trust)
        .tags(tag)
        .send()
        .await
        .unwrap();
    let policy = runtime_policy(&w, &current).await.unwrap();
    iam.put_role_policy()
        .role_name(&legacy)
        .policy_name("catup-runtime")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    iam.delete_role_policy()
        .role_name(&current)
        .policy_name("catup-runtime")
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name(&current).send().await.unwrap();
    let legacy_arn = format!("arn:aws:iam::123456789012:role/{legacy}");
    w.lambda()
        .await
        .update_function_configuration()
        .function_name(w.function())
        .role(&legacy_arn)
        .send()
        .await
        .unwrap();

    let report = w.deploy();
    let current_arn = format!("arn:aws:iam::123456789012:role/{current}");
    assert_eq!(function_role(&w, &w.region).await, current_arn);
    assert_eq!(report["changed"], true);
    let aws = w.reporting_last_modified_now().await;
    w.catup_via(&aws.endpoint(), &w.stack, &["status"]).ok();

    w.catup(&["teardown", "--yes"]).ok();
    assert!(
        runtime_policy(&w, &legacy).await.is_none(),
        "the region-less role is left"
    );
    assert!(runtime_policy(&w, &current).await.is_none());
    let left = iam.get_role().role_name(&legacy).send().await;
    assert!(left.is_err(), "{left:?}");
}
