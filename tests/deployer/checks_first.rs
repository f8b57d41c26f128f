//! What can be known before the first change is checked first: a --role-arn that cannot work,
//! a package over Lambda's limits, objects S3 Object Lock keeps. Each used to fail only after
//! catup had created (or deleted) part of the stack.

use std::io::Write;

use aws_sdk_iam::types::Tag;
use aws_sdk_s3::types::{
    BucketVersioningStatus, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockLegalHoldStatus,
    VersioningConfiguration,
};
use catup_testkit::elf;
use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};

use crate::bucket_roles::bucket_exists;
use crate::common::{Run, World};

/// Deploy with `extra` fails naming `needle`, and moto saw no mutating call.
async fn refused_before_any_change(w: &World, extra: &[&str], needle: &str) -> Run {
    let bootstrap = w.bootstrap.to_str().unwrap();
    w.moto.start_recording().await;
    let run = w
        .catup(&[&["deploy", "--bootstrap", bootstrap], extra].concat())
        .fails_with(1, needle);
    let mutations = w.moto.recorded_mutations().await;
    assert!(mutations.is_empty(), "changed: {mutations:?}");
    assert!(!bucket_exists(w, &w.images_bucket()).await);
    run
}

#[tokio::test]
async fn a_role_arn_of_another_account_is_refused_before_any_change() {
    let w = World::new();
    let arn = "arn:aws:iam::210987654321:role/LabRole";
    let run = refused_before_any_change(&w, &["--role-arn", arn], "account 210987654321").await;
    assert!(run.stderr.contains("123456789012"), "{}", run.stderr);
}

#[tokio::test]
async fn a_role_arn_that_is_missing_or_does_not_trust_lambda_is_refused_before_any_change() {
    let w = World::new();
    let started = std::time::Instant::now();
    let missing = "arn:aws:iam::123456789012:role/NoSuchRole";
    refused_before_any_change(&w, &["--role-arn", missing], "does not exist").await;
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());

    let iam = w.iam().await;
    let ec2_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let tag = Tag::builder().key("team").value("ops").build().unwrap();
    iam.create_role()
        .role_name("Ec2Role")
        .assume_role_policy_document(ec2_trust)
        .tags(tag)
        .send()
        .await
        .unwrap();
    let ec2 = "arn:aws:iam::123456789012:role/Ec2Role";
    refused_before_any_change(
        &w,
        &["--role-arn", ec2],
        "does not trust lambda.amazonaws.com",
    )
    .await;
    // The role is read, never changed.
    let role = iam.get_role().role_name("Ec2Role").send().await.unwrap();
    let trust = role.role().unwrap().assume_role_policy_document().unwrap();
    assert!(!trust.contains("lambda"), "{trust}");
}

/// A bootstrap of `total` bytes: a real ELF header, then `fill`.
fn big_bootstrap(w: &World, total: usize, fill: impl Fn(&mut [u8])) {
    let mut bytes = elf::build(&elf::ElfSpec::x86_64_needing(&[(2, 17)]));
    let header = bytes.len();
    bytes.resize(total, 0);
    fill(&mut bytes[header..]);
    std::fs::File::create(&w.bootstrap)
        .and_then(|mut f| f.write_all(&bytes))
        .unwrap();
}

#[tokio::test]
async fn a_bootstrap_over_lambda_s_size_limits_is_refused_before_any_change() {
    let w = World::new();
    // 251 MB of zeros: zips small, but Lambda refuses more than 250 MB unzipped.
    big_bootstrap(&w, 251 * 1024 * 1024, |_| {});
    w.moto.start_recording().await;
    let bootstrap = w.bootstrap.to_str().unwrap();
    w.catup(&["deploy", "--bootstrap", bootstrap])
        .fails_with(1, "250 MB limit for unzipped code");
    let calls = w.moto.recorded_calls().await;
    assert!(calls.is_empty(), "AWS was called: {calls:?}");

    // 51 MB that does not compress: over what Lambda takes in a direct upload (its request
    // limit counts the zip base64-encoded; the boundary is unit-tested in preflight.rs).
    big_bootstrap(&w, 51 * 1024 * 1024, |rest| {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for chunk in rest.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
    });
    refused_before_any_change(&w, &[], "over what Lambda takes in a direct upload").await;
}

#[tokio::test]
async fn teardown_with_an_image_under_legal_hold_deletes_nothing() {
    let w = World::new();
    w.deploy();
    let s3 = w.s3().await;
    let images = w.images_bucket();
    let enabled = VersioningConfiguration::builder()
        .status(BucketVersioningStatus::Enabled)
        .build();
    s3.put_bucket_versioning()
        .bucket(&images)
        .versioning_configuration(enabled)
        .send()
        .await
        .unwrap();
    let lock = ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .build();
    s3.put_object_lock_configuration()
        .bucket(&images)
        .object_lock_configuration(lock)
        .send()
        .await
        .unwrap();
    for (key, hold) in [("images/1-free.png", false), ("images/2-held.png", true)] {
        let mut put = s3
            .put_object()
            .bucket(&images)
            .key(key)
            .body(b"\x89PNG".to_vec().into());
        if hold {
            put = put.object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On);
        }
        put.send().await.unwrap();
    }

    let run = w
        .catup(&["teardown", "--yes"])
        .fails_with(1, "images/2-held.png");
    assert!(
        run.stderr.contains("legal hold") && run.stderr.contains("deleted nothing"),
        "{}",
        run.stderr
    );
    assert!(w.function_exists().await, "the function was deleted");
    let iam = w.iam().await;
    assert!(iam.get_role().role_name(w.role()).send().await.is_ok());
    assert!(bucket_exists(&w, &w.site_bucket()).await);
    let listed = s3.list_objects_v2().bucket(&images).send().await.unwrap();
    assert_eq!(listed.contents().len(), 2, "{listed:?}");
}

/// A role catup did not create is not new: when Lambda says it cannot be assumed, that is
/// final (was: a role that did not exist yet was waited for, for minutes). Where iam:GetRole
/// is denied (lab accounts), the role is not checked and the deploy goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_given_role_is_never_waited_for_and_an_unreadable_one_is_not_checked() {
    let w = World::new();
    let arn = w.lab_role().await;
    let denied = Answer::error(
        403,
        "AccessDenied",
        "not authorized to perform: iam:GetRole",
    );
    let refused = Answer::error(
        400,
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
    );
    let script = vec![
        Scripted::new(On::iam("GetRole"), usize::MAX, denied),
        Scripted::new(On::lambda("POST", "/2015-03-31/functions"), 1, refused),
    ];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;
    let bootstrap = w.bootstrap.to_str().unwrap();
    let args = ["deploy", "--bootstrap", bootstrap, "--role-arn", &arn];
    let started = std::time::Instant::now();
    let run = w
        .catup_via(&proxy.endpoint(), &w.stack, &args)
        .fails_with(1, "cannot be assumed by Lambda");
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);
    assert_eq!(proxy.answered(1), 1);
    assert!(proxy.answered(0) >= 1, "GetRole was not asked");

    // The next CreateFunction goes through: the unreadable role was used, not refused.
    w.catup_via(&proxy.endpoint(), &w.stack, &args).ok();
    assert_eq!(w.function_configuration().await.role(), Some(arn.as_str()));
}
