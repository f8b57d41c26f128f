//! Teardown removes everything the stack owns, refuses what it does not, and is idempotent;
//! stacks side by side do not touch each other.

use aws_sdk_s3::primitives::ByteStream;

use crate::common::{assert_all, states, World};

async fn put(w: &World, bucket: &str, key: &str) {
    w.s3()
        .await
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(b"cat"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn teardown_removes_everything_and_a_second_one_has_nothing_to_do() {
    let w = World::new();
    w.deploy();
    // Objects and versions, so the buckets must be emptied first.
    let s3 = w.s3().await;
    s3.put_bucket_versioning()
        .bucket(w.images_bucket())
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for i in 0..3 {
        put(&w, &w.images_bucket(), "images/cat.png").await;
        put(&w, &w.images_bucket(), &format!("images/{i}.png")).await;
    }
    s3.delete_object()
        .bucket(w.images_bucket())
        .key("images/0.png")
        .send()
        .await
        .unwrap();

    let report = w.catup(&["teardown", "--yes", "--json"]).ok().json();
    assert_eq!(report["deleted_anything"], true);
    let kinds: Vec<(String, String)> = states(&report);
    let deleted = |k: &str| (k.to_owned(), "deleted".to_owned());
    assert_eq!(
        kinds,
        [
            "images_bucket",
            "site_bucket",
            "log_group",
            "role",
            "function",
            "function_url"
        ]
        .map(deleted)
    );

    for bucket in [w.images_bucket(), w.site_bucket()] {
        assert!(
            s3.head_bucket().bucket(&bucket).send().await.is_err(),
            "{bucket} remains"
        );
    }
    let lambda = w.lambda().await;
    assert!(lambda
        .get_function()
        .function_name(w.function())
        .send()
        .await
        .is_err());
    let iam = w.iam().await;
    assert!(iam.get_role().role_name(w.role()).send().await.is_err());
    let groups = w
        .logs()
        .await
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{}", w.function()))
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty());

    w.moto.start_recording().await;
    let again = w.catup(&["teardown", "--yes"]).ok();
    assert!(again.stdout.contains("nothing to do"), "{}", again.stdout);
    assert!(w.moto.recorded_mutations().await.is_empty());
    assert_eq!(w.catup(&["status"]).code, 3);
}

#[tokio::test]
async fn teardown_refuses_a_bucket_without_the_stack_tag_and_deletes_nothing() {
    let w = World::new();
    w.deploy();
    let s3 = w.s3().await;
    s3.delete_bucket_tagging()
        .bucket(w.images_bucket())
        .send()
        .await
        .unwrap();
    put(&w, &w.images_bucket(), "images/someone-elses.png").await;

    w.moto.start_recording().await;
    w.catup(&["teardown", "--yes"]).fails_with(
        1,
        &format!(
            "images bucket {} exists but does not belong",
            w.images_bucket()
        ),
    );
    assert!(
        w.moto.recorded_mutations().await.is_empty(),
        "nothing deleted"
    );
    assert!(w.function_exists().await);
}

#[tokio::test]
async fn foreign_function_and_role_with_the_stack_s_names_are_refused() {
    let w = World::new();
    // A function made by hand with the lecture's name, and a role with ours.
    let iam = w.iam().await;
    let role = iam
        .create_role()
        .role_name(w.role())
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();
    w.moto.start_recording().await;
    w.catup(&["deploy", "--bootstrap", w.bootstrap.to_str().unwrap()])
        .fails_with(1, "no catup:stack tag");
    assert!(
        w.moto.recorded_mutations().await.is_empty(),
        "deploy changed nothing"
    );
    w.catup(&["teardown", "--yes"])
        .fails_with(1, &format!("role {}", w.role()));
    assert!(iam
        .get_role()
        .role_name(role.role.unwrap().role_name())
        .send()
        .await
        .is_ok());

    let other = World::new();
    let someone_s_role = other
        .iam()
        .await
        .create_role()
        .role_name("hand-made-lambda-role")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    hand_made_function(&other, someone_s_role.arn()).await;
    other
        .catup(&["deploy", "--bootstrap", other.bootstrap.to_str().unwrap()])
        .fails_with(
            1,
            &format!("function {} exists but does not belong", other.function()),
        );
    other
        .catup(&["teardown", "--yes"])
        .fails_with(1, "no catup:stack tag");
}

/// A function with the stack's function name that someone made by hand (in the console,
/// with the lecture's name): it has no catup:stack tag.
pub(crate) async fn hand_made_function(w: &World, role_arn: &str) {
    w.lambda()
        .await
        .create_function()
        .function_name(w.function())
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role_arn)
        .handler("app.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(tiny_zip()))
                .build(),
        )
        .send()
        .await
        .unwrap();
}

fn tiny_zip() -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    zip.start_file("app.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"def handler(e, c): return 1\n").unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

#[tokio::test]
async fn two_stacks_side_by_side_do_not_interfere() {
    let w = World::new();
    let other = w.other_stack();
    let a = w.deploy();
    let b = w.deploy_as(&other, &[]);
    assert_ne!(a["function_url"], b["function_url"]);
    assert_ne!(a["images_bucket"], b["images_bucket"]);

    w.catup(&["teardown", "--yes"]).ok();
    let status = w.catup_as(&other, &["status", "--json"]).ok().json();
    assert_all(&status, "ok");
    assert_eq!(status["function_url"], b["function_url"]);
    assert_eq!(w.catup(&["status"]).code, 3);
}

#[tokio::test]
async fn teardown_off_a_terminal_needs_yes() {
    let w = World::new();
    w.deploy();
    w.moto.start_recording().await;
    w.catup(&["teardown"]).fails_with(1, "--yes");
    assert!(w.moto.recorded_mutations().await.is_empty());
}

/// On a terminal (a pseudo-terminal from `script`), teardown asks; anything but "y" cancels,
/// saying that nothing changed.
#[tokio::test]
async fn teardown_on_a_terminal_asks_first() {
    use std::io::Write;
    let w = World::new();
    w.deploy();
    let answer = |reply: &str| {
        let command = format!(
            "{} --stack {} teardown",
            env!("CARGO_BIN_EXE_catup"),
            w.stack
        );
        let mut child = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .envs(w.moto.env())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("script(1) from util-linux");
        std::thread::sleep(std::time::Duration::from_millis(1500));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(reply.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, screen) = answer("n\n");
    // The user said no: nothing went wrong (no `error:`), yet nothing was done (exit 1).
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains("[y/N]") && screen.contains("teardown cancelled: nothing changed"),
        "{screen}"
    );
    assert!(!screen.contains("error"), "{screen}");
    assert!(w.function_exists().await);

    let (code, screen) = answer("y\n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("removed"), "{screen}");
    assert!(!w.function_exists().await);
}
