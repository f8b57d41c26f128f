//! Every bad input gets a one-line error that says what to do, exit code 1, and no AWS call.

use catup_testkit::elf::{self, ElfSpec};

use crate::common::{run_catup, Run, World};

/// Runs catup with `args` and asserts it failed with `needle` before calling AWS at all.
async fn refused_before_any_aws_call(w: &World, args: &[&str], needle: &str) -> Run {
    refused_before_any_aws_call_as(w, &w.stack, args, needle).await
}

async fn refused_before_any_aws_call_as(
    w: &World,
    stack: &str,
    args: &[&str],
    needle: &str,
) -> Run {
    w.moto.start_recording().await;
    let run = w.catup_as(stack, args).fails_with(1, needle);
    let calls = w.moto.recorded_calls().await;
    assert!(calls.is_empty(), "AWS was called: {calls:?}");
    run
}

fn deploy_args<'a>(w: &'a World, extra: &[&'a str]) -> Vec<&'a str> {
    [
        &["deploy", "--bootstrap", w.bootstrap.to_str().unwrap()],
        extra,
    ]
    .concat()
}

#[tokio::test]
async fn upper_case_stack_name() {
    let w = World::new();
    let run = refused_before_any_aws_call_as(
        &w,
        "Cat-Upload",
        &["status"],
        "invalid stack name 'Cat-Upload'",
    )
    .await;
    assert!(run.stderr.contains("lower-case"), "{}", run.stderr);
}

#[tokio::test]
async fn too_long_stack_name() {
    let w = World::new();
    let long = "a".repeat(25);
    refused_before_any_aws_call_as(&w, &long, &["deploy"], "3 to 24").await;
}

#[tokio::test]
async fn stack_name_with_dots() {
    let w = World::new();
    refused_before_any_aws_call_as(&w, "cat..up", &["teardown", "--yes"], "invalid stack name")
        .await;
}

/// Every bucket name starts with the stack's: S3's reserved prefixes (and suffixes, for a
/// custom bucket named after the stack) are the stack name's fault, said before any call.
#[tokio::test]
async fn stack_names_s3_reserves_are_stack_name_errors() {
    let w = World::new();
    for (stack, args) in [
        ("xn--cats", &["deploy"][..]),
        ("sthree-cats", &["status"][..]),
        ("cats-s3alias", &["status"][..]),
    ] {
        let run = refused_before_any_aws_call_as(
            &w,
            stack,
            args,
            &format!("invalid stack name '{stack}': S3 reserves names"),
        )
        .await;
        assert!(
            !run.stderr.contains("invalid bucket name"),
            "{}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn empty_stack_name() {
    let w = World::new();
    refused_before_any_aws_call_as(&w, "", &["status"], "invalid stack name ''").await;
}

#[tokio::test]
async fn bucket_override_breaking_s3_rules() {
    let w = World::new();
    let args = deploy_args(&w, &["--images-bucket", "Cats_Images"]);
    refused_before_any_aws_call(&w, &args, "invalid bucket name 'Cats_Images'").await;
    let args = deploy_args(&w, &["--site-bucket", "192.168.1.1"]);
    refused_before_any_aws_call(&w, &args, "IP address").await;
}

/// Browsers refuse the presigned HTTPS URLs of a dotted bucket (the wildcard certificate does
/// not match `my.cats.s3.<region>.amazonaws.com`); a dotted site bucket is fine (plain HTTP).
#[tokio::test]
async fn dotted_images_bucket() {
    let w = World::new();
    let args = deploy_args(&w, &["--images-bucket", "my.cats.images"]);
    refused_before_any_aws_call(&w, &args, "--images-bucket 'my.cats.images' has dots").await;
}

#[tokio::test]
async fn role_arn_that_is_not_a_role_arn() {
    let w = World::new();
    let args = deploy_args(&w, &["--role-arn", "LabRole"]);
    refused_before_any_aws_call(&w, &args, "invalid --role-arn").await;
}

/// Not of AWS's region pattern (`us-north-7` would be: a region launched after this build).
#[tokio::test]
async fn unknown_region() {
    let w = World::new();
    refused_before_any_aws_call(
        &w,
        &["--region", "mars-north-1", "status"],
        "unknown AWS region 'mars-north-1'",
    )
    .await;
}

#[tokio::test]
async fn bootstrap_that_is_not_an_elf() {
    let w = World::new();
    std::fs::write(&w.bootstrap, "#!/bin/sh\necho cats\n").unwrap();
    refused_before_any_aws_call(&w, &deploy_args(&w, &[]), "ELF").await;
}

#[tokio::test]
async fn bootstrap_needing_a_newer_glibc() {
    let w = World::new();
    std::fs::write(
        &w.bootstrap,
        elf::build(&ElfSpec::x86_64_needing(&[(2, 17), (2, 39)])),
    )
    .unwrap();
    refused_before_any_aws_call(&w, &deploy_args(&w, &[]), "2.39").await;
}

#[tokio::test]
async fn bootstrap_for_another_architecture() {
    let w = World::new();
    let spec = ElfSpec {
        machine: elf::EM_AARCH64,
        ..ElfSpec::x86_64_needing(&[(2, 17)])
    };
    std::fs::write(&w.bootstrap, elf::build(&spec)).unwrap();
    refused_before_any_aws_call(&w, &deploy_args(&w, &[]), "aarch64").await;
}

#[tokio::test]
async fn bootstrap_path_that_does_not_exist() {
    let w = World::new();
    let missing = w.dir.join("no-such-bootstrap");
    let args = ["deploy", "--bootstrap", missing.to_str().unwrap()];
    refused_before_any_aws_call(&w, &args, "no-such-bootstrap").await;
}

#[tokio::test]
async fn missing_frontend_folder() {
    let w = World::new();
    let missing = w.dir.join("nowhere");
    let args = deploy_args(&w, &["--frontend", missing.to_str().unwrap()]);
    refused_before_any_aws_call(&w, &args, "frontend folder").await;
}

#[tokio::test]
async fn empty_frontend_folder() {
    let w = World::new();
    let empty = w.dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let args = deploy_args(&w, &["--frontend", empty.to_str().unwrap()]);
    refused_before_any_aws_call(&w, &args, "has no index.html").await;
}

/// A key with U+0001 would be published, and every listing of the site bucket would then fail.
#[tokio::test]
async fn frontend_file_named_with_a_control_character() {
    let w = World::new();
    let frontend = w.frontend_copy();
    std::fs::write(frontend.join("cat\u{1}.png"), [1]).unwrap();
    let args = deploy_args(&w, &["--frontend", frontend.to_str().unwrap()]);
    let run = refused_before_any_aws_call(&w, &args, r#"frontend file "cat\u{1}.png""#).await;
    assert!(
        run.stderr.contains("control character (U+0001)"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn frontend_file_whose_key_is_over_s3_s_1024_bytes() {
    let w = World::new();
    let frontend = w.frontend_copy();
    let deep = (0..5).fold(frontend.clone(), |path, i| {
        path.join(format!("{i}").repeat(200))
    });
    std::fs::create_dir_all(&deep).unwrap();
    // Five folders of 200 bytes and a 104-byte name: a key of 1,109 bytes, a valid path.
    std::fs::write(deep.join(format!("{}.png", "c".repeat(100))), [1]).unwrap();
    let args = deploy_args(&w, &["--frontend", frontend.to_str().unwrap()]);
    refused_before_any_aws_call(
        &w,
        &args,
        "would be an S3 key of 1109 bytes, over S3's 1024",
    )
    .await;
}

/// A file too big to hold (here sparse: 101 MiB that take no disk) is refused before any
/// AWS call, by plan as by deploy, instead of being read whole into memory.
#[tokio::test]
async fn frontend_file_too_big_to_hold_is_refused_by_plan_and_deploy() {
    let w = World::new();
    let frontend = w.frontend_copy();
    let big = std::fs::File::create(frontend.join("movie.mp4")).unwrap();
    big.set_len(101 * 1024 * 1024).unwrap();
    let args = deploy_args(&w, &["--frontend", frontend.to_str().unwrap()]);
    refused_before_any_aws_call(
        &w,
        &args,
        "is 101 MB: catup publishes site files of at most 100 MB",
    )
    .await;
    let mut plan = args.clone();
    plan[0] = "plan";
    refused_before_any_aws_call(&w, &plan, "at most 100 MB").await;
}

/// `CATUP_UPLOAD_CONCURRENCY=` (empty) means unset; a wrong value stops plan as it stops
/// deploy, before any AWS call.
#[tokio::test]
async fn an_empty_upload_concurrency_is_unset_and_a_wrong_one_stops_plan_too() {
    let w = World::new();
    let mut env = w.moto.env();
    env.push(("CATUP_UPLOAD_CONCURRENCY", String::new()));
    let bootstrap = w.bootstrap.to_str().unwrap();
    let args = [
        "--stack",
        w.stack.as_str(),
        "deploy",
        "--bootstrap",
        bootstrap,
    ];
    let run = run_catup(&w.dir, &env, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    env.retain(|(k, _)| *k != "CATUP_UPLOAD_CONCURRENCY");
    env.push(("CATUP_UPLOAD_CONCURRENCY", "many".into()));
    let args = [
        "--stack",
        w.stack.as_str(),
        "plan",
        "--bootstrap",
        bootstrap,
    ];
    run_catup(&w.dir, &env, &args).fails_with(1, "CATUP_UPLOAD_CONCURRENCY=many is not a number");
}

#[tokio::test]
async fn missing_region() {
    let w = World::new();
    let env: Vec<_> = w
        .moto
        .env()
        .into_iter()
        .filter(|(k, _)| *k != "AWS_REGION")
        .collect();
    run_catup(&w.dir, &env, &["status"]).fails_with(1, "no AWS region: pass --region");
}

#[tokio::test]
async fn missing_credentials() {
    let w = World::new();
    let env: Vec<_> = w
        .moto
        .env()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET"))
        .collect();
    run_catup(&w.dir, &env, &["status"]).fails_with(1, "no AWS credentials");
}

#[tokio::test]
async fn endpoint_that_refuses_connections() {
    let w = World::new();
    let closed = format!("http://127.0.0.1:{}", catup_testkit::free_port());
    let started = std::time::Instant::now();
    w.catup(&["--endpoint-url", &closed, "status"])
        .fails_with(1, "cannot reach the AWS endpoint");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn site_bucket_override_breaking_s3_rules() {
    let w = World::new();
    let args = deploy_args(&w, &["--site-bucket", "cats-site-"]);
    refused_before_any_aws_call(&w, &args, "begin and end").await;
}

/// A bucket name taken in another AWS account: S3 answers HeadBucket with 403 (moto has no
/// such check, so a proxy in front of it answers as S3 does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_name_owned_by_another_account() {
    use catup_testkit::proxy::{FaultProxy, Policy};
    let w = World::new();
    let taken = "someone-elses-cat-bucket";
    let proxy = FaultProxy::start(
        &w.moto.endpoint(),
        Policy::ForeignBucket {
            bucket: taken.into(),
        },
    )
    .await;
    w.moto.start_recording().await;
    w.catup_via(
        &proxy.endpoint(),
        &w.stack,
        &deploy_args(&w, &["--images-bucket", taken]),
    )
    .fails_with(
        1,
        "bucket someone-elses-cat-bucket exists and belongs to another AWS account",
    );
    let mutations = w.moto.recorded_mutations().await;
    assert!(mutations.is_empty(), "{mutations:?}");
}

/// A bucket of another stack (tagged catup:stack=<other>) under this stack's name.
#[tokio::test]
async fn bucket_of_another_stack() {
    let w = World::new();
    let s3 = w.s3().await;
    s3.create_bucket()
        .bucket(w.site_bucket())
        .send()
        .await
        .unwrap();
    s3.put_bucket_tagging()
        .bucket(w.site_bucket())
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("catup:stack")
                        .value("someone-else")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    w.moto.start_recording().await;
    w.catup(&deploy_args(&w, &[]))
        .fails_with(1, "catup:stack=someone-else");
    assert!(w.moto.recorded_mutations().await.is_empty());
}
