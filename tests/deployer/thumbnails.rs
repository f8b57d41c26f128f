//! `--thumbnails`: the thumbnail function, its own role and log group, and its trigger (the
//! images bucket's notification, S3's invoke permission, the retry settings), read back
//! from moto; kept by a deploy without flags, repaired when someone removes the notification,
//! removed by `--no-thumbnails` and by teardown. A notification of someone else's on the same
//! bucket is kept through all of it, and (as a queue moto delivers to) shows that a write
//! under thumbs/ triggers nothing.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};
use serde_json::{json, Value};

use crate::common::{detail_of, states, World};

fn thumbs_function(w: &World) -> String {
    format!("{}-thumbs", w.stack)
}

fn thumbs_role(w: &World) -> String {
    format!("{}-thumbs-{}-role", w.stack, w.region)
}

fn thumbs_arn(w: &World) -> String {
    format!(
        "arn:aws:lambda:{}:{}:function:{}",
        w.region,
        catup_testkit::MOTO_ACCOUNT_ID,
        thumbs_function(w)
    )
}

/// The bucket's notifications as moto holds them.
async fn notifications(w: &World) -> NotificationConfiguration {
    let out = w
        .s3()
        .await
        .get_bucket_notification_configuration()
        .bucket(w.images_bucket())
        .send()
        .await
        .unwrap();
    NotificationConfiguration::builder()
        .set_lambda_function_configurations(out.lambda_function_configurations)
        .set_queue_configurations(out.queue_configurations)
        .build()
}

/// catup's notification entry as (function ARN, events, filter rules), `None` when absent.
async fn catup_entry(w: &World) -> Option<(String, Vec<String>, Vec<(String, String)>)> {
    let config = notifications(w).await;
    let ours = config
        .lambda_function_configurations()
        .iter()
        .find(|c| c.id() == Some("catup-thumbnails"))?;
    let rules = ours.filter().unwrap().key().unwrap().filter_rules();
    Some((
        ours.lambda_function_arn().to_owned(),
        ours.events()
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect(),
        rules
            .iter()
            .map(|r| {
                let name = r.name().unwrap().as_str().to_ascii_lowercase();
                (name, r.value().unwrap().to_owned())
            })
            .collect(),
    ))
}

/// What a stack that makes thumbnails holds, read back through the SDK.
async fn assert_wired(w: &World) {
    let (arn, events, rules) = catup_entry(w).await.expect("catup's notification");
    assert_eq!(arn, thumbs_arn(w));
    assert_eq!(events, ["s3:ObjectCreated:*"]);
    assert_eq!(rules, [("prefix".to_owned(), "images/".to_owned())]);

    let lambda = w.lambda().await;
    let policy = lambda
        .get_policy()
        .function_name(thumbs_function(w))
        .send()
        .await
        .unwrap();
    let policy: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{policy:#}");
    let s = &statements[0];
    assert_eq!(s["Sid"], "catup-s3-invoke");
    assert_eq!(s["Effect"], "Allow");
    assert_eq!(s["Action"], "lambda:InvokeFunction");
    assert_eq!(s["Principal"], json!({"Service": "s3.amazonaws.com"}));
    assert_eq!(
        s["Condition"],
        json!({
            "ArnLike": {"AWS:SourceArn": format!("arn:aws:s3:::{}", w.images_bucket())},
            "StringEquals": {"AWS:SourceAccount": catup_testkit::MOTO_ACCOUNT_ID},
        })
    );

    let retries = lambda
        .get_function_event_invoke_config()
        .function_name(thumbs_function(w))
        .send()
        .await
        .unwrap();
    assert_eq!(retries.maximum_retry_attempts(), Some(1));
    assert_eq!(retries.maximum_event_age_in_seconds(), Some(3600));

    let function = lambda
        .get_function_configuration()
        .function_name(thumbs_function(w))
        .send()
        .await
        .unwrap();
    assert_eq!(function.runtime().unwrap().as_str(), "provided.al2023");
    assert_eq!(function.handler(), Some("bootstrap"));
    assert_eq!(function.memory_size(), Some(1024));
    assert_eq!(function.timeout(), Some(30));
    let role_arn = format!(
        "arn:aws:iam::{}:role/{}",
        catup_testkit::MOTO_ACCOUNT_ID,
        thumbs_role(w)
    );
    assert_eq!(function.role(), Some(role_arn.as_str()));

    // The role reads images/*, writes thumbs/* and its own logs: exactly this.
    let images = w.images_bucket();
    let expected = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadUploadedImages", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": format!("arn:aws:s3:::{images}/images/*")},
            {"Sid": "WriteThumbnailsOnly", "Effect": "Allow", "Action": "s3:PutObject",
             "Resource": format!("arn:aws:s3:::{images}/thumbs/*")},
            {"Sid": "WriteOwnLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": format!(
                 "arn:aws:logs:{}:{}:log-group:/aws/lambda/{}:log-stream:*",
                 w.region, catup_testkit::MOTO_ACCOUNT_ID, thumbs_function(w))},
        ]
    });
    let iam = w.iam().await;
    let names = iam
        .list_role_policies()
        .role_name(thumbs_role(w))
        .send()
        .await
        .unwrap();
    assert_eq!(names.policy_names(), ["catup-runtime"]);
    let attached = iam
        .list_attached_role_policies()
        .role_name(thumbs_role(w))
        .send()
        .await
        .unwrap();
    assert!(attached.attached_policies().is_empty());
    let doc = iam
        .get_role_policy()
        .role_name(thumbs_role(w))
        .policy_name("catup-runtime")
        .send()
        .await
        .unwrap();
    assert_eq!(
        catup_testkit::policy::document(doc.policy_document()),
        expected
    );

    let groups = w
        .logs()
        .await
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{}", thumbs_function(w)))
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(14));
    assert_eq!(upload_env_thumbnails(w).await.as_deref(), Some("1"));
}

/// The upload function's THUMBNAILS (what remembers the choice; the gallery reads it).
async fn upload_env_thumbnails(w: &World) -> Option<String> {
    let config = w
        .lambda()
        .await
        .get_function_configuration()
        .function_name(w.function())
        .send()
        .await
        .unwrap();
    config
        .environment()
        .and_then(|e| e.variables())
        .and_then(|v| v.get("THUMBNAILS").cloned())
}

async fn thumbs_function_exists(w: &World) -> bool {
    let lambda = w.lambda().await;
    lambda
        .get_function()
        .function_name(thumbs_function(w))
        .send()
        .await
        .is_ok()
}

async fn thumbs_role_exists(w: &World) -> bool {
    let iam = w.iam().await;
    iam.get_role()
        .role_name(thumbs_role(w))
        .send()
        .await
        .is_ok()
}

/// Someone's queue on the same bucket, with catup's own events and filter: moto delivers to
/// queues (it runs no Lambda code), so what reaches it is what catup's filter lets through.
async fn add_watching_queue(w: &World) -> String {
    let sqs = aws_sdk_sqs::Client::new(&w.sdk().await);
    let queue = sqs
        .create_queue()
        .queue_name(format!("{}-watch", w.stack))
        .send()
        .await
        .unwrap();
    let url = queue.queue_url().unwrap().to_owned();
    let arn = format!(
        "arn:aws:sqs:{}:{}:{}-watch",
        w.region,
        catup_testkit::MOTO_ACCOUNT_ID,
        w.stack
    );
    let now = notifications(w).await;
    let catups = now.lambda_function_configurations()[0].clone();
    let watch = QueueConfiguration::builder()
        .id("someone-s-watch")
        .queue_arn(arn)
        .events(Event::from("s3:ObjectCreated:*"))
        .set_filter(catups.filter().cloned())
        .build()
        .unwrap();
    let config = NotificationConfiguration::builder()
        .lambda_function_configurations(catups)
        .queue_configurations(watch)
        .build();
    let s3 = w.s3().await;
    let put = s3
        .put_bucket_notification_configuration()
        .bucket(w.images_bucket());
    put.notification_configuration(config).send().await.unwrap();
    url
}

/// The keys whose creation reached the queue.
async fn keys_delivered(w: &World, queue_url: &str) -> Vec<String> {
    let sqs = aws_sdk_sqs::Client::new(&w.sdk().await);
    let got = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let mut keys: Vec<String> = got
        .messages()
        .iter()
        .flat_map(|m| {
            let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            let records = body["Records"].as_array().cloned().unwrap_or_default();
            // Event keys are URL-encoded (moto encodes the slash too).
            records.into_iter().map(|r| {
                let key = r["s3"]["object"]["key"].as_str().unwrap().to_owned();
                let decoded = percent_encoding::percent_decode_str(&key).decode_utf8();
                decoded.unwrap().into_owned()
            })
        })
        .collect();
    keys.sort();
    keys
}

fn kinds(report: &Value) -> Vec<String> {
    states(report).into_iter().map(|(kind, _)| kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnails_are_wired_read_back_kept_repaired_and_removed() {
    let w = World::new();
    let bootstrap = w.bootstrap.to_str().unwrap();
    let deploy = |extra: &[&str]| {
        let args = [&["deploy", "--json", "--bootstrap", bootstrap][..], extra].concat();
        w.catup(&args).ok().json()
    };
    w.deploy();
    let report = deploy(&["--thumbnails", "--thumbs-bootstrap", bootstrap]);
    let thumbs_rows = [
        ("thumbs_log_group", "created"),
        ("thumbs_role", "created"),
        ("thumbs_function", "created"),
        ("thumbs_trigger", "created"),
    ];
    let got = states(&report);
    for (kind, state) in thumbs_rows {
        assert!(
            got.contains(&(kind.to_owned(), state.to_owned())),
            "{report:#}"
        );
    }
    assert_eq!(got.len(), 11, "{report:#}");
    assert_wired(&w).await;

    // No flags: remembered, nothing to do, and no binary needed.
    w.moto.start_recording().await;
    let report = deploy(&[]);
    assert_eq!(kinds(&report).len(), 11, "{report:#}");
    assert!(
        states(&report).iter().all(|(_, s)| s == "unchanged"),
        "{report:#}"
    );
    assert_eq!(w.recorded_mutation_lines().await, Vec::<String>::new());

    // The thumbnail function deleted by hand: it is to be created again, and without its
    // binary nothing is changed.
    let lambda = w.lambda().await;
    let gone = lambda.delete_function().function_name(thumbs_function(&w));
    gone.send().await.unwrap();
    w.moto.start_recording().await;
    w.catup(&["deploy", "--bootstrap", bootstrap]).fails_with(
        1,
        "the thumbnail function needs its code: pass --thumbs-bootstrap",
    );
    assert_eq!(w.recorded_mutation_lines().await, Vec::<String>::new());
    deploy(&["--thumbs-bootstrap", bootstrap]);
    assert_wired(&w).await;

    // A write under thumbs/ triggers nothing; one under images/ does.
    let queue = add_watching_queue(&w).await;
    let s3 = w.s3().await;
    for key in ["thumbs/a.jpg", "images/b.jpg"] {
        let put = s3.put_object().bucket(w.images_bucket()).key(key);
        put.body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(keys_delivered(&w, &queue).await, ["images/b.jpg"]);

    // Someone removes catup's notification: status says so, deploy puts it back beside
    // theirs.
    let theirs = notifications(&w).await.queue_configurations().to_vec();
    let only_theirs = NotificationConfiguration::builder()
        .set_queue_configurations(Some(theirs.clone()))
        .build();
    let put = s3
        .put_bucket_notification_configuration()
        .bucket(w.images_bucket());
    put.notification_configuration(only_theirs)
        .send()
        .await
        .unwrap();
    let status = w.catup(&["status", "--json"]);
    let report: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(
        detail_of(&report, "thumbs_trigger").0,
        "drifted",
        "{report:#}"
    );
    assert!(
        status.stdout.contains("bucket notification"),
        "{}",
        status.stdout
    );
    let report = deploy(&[]);
    assert_eq!(
        detail_of(&report, "thumbs_trigger").0,
        "updated",
        "{report:#}"
    );
    assert_wired(&w).await;
    assert_eq!(notifications(&w).await.queue_configurations(), theirs);

    // Someone removes S3's permission to invoke it: drift, and deploy adds it back.
    let lambda = w.lambda().await;
    let remove = lambda
        .remove_permission()
        .function_name(thumbs_function(&w));
    remove.statement_id("catup-s3-invoke").send().await.unwrap();
    let status = w.catup(&["status", "--json"]);
    assert_eq!(status.code, 4, "{}", status.stdout);
    let report: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(
        detail_of(&report, "thumbs_trigger"),
        ("drifted".to_owned(), "S3's invoke permission".to_owned())
    );
    let report = deploy(&[]);
    assert_eq!(
        detail_of(&report, "thumbs_trigger").0,
        "updated",
        "{report:#}"
    );
    assert_wired(&w).await;

    // --no-thumbnails removes all four; the upload function forgets; theirs stays.
    let report = deploy(&["--no-thumbnails"]);
    assert_eq!(kinds(&report).len(), 11, "{report:#}");
    assert!(catup_entry(&w).await.is_none());
    assert!(!thumbs_function_exists(&w).await);
    assert!(!thumbs_role_exists(&w).await);
    assert_eq!(upload_env_thumbnails(&w).await, None);
    assert_eq!(notifications(&w).await.queue_configurations(), theirs);
    let report = deploy(&[]);
    assert_eq!(kinds(&report).len(), 7, "{report:#}");

    // Teardown finds them even when the upload function is gone and remembers nothing.
    deploy(&["--thumbnails", "--thumbs-bootstrap", bootstrap]);
    assert_wired(&w).await;
    let lambda = w.lambda().await;
    lambda
        .delete_function()
        .function_name(w.function())
        .send()
        .await
        .unwrap();
    let report = w.catup(&["teardown", "--json", "--yes"]).ok().json();
    for (kind, _) in thumbs_rows {
        assert!(
            states(&report).contains(&(kind.to_owned(), "deleted".to_owned())),
            "{kind} in {report:#}"
        );
    }
    assert!(!thumbs_function_exists(&w).await);
    assert!(!thumbs_role_exists(&w).await);
    let groups = w.logs().await.describe_log_groups().send().await.unwrap();
    let left: Vec<_> = groups
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .filter(|n| n.contains(&w.stack))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// On AWS, S3 checks it may invoke the function when the notification is put; a permission
/// added a moment before may not be visible to it yet ("Unable to validate the following
/// destination configurations"). Deploy waits that out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_s3_cannot_validate_yet_is_waited_out() {
    let w = World::new();
    let bootstrap = w.bootstrap.to_str().unwrap();
    let unvalidated = Answer::error(
        400,
        "InvalidArgument",
        "Unable to validate the following destination configurations",
    );
    let on = On::s3("PUT", &w.images_bucket(), "notification");
    // First a bucket busy with another change, as S3 may answer any configuration call.
    let busy = crate::settling::operation_aborted();
    let script = vec![
        Scripted::new(on.clone(), 1, busy),
        Scripted::new(on, 2, unvalidated),
    ];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;
    let args = [
        "deploy",
        "--json",
        "--bootstrap",
        bootstrap,
        "--thumbnails",
        "--thumbs-bootstrap",
        bootstrap,
    ];
    let run = w.catup_settling_via(&proxy.endpoint(), &args).ok();
    assert!(
        run.stderr
            .contains("S3 cannot validate the thumbnail function as a destination yet"),
        "{}",
        run.stderr
    );
    let busy = "S3 is still applying another change to this bucket (OperationAborted)";
    assert!(run.stderr.contains(busy), "{}", run.stderr);
    assert_wired(&w).await;
}

/// `logs` shows both functions' events where the stack makes thumbnails, each naming its
/// function, in time order; `--function` shows one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_shows_both_functions_or_the_one_asked_for() {
    use crate::logs::fixture::{now_ms, put, stream_name};
    let w = World::new();
    let bootstrap = w.bootstrap.to_str().unwrap();
    let flags = ["--thumbnails", "--thumbs-bootstrap", bootstrap];
    w.deploy_as(&w.stack, &flags);
    let at = now_ms() - 5_000;
    let api = format!("/aws/lambda/{}", w.function());
    let thumbs = format!("/aws/lambda/{}", thumbs_function(&w));
    put(
        &w,
        &api,
        &stream_name('a'),
        &[(at, "upload one\n".into()), (at + 2, "upload two\n".into())],
    )
    .await;
    put(
        &w,
        &thumbs,
        &stream_name('b'),
        &[(at + 1, "thumbnail one\n".into())],
    )
    .await;

    let lines = |args: &[&str]| -> Vec<(Value, Value)> {
        let run = w.catup(&[&["logs", "--json"][..], args].concat()).ok();
        run.stdout
            .lines()
            .map(|l| {
                let event: Value = serde_json::from_str(l).unwrap();
                (event["function"].clone(), event["message"].clone())
            })
            .collect()
    };
    assert_eq!(
        lines(&[]),
        [
            (json!("api"), json!("upload one")),
            (json!("thumbs"), json!("thumbnail one")),
            (json!("api"), json!("upload two")),
        ]
    );
    assert_eq!(
        lines(&["--function", "thumbs"]),
        [(Value::Null, json!("thumbnail one"))]
    );
    assert_eq!(
        lines(&["--function", "api"]),
        [
            (Value::Null, json!("upload one")),
            (Value::Null, json!("upload two"))
        ]
    );
    let text = w.catup(&["logs"]).ok().stdout;
    assert!(
        text.lines()
            .any(|l| l.contains(" thumbs ") && l.ends_with("thumbnail one")),
        "{text}"
    );
}

/// (memory MB, timeout s) of a function, as Lambda holds them.
async fn size_of(w: &World, function: &str) -> (Option<i32>, Option<i32>) {
    let lambda = w.lambda().await;
    let config = lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await;
    let config = config.unwrap();
    (config.memory_size(), config.timeout())
}

/// `--api-memory`/`--api-timeout` and `--thumbs-memory`/`--thumbs-timeout`: set, remembered by the upload function (a deploy
/// without them keeps them), a size changed in the console is drift and put back, and a
/// size Lambda would refuse is refused before any call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_function_s_memory_and_timeout_are_set_remembered_and_kept() {
    let w = World::new();
    let bootstrap = w.bootstrap.to_str().unwrap();
    w.catup(&["deploy", "--bootstrap", bootstrap, "--api-memory", "64"])
        .fails_with(2, "--api-memory");
    let sizes = [
        "--api-memory",
        "256",
        "--api-timeout",
        "20",
        "--thumbs-memory",
        "2048",
        "--thumbs-timeout",
        "60",
    ];
    let thumbs = ["--thumbnails", "--thumbs-bootstrap", bootstrap];
    w.deploy_as(&w.stack, &[&sizes[..], &thumbs].concat());
    assert_eq!(size_of(&w, &w.function()).await, (Some(256), Some(20)));
    assert_eq!(
        size_of(&w, &thumbs_function(&w)).await,
        (Some(2048), Some(60))
    );

    w.moto.start_recording().await;
    let report = w.deploy();
    assert!(
        states(&report).iter().all(|(_, s)| s == "unchanged"),
        "{report:#}"
    );
    assert_eq!(w.recorded_mutation_lines().await, Vec::<String>::new());

    let lambda = w.lambda().await;
    let resize = lambda
        .update_function_configuration()
        .function_name(thumbs_function(&w));
    resize.memory_size(512).send().await.unwrap();
    let status = w.catup(&["status", "--json"]);
    let report: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(
        detail_of(&report, "thumbs_function").0,
        "drifted",
        "{report:#}"
    );
    w.deploy();
    assert_eq!(
        size_of(&w, &thumbs_function(&w)).await,
        (Some(2048), Some(60))
    );
    assert_eq!(size_of(&w, &w.function()).await, (Some(256), Some(20)));

    // A new value replaces the remembered one.
    w.deploy_as(&w.stack, &["--api-memory", "512"]);
    assert_eq!(size_of(&w, &w.function()).await, (Some(512), Some(20)));
}

/// With `--role-arn` (a lab account that cannot create roles) both functions run with that
/// role: no thumbnail role is created or deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_role_arn_both_functions_use_the_given_role() {
    let w = World::new();
    let lab_role = w.lab_role().await;
    let bootstrap = w.bootstrap.to_str().unwrap();
    let flags = [
        "--role-arn",
        &lab_role,
        "--thumbnails",
        "--thumbs-bootstrap",
        bootstrap,
    ];
    let report = w.deploy_as(&w.stack, &flags);
    assert_eq!(
        detail_of(&report, "thumbs_role").0,
        "external",
        "{report:#}"
    );
    let lambda = w.lambda().await;
    for function in [w.function(), thumbs_function(&w)] {
        let config = lambda.get_function_configuration().function_name(&function);
        let config = config.send().await.unwrap();
        assert_eq!(config.role(), Some(lab_role.as_str()), "{function}");
    }
    assert!(!thumbs_role_exists(&w).await);
    assert_eq!(catup_entry(&w).await.map(|e| e.0), Some(thumbs_arn(&w)));
    w.catup(&["teardown", "--yes"]).ok();
    assert!(!thumbs_function_exists(&w).await);
    let iam = w.iam().await;
    let lab = lab_role.rsplit('/').next().unwrap();
    assert!(
        iam.get_role().role_name(lab).send().await.is_ok(),
        "LabRole was deleted"
    );
}

/// A notification of someone else's on an overlapping prefix and event makes S3 refuse
/// catup's: that InvalidArgument is final, said as S3 says it, never waited on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlapping_notification_is_said_at_once_not_waited_on() {
    let w = World::new();
    let bootstrap = w.bootstrap.to_str().unwrap();
    let overlap = Answer::error(
        400,
        "InvalidArgument",
        "Configurations overlap. Configurations on the same bucket cannot share a common event type.",
    );
    let on = On::s3("PUT", &w.images_bucket(), "notification");
    let script = vec![Scripted::new(on, usize::MAX, overlap)];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;
    let args = [
        "deploy",
        "--bootstrap",
        bootstrap,
        "--thumbnails",
        "--thumbs-bootstrap",
        bootstrap,
    ];
    // Unscaled waits: a retry would take seconds; the refusal must not.
    let started = std::time::Instant::now();
    let run = w.catup_via(&proxy.endpoint(), &w.stack, &args);
    let run = run.fails_with(1, "Configurations overlap");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);
}
