//! What a real account answers at teardown and moto does not: IAM's DeleteConflict for a
//! while after the role's policies are deleted, and the order AWS needs (the role outlives
//! the function that runs with it).

use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};

use crate::common::{Run, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_conflict_after_the_policies_is_waited_out_and_the_role_goes_after_the_function() {
    let w = World::new();
    w.deploy();
    let conflict = Answer::error(
        409,
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
    );
    let script = vec![Scripted::new(On::iam("DeleteRole"), 3, conflict)];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;

    let run = w
        .catup_settling_via(&proxy.endpoint(), &["teardown", "--yes"])
        .ok();
    assert_eq!(proxy.answered(0), 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("(DeleteConflict), retrying"),
        "{}",
        run.stderr
    );
    let iam = w.iam().await;
    assert!(iam.get_role().role_name(w.role()).send().await.is_err());

    let spans = proxy.spans();
    let function_deleted = spans
        .iter()
        .find(|s| s.call.starts_with("lambda DELETE") && s.call.ends_with(&w.function()))
        .expect("DeleteFunction")
        .end;
    let first_role_call = spans
        .iter()
        .filter(|s| s.call.contains("iam DeleteRole"))
        .map(|s| s.start)
        .min()
        .expect("DeleteRole and DeleteRolePolicy");
    assert!(
        first_role_call >= function_deleted,
        "the role's deletion began before the function was gone"
    );
}

/// One branch of teardown failing (the site bucket's deletion refused) never abandons the
/// others mid-way: the function, the role, the log group and the images bucket are all gone
/// when teardown reports the error, and the next teardown finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_teardown_branch_lets_the_others_finish() {
    let w = World::new();
    w.deploy();
    crate::bucket_roles::put_object(&w, &w.images_bucket(), "images/cat.png").await;
    let site = w.site_bucket();
    let denied = Answer::error(403, "AccessDenied", "Access Denied");
    let script = vec![Scripted::new(On::s3("DELETE", &site, ""), 1, denied)];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;

    let run = w
        .catup_via(&proxy.endpoint(), &w.stack, &["teardown", "--yes"])
        .fails_with(1, &site);
    assert!(run.stderr.contains("AccessDenied"), "{}", run.stderr);
    assert!(!w.function_exists().await);
    let s3 = w.s3().await;
    let images_left = s3
        .head_bucket()
        .bucket(w.images_bucket())
        .send()
        .await
        .is_ok();
    assert!(!images_left, "the images bucket's deletion was abandoned");
    let iam = w.iam().await;
    assert!(iam.get_role().role_name(w.role()).send().await.is_err());

    w.catup(&["teardown", "--yes"]).ok();
    assert!(s3.head_bucket().bucket(&site).send().await.is_err());
}

/// Runs catup with every call `on` matches answered `answer`; it must fail saying `needle`.
async fn fails_when_answered(
    w: &World,
    on: On,
    answer: Answer,
    args: &[&str],
    needle: &str,
) -> Run {
    let script = vec![Scripted::new(on, usize::MAX, answer)];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;
    w.catup_via(&proxy.endpoint(), &w.stack, args)
        .fails_with(1, needle)
}

/// A lab session that ended: STS answers ExpiredToken, and catup says how to renew it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_credentials_say_how_to_renew_them() {
    let w = World::new();
    let expired = Answer::error(
        403,
        "ExpiredToken",
        "The security token included in the request is expired",
    );
    let on = On::sts("GetCallerIdentity");
    let run = fails_when_answered(&w, on, expired, &["status"], "credentials have expired").await;
    assert!(run.stderr.contains("AWS Academy"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

/// A lab account's service control policy denies the region: the error says to change it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_denied_by_a_service_control_policy_says_to_pass_region() {
    let w = World::new();
    let denied = Answer::error(
        403,
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/voclabs/user is not authorized to perform: s3:CreateBucket on resource: \"arn:aws:s3:::b\" with an explicit deny in a service control policy",
    );
    let on = On::s3("PUT", &w.images_bucket(), "");
    let bootstrap = w.bootstrap.to_str().unwrap();
    let args = ["deploy", "--bootstrap", bootstrap];
    let run = fails_when_answered(&w, on, denied, &args, "service control policy").await;
    assert!(run.stderr.contains("pass --region"), "{}", run.stderr);
}

/// A role deleted and re-created under the same name (a console clean-up, an interrupted
/// teardown) leaves Lambda's grant for the old one stale: every invocation fails with
/// KMSAccessDeniedException until the function's configuration is applied again. Status says
/// so, plan shows it, and deploy sends UpdateFunctionConfiguration; the deploy after is a no-op.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_re_created_under_its_name_renews_the_function_s_grant() {
    let w = World::new();
    w.deploy();
    // No pause: re-created within the same second as the function's last change, which
    // IAM's creation time (in seconds) cannot tell; the role's new id does.
    re_create_role(&w).await;

    let status = w.catup(&["status"]);
    assert_eq!(
        status.code, 4,
        "drifted:\n{}{}",
        status.stdout, status.stderr
    );
    assert!(
        status.stdout.contains("role re-created"),
        "{}",
        status.stdout
    );
    w.moto.start_recording().await;
    w.deploy();
    let mutations = w.recorded_mutation_lines().await;
    assert!(
        mutations.iter().any(|m| m.contains("/configuration")),
        "no UpdateFunctionConfiguration: {mutations:#?}"
    );
    // The function now remembers the new role's id: nothing more to renew, whatever the
    // times say.
    w.moto.start_recording().await;
    w.deploy();
    assert!(w.moto.recorded_mutations().await.is_empty());
    w.catup(&["status"]).ok();
}

/// Deletes the stack's role and creates it again under its name, with its trust, tags and
/// inline policy (a console clean-up): a new role, with a new IAM id.
async fn re_create_role(w: &World) {
    let iam = w.iam().await;
    let role = iam.get_role().role_name(w.role()).send().await.unwrap();
    let role = role.role.unwrap();
    let policy = iam
        .get_role_policy()
        .role_name(w.role())
        .policy_name("catup-runtime")
        .send()
        .await
        .unwrap();
    let decoded = |text: &str| {
        let text = percent_encoding::percent_decode_str(text).decode_utf8();
        text.unwrap().into_owned()
    };
    iam.delete_role_policy()
        .role_name(w.role())
        .policy_name("catup-runtime")
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name(w.role()).send().await.unwrap();
    iam.create_role()
        .role_name(w.role())
        .assume_role_policy_document(decoded(role.assume_role_policy_document().unwrap()))
        .set_tags(Some(role.tags().to_vec()))
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(w.role())
        .policy_name("catup-runtime")
        .policy_document(decoded(policy.policy_document()))
        .send()
        .await
        .unwrap();
}

/// A code update after the role was re-created (someone's `update-function-code`, or a deploy
/// cut short between the code and the configuration) moves the function's LastModified past
/// the role's creation; the grant is still stale, and still renewed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_update_after_the_role_was_re_created_does_not_hide_the_stale_grant() {
    let w = World::new();
    w.deploy();
    re_create_role(&w).await;
    // The function changes after the role's creation: LastModified is newer than the role.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let aws = w.reporting_last_modified_now().await;
    let status = w.catup_via(&aws.endpoint(), &w.stack, &["status"]);
    assert_eq!(status.code, 4, "{}{}", status.stdout, status.stderr);
    assert!(
        status.stdout.contains("role re-created"),
        "{}",
        status.stdout
    );
}

/// The role deleted and not yet re-created: plan shows the role's creation and the
/// function's renewed grant beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_role_is_planned_with_the_function_s_renewed_grant() {
    let w = World::new();
    w.deploy();
    let iam = w.iam().await;
    iam.delete_role_policy()
        .role_name(w.role())
        .policy_name("catup-runtime")
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name(w.role()).send().await.unwrap();
    let bootstrap = w.bootstrap.to_str().unwrap();
    let plan = w.catup(&["plan", "--json", "--bootstrap", bootstrap]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    let rows = plan.json()["resources"].clone();
    let row = |kind: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == kind)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("role")["action"], "create", "{rows}");
    let function = row("function");
    assert_eq!(function["action"], "update", "{rows}");
    assert!(
        function["aspects"].to_string().contains("role re-created"),
        "{rows}"
    );
    // Lambda refuses the renewed configuration while the new role propagates, as it does
    // for a role just created: deploy waits it out, after CreateRole and PutRolePolicy.
    let refused = Answer::error(
        400,
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
    );
    let configuration = format!("/2015-03-31/functions/{}/configuration", w.function());
    let script = vec![Scripted::new(On::lambda("PUT", &configuration), 1, refused)];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;
    w.moto.start_recording().await;
    let args = ["deploy", "--bootstrap", bootstrap];
    w.catup_settling_via(&proxy.endpoint(), &args).ok();
    assert_eq!(
        proxy.answered(0),
        1,
        "the configuration was not refused once"
    );
    let mutations = w.recorded_mutation_lines().await;
    let at = |needle: &str| {
        mutations
            .iter()
            .position(|m| m.contains(needle))
            .unwrap_or_else(|| panic!("no {needle}: {mutations:#?}"))
    };
    let renewed = at("/configuration");
    assert!(
        at("CreateRole") < renewed && at("PutRolePolicy") < renewed,
        "{mutations:#?}"
    );
    w.moto.start_recording().await;
    w.deploy();
    assert!(w.moto.recorded_mutations().await.is_empty());
    w.catup(&["status"]).ok();
}

/// DeleteObjects answers 200 with per-key errors (InternalError, SlowDown) that SDKs do not
/// retry: teardown sends those keys again, and only them, then finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_objects_per_key_errors_are_retried_for_those_keys_only() {
    let w = World::new();
    w.deploy();
    let images = w.images_bucket();
    for i in 0..3 {
        crate::bucket_roles::put_object(&w, &images, &format!("images/{i}.png")).await;
    }
    // As S3 says it inside a 200: this key was not deleted (moto did delete it; the retry
    // then deletes nothing, which S3 also answers with success).
    let failed = "<Error><Key>images/1.png</Key><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error></DeleteResult>";
    let answer = Answer::Replaced(vec![("</DeleteResult>".into(), failed.into())]);
    let script = vec![Scripted::new(On::s3("POST", &images, "delete"), 1, answer)];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;

    w.moto.start_recording().await;
    w.catup_settling_via(&proxy.endpoint(), &["teardown", "--yes"])
        .ok();
    assert_eq!(proxy.answered(0), 1);
    assert!(w
        .s3()
        .await
        .head_bucket()
        .bucket(&images)
        .send()
        .await
        .is_err());
    let url = format!("{}/moto-api/recorder/download-recording", w.moto.endpoint());
    let recording = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let bodies: Vec<String> = recording
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|call| {
            call["method"] == "POST"
                && call["url"]
                    .as_str()
                    .is_some_and(|u| u.contains(&images) && u.contains("delete"))
        })
        .map(|call| {
            let body = call["body"].as_str().unwrap_or_default();
            match call["body_encoded"].as_bool() {
                Some(true) => {
                    use base64::Engine as _;
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(body)
                        .unwrap();
                    String::from_utf8(bytes).unwrap()
                }
                _ => body.to_owned(),
            }
        })
        .collect();
    assert!(bodies.len() >= 2, "DeleteObjects calls: {bodies:#?}");
    let resent = &bodies[1];
    assert!(
        resent.contains("images/1.png")
            && !resent.contains("images/0.png")
            && !resent.contains("images/2.png"),
        "the second DeleteObjects sends the failed key alone: {resent}"
    );
}
