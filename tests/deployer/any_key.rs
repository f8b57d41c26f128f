//! Listings survive any key (issue 22): anyone with write access to a bucket may put an object
//! named with any character there. Every listing asks S3 for `encoding-type=url` and decodes
//! what S3 sends, so status, plan, deploy and teardown never break on such a key, and what
//! they delete is the key itself. moto encodes ListObjectsV2's keys as S3 does and ignores
//! the parameter for ListObjectVersions; there the proxy answers as S3 does.

use aws_sdk_s3::types::EncodingType;
use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};

use crate::bucket_roles::put_object as put;
use crate::common::World;

/// The keys in `bucket`, decoded.
async fn keys(w: &World, bucket: &str) -> Vec<String> {
    let listing = w
        .s3()
        .await
        .list_objects_v2()
        .bucket(bucket)
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    let encoding = listing.encoding_type();
    listing
        .contents()
        .iter()
        .map(|o| cat_upload_fn::listed_key::decode(encoding, o.key().unwrap()).unwrap())
        .collect()
}

/// S3 answers a listing without `encoding-type=url` with the raw U+0001 in its XML 1.0, which
/// no XML reader accepts (moto does the same): status, plan and deploy then failed. Deploy
/// deletes the stray object, which only DeleteObject can name (not DeleteObjects' XML).
#[tokio::test]
async fn status_plan_and_deploy_survive_a_site_object_named_with_a_control_character() {
    let w = World::new();
    w.deploy();
    let stray = "stray\u{1}.txt";
    put(&w, &w.site_bucket(), stray).await;

    w.catup(&["status", "--json"]).ok();
    let bootstrap = w.bootstrap.to_str().unwrap();
    // Exit 2: a change to make, the stray object's deletion.
    let plan = w.catup(&["plan", "--json", "--bootstrap", bootstrap]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    // Shown escaped, never raw on a terminal.
    assert!(
        plan.stdout.contains(r"delete stray\\u{1}.txt"),
        "{}",
        plan.stdout
    );
    w.deploy();
    let left = keys(&w, &w.site_bucket()).await;
    assert!(!left.iter().any(|k| k == stray), "{left:?}");
    assert!(left.iter().any(|k| k == "index.html"), "{left:?}");
}

/// What S3 sends for ListObjectVersions with `encoding-type=url`: each key percent-encoded, a
/// space as `+`, and `<EncodingType>url</EncodingType>`. Teardown deletes the key itself (the
/// bucket can then be deleted); the encoded text as a key would leave the bucket not empty.
#[tokio::test(flavor = "multi_thread")]
async fn teardown_deletes_each_key_as_s3_lists_it_url_encoded() {
    let w = World::new();
    w.deploy();
    let odd = "images/a b+c%41.png";
    put(&w, &w.images_bucket(), odd).await;
    let as_s3_lists_it = vec![
        (odd.to_owned(), "images/a+b%2Bc%2541.png".to_owned()),
        (
            "</Name>".to_owned(),
            "</Name><EncodingType>url</EncodingType>".to_owned(),
        ),
    ];
    let script = vec![Scripted::new(
        On::s3("GET", &w.images_bucket(), "versions"),
        usize::MAX,
        Answer::Replaced(as_s3_lists_it),
    )];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;
    w.catup_settling_via(&proxy.endpoint(), &["teardown", "--yes"])
        .ok();
    assert!(proxy.answered(0) >= 1, "the images bucket was never listed");
    let s3 = w.s3().await;
    let gone = s3.head_bucket().bucket(w.images_bucket()).send().await;
    assert!(gone.is_err(), "the images bucket remains");
}

/// A bucket whose objects cannot be listed (here a policy denying the listing) would stop
/// teardown half-way, after the function and its URL are gone: teardown's read lists one
/// entry of each bucket beside its other reads, and stops before any deletion.
#[tokio::test(flavor = "multi_thread")]
async fn teardown_stops_before_its_first_deletion_when_a_bucket_cannot_be_listed() {
    let w = World::new();
    w.deploy();
    let denied = Answer::error(403, "AccessDenied", "Access Denied");
    let script = vec![Scripted::new(
        On::s3("GET", &w.images_bucket(), "versions"),
        usize::MAX,
        denied,
    )];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;
    w.moto.start_recording().await;
    let images = w.images_bucket();
    w.catup_settling_via(&proxy.endpoint(), &["teardown", "--yes"])
        .fails_with(1, &format!("list bucket {images}"));
    let mutations = w.recorded_mutation_lines().await;
    assert!(mutations.is_empty(), "teardown changed: {mutations:#?}");
    assert!(w.function_exists().await);
}
