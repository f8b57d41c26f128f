//! Real AWS is eventually consistent where moto is not: a scripted proxy answers the call where
//! it happens with AWS's own error (IAM propagation, S3 right after a create or a delete,
//! Lambda busy with a concurrent update), and catup must wait, say why, and converge.

use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};

use crate::common::{assert_all, World};

/// What Lambda answers while IAM has not propagated a new role to the KMS grant of the
/// function's environment variables.
fn kms_grant_not_yet(w: &World) -> Answer {
    Answer::error(
        400,
        "InvalidParameterValueException",
        format!(
            "Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant. Please check your KMS key settings. KMS Exception: InvalidArnException KMS Message: ARN does not refer to a valid principal: arn:aws:iam::{}:role/{}-role",
            catup_testkit::MOTO_ACCOUNT_ID,
            w.function()
        ),
    )
}

async fn scripted(w: &World, script: Vec<Scripted>) -> FaultProxy {
    FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await
}

impl World {
    fn deploy_args(&self) -> Vec<&str> {
        vec![
            "deploy",
            "--json",
            "--bootstrap",
            self.bootstrap.to_str().unwrap(),
        ]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_function_waits_out_the_kms_grant_form_of_iam_propagation() {
    let w = World::new();
    let create = On::lambda("POST", "/2015-03-31/functions");
    let proxy = scripted(&w, vec![Scripted::new(create, 3, kms_grant_not_yet(&w))]).await;
    let run = w
        .catup_settling_via(&proxy.endpoint(), &w.deploy_args())
        .ok();
    assert_all(&run.json(), "created");
    assert_eq!(proxy.answered(0), 3, "the proxy answered CreateFunction");
    let waits = run
        .stderr
        .matches("IAM role not assumable yet, retrying in")
        .count();
    assert_eq!(waits, 3, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_created_by_this_deploy_gets_five_minutes_to_propagate() {
    let w = World::new();
    let create = On::lambda("POST", "/2015-03-31/functions");
    let proxy = scripted(
        &w,
        vec![Scripted::new(create, usize::MAX, kms_grant_not_yet(&w))],
    )
    .await;
    let run = w.catup_settling_via(&proxy.endpoint(), &w.deploy_args());
    run.fails_with(1, "create function");
    // Scaled a hundredfold: 5 minutes are 3 s; the 2 minutes of an older role would be 1.2 s.
    // Timed at the proxy, from the first refusal to the last: the rest of the run (and a
    // loaded machine's slow start) is not part of the wait.
    let took = proxy.answered_over(0).as_secs_f64();
    assert!((2.0..6.0).contains(&took), "gave up after {took:.1} s");
    assert!(proxy.answered(0) >= 8, "{} attempts", proxy.answered(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_wait_for_a_deleted_name_and_for_s3_to_know_a_new_bucket() {
    let w = World::new();
    let (images, site) = (w.images_bucket(), w.site_bucket());
    let aborted = operation_aborted();
    let no_such_bucket = Answer::error(404, "NoSuchBucket", "The specified bucket does not exist");
    let proxy = scripted(
        &w,
        vec![
            Scripted::new(On::s3("PUT", &images, ""), 2, aborted),
            Scripted::new(On::s3("PUT", &images, "tagging"), 2, no_such_bucket.clone()),
            Scripted::new(
                On::s3("PUT", &site, "publicAccessBlock"),
                1,
                no_such_bucket.clone(),
            ),
            Scripted::new(On::s3("PUT", &site, "policy"), 1, no_such_bucket.clone()),
            Scripted::new(On::s3("PUT", &site, "website"), 1, no_such_bucket),
        ],
    )
    .await;
    let run = w
        .catup_settling_via(&proxy.endpoint(), &w.deploy_args())
        .ok();
    assert_all(&run.json(), "created");
    let answered: Vec<usize> = (0..5).map(|i| proxy.answered(i)).collect();
    assert_eq!(answered, [2, 2, 1, 1, 1], "{}", run.stderr);
    let says = |why: &str| run.stderr.matches(why).count();
    assert_eq!(
        says("S3 is still releasing this name after a recent delete (OperationAborted)"),
        2,
        "{}",
        run.stderr
    );
    assert_eq!(
        says("S3 does not know the new bucket everywhere yet (NoSuchBucket)"),
        5,
        "{}",
        run.stderr
    );
    w.catup(&["status"]).ok();
}

/// OperationAborted can answer any bucket configuration call, not only CreateBucket: each
/// is retried with a line saying why, on a fresh deploy and on a repair of drift.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_busy_with_another_change_is_waited_out_on_every_configuration_call() {
    let w = World::new();
    let (images, site) = (w.images_bucket(), w.site_bucket());
    let aborted = operation_aborted();
    let busy = |bucket: &str, sub: &'static str| {
        Scripted::new(On::s3("PUT", bucket, sub), 1, aborted.clone())
    };
    let fresh = scripted(
        &w,
        vec![
            busy(&images, "cors"),
            busy(&images, "publicAccessBlock"),
            busy(&site, "policy"),
            busy(&site, "website"),
            busy(&site, "tagging"),
        ],
    )
    .await;
    let run = w
        .catup_settling_via(&fresh.endpoint(), &w.deploy_args())
        .ok();
    assert_all(&run.json(), "created");
    let answered: Vec<usize> = (0..5).map(|i| fresh.answered(i)).collect();
    assert_eq!(answered, [1, 1, 1, 1, 1], "{}", run.stderr);
    let says = "S3 is still applying another change to this bucket (OperationAborted)";
    assert_eq!(run.stderr.matches(says).count(), 5, "{}", run.stderr);

    // A repair: the images bucket's CORS removed by hand, its PutBucketCors answered busy.
    w.remove_images_cors().await;
    let repair = scripted(&w, vec![busy(&images, "cors")]).await;
    let run = w
        .catup_settling_via(&repair.endpoint(), &w.deploy_args())
        .ok();
    assert_eq!(repair.answered(0), 1, "{}", run.stderr);
    assert!(!w.images_cors_origins().await.is_empty());
    w.catup(&["status"]).ok();
}

/// DeleteBucket answered OperationAborted (a configuration change still being applied):
/// teardown deletes the bucket again, without emptying it again, and finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_waits_out_a_bucket_busy_with_another_change() {
    let w = World::new();
    w.deploy();
    let site = w.site_bucket();
    let busy = Scripted::new(On::s3("DELETE", &site, ""), 1, operation_aborted());
    let proxy = scripted(&w, vec![busy]).await;
    let run = w
        .catup_settling_via(&proxy.endpoint(), &["teardown", "--yes"])
        .ok();
    assert_eq!(proxy.answered(0), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("S3 is still applying another change to it (OperationAborted)"),
        "{}",
        run.stderr
    );
    assert!(!crate::bucket_roles::bucket_exists(&w, &site).await);
    let status = w.catup(&["status"]);
    assert_eq!(status.code, 3, "not everything is gone:\n{}", status.stdout);
}

/// S3's answer while another change to the bucket (or its name's release) is in progress.
pub(crate) fn operation_aborted() -> Answer {
    Answer::error(
        409,
        "OperationAborted",
        "A conflicting conditional operation is currently in progress against this resource. Please try again.",
    )
}

/// Lambda's answer while another update of the function is in progress.
fn update_in_progress(w: &World) -> Answer {
    Answer::error(
        409,
        "ResourceConflictException",
        format!(
            "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:{}:function:{}",
            catup_testkit::MOTO_ACCOUNT_ID,
            w.function()
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_is_success_only_once_the_url_and_permissions_are_read_back() {
    let w = World::new();
    let function = w.function();
    let proxy = scripted(
        &w,
        vec![
            Scripted::new(
                On::lambda("POST", &format!("/2021-10-31/functions/{function}/url")),
                1,
                update_in_progress(&w),
            ),
            Scripted::new(
                On::lambda("POST", &format!("/2015-03-31/functions/{function}/policy")),
                2,
                update_in_progress(&w),
            ),
        ],
    )
    .await;
    let run = w
        .catup_settling_via(&proxy.endpoint(), &w.deploy_args())
        .ok();
    assert_all(&run.json(), "created");
    assert_eq!((proxy.answered(0), proxy.answered(1)), (1, 2));
    assert_eq!(
        run.stderr.matches("Lambda is busy with another update of the function (ResourceConflictException), retrying").count(),
        3,
        "{}",
        run.stderr
    );
    // Both statements really exist: status (straight to moto) finds nothing to do.
    assert_all(&w.catup(&["status", "--json"]).ok().json(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_whose_last_update_failed_is_reported_and_repaired() {
    let w = World::new();
    w.deploy();
    let failed = || {
        Answer::Patched(vec![
            ("/Configuration/LastUpdateStatus", "Failed".into()),
            (
                "/Configuration/LastUpdateStatusReason",
                "The role defined for the function cannot be assumed by Lambda.".into(),
            ),
            (
                "/Configuration/LastUpdateStatusReasonCode",
                "InvalidRole".into(),
            ),
        ])
    };
    let get_function = On::lambda("GET", &format!("/2015-03-31/functions/{}", w.function()));
    let proxy = scripted(&w, vec![Scripted::new(get_function.clone(), 1, failed())]).await;
    let status = w.catup_via(&proxy.endpoint(), &w.stack, &["status", "--json"]);
    assert_eq!(status.code, 4, "{}", status.stderr);
    let (state, detail) = crate::common::detail_of(&status.json(), "function");
    assert_eq!(state, "drifted");
    assert!(
        detail.contains("last update failed (The role defined"),
        "{detail}"
    );

    let proxy = scripted(&w, vec![Scripted::new(get_function, 1, failed())]).await;
    w.moto.start_recording().await;
    let deploy = w
        .catup_settling_via(&proxy.endpoint(), &w.deploy_args())
        .ok();
    assert_eq!(
        crate::common::detail_of(&deploy.json(), "function"),
        ("updated".to_owned(), "code, configuration".to_owned())
    );
    let calls = w.recorded_mutation_lines().await;
    assert!(calls.iter().any(|c| c.contains("/code")), "{calls:?}");
    assert!(
        calls.iter().any(|c| c.contains("/configuration")),
        "{calls:?}"
    );
    assert_all(&w.catup(&["status", "--json"]).ok().json(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_waits_out_late_uploads_and_deletes_the_log_group_after_the_function() {
    let w = World::new();
    let lab_role = w.lab_role().await;
    let arn = lab_role.as_str();
    w.deploy_as(&w.stack, &["--role-arn", arn]);
    let not_empty = Answer::error(
        409,
        "BucketNotEmpty",
        "The bucket you tried to delete is not empty",
    );
    // More refusals than the three immediate tries teardown used to make.
    let delete_images = On::s3("DELETE", &w.images_bucket(), "");
    let proxy = scripted(&w, vec![Scripted::new(delete_images, 4, not_empty)]).await;
    w.moto.start_recording().await;
    let run = w
        .catup_settling_via(&proxy.endpoint(), &["teardown", "--yes", "--role-arn", arn])
        .ok();
    assert_eq!(proxy.answered(0), 4);
    assert_eq!(
        run.stderr.matches("S3 still finds objects in it (BucketNotEmpty: a late upload), emptying it again in").count(),
        4,
        "{}",
        run.stderr
    );
    crate::snapshot::is_gone(&w, &w.stack).await.unwrap();
    let calls = w.recorded_mutation_lines().await;
    let at = |found: &dyn Fn(&String) -> bool| calls.iter().position(found).unwrap();
    let function = format!("/2015-03-31/functions/{}", w.function());
    let delete_function = at(&|c| c.starts_with("DELETE") && c.ends_with(&function));
    assert!(
        delete_function < at(&|c| c.contains("(DeleteLogGroup)")),
        "{calls:#?}"
    );
}

/// Lambda answers CreateFunction with State Pending and turns Active later: the Function URL
/// waits for it. Where the create's own answer says Active (moto), nothing is polled: each
/// poll is a round trip on the way to the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_created_pending_is_waited_for_and_an_active_one_is_not_polled() {
    let w = World::new();
    let configuration = On::lambda(
        "GET",
        &format!("/2015-03-31/functions/{}/configuration", w.function()),
    );
    let pending = || {
        Answer::Patched(vec![
            ("/State", "Pending".into()),
            ("/LastUpdateStatus", "InProgress".into()),
        ])
    };
    let proxy = scripted(
        &w,
        vec![
            Scripted::new(On::lambda("POST", "/2015-03-31/functions"), 1, pending()),
            Scripted::new(configuration, 2, pending()),
        ],
    )
    .await;
    let run = w
        .catup_settling_via(&proxy.endpoint(), &w.deploy_args())
        .ok();
    assert_all(&run.json(), "created");
    assert_eq!(
        (proxy.answered(0), proxy.answered(1)),
        (1, 2),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("waiting for Lambda to finish"),
        "{}",
        run.stderr
    );

    let other = World::new();
    other.moto.start_recording().await;
    other.deploy();
    let polls: Vec<String> = other
        .moto
        .recorded_calls()
        .await
        .iter()
        .filter(|c| c.method == "GET" && c.url.contains("/functions/"))
        .map(|c| c.url.clone())
        .collect();
    let function = format!("/2015-03-31/functions/{}", other.function());
    // The one read before any change; no GetFunction or state poll after the create.
    let count = |path: &str| polls.iter().filter(|u| u.ends_with(path)).count();
    assert_eq!(count(&function), 1, "{polls:#?}");
    assert_eq!(count(&format!("{function}/configuration")), 0, "{polls:#?}");
}
