//! A bucket never changes role: each carries `catup:role` (site or images), and no bucket that
//! holds images or blocks all public access is turned into the public website.

use aws_sdk_s3::types::{PublicAccessBlockConfiguration, Tag, Tagging};

use crate::common::World;

/// Creates `bucket` with exactly these tags.
pub async fn bucket_with_tags(w: &World, bucket: &str, tags: &[(&str, &str)]) {
    let s3 = w.s3().await;
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    if !tags.is_empty() {
        put_bucket_tags(w, bucket, tags).await;
    }
}

/// Replaces the bucket's tags, as `aws s3api put-bucket-tagging` does.
pub async fn put_bucket_tags(w: &World, bucket: &str, tags: &[(&str, &str)]) {
    let s3 = w.s3().await;
    let tags = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(*k).value(*v).build().unwrap())
        .collect();
    let tagging = Tagging::builder().set_tag_set(Some(tags)).build().unwrap();
    s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(tagging)
        .send()
        .await
        .unwrap();
}

pub async fn put_object(w: &World, bucket: &str, key: &str) {
    let s3 = w.s3().await;
    let body = aws_sdk_s3::primitives::ByteStream::from_static(b"\x89PNG");
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body)
        .send()
        .await
        .unwrap();
}

async fn block_all_public_access(w: &World, bucket: &str) {
    let all = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    let s3 = w.s3().await;
    let request = s3.put_public_access_block().bucket(bucket);
    request
        .public_access_block_configuration(all)
        .send()
        .await
        .unwrap();
}

/// What makes a bucket public, read back: the access block flags, the policy, the website.
pub async fn exposure(w: &World, bucket: &str) -> (Option<[bool; 4]>, bool, bool) {
    let s3 = w.s3().await;
    let block = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .ok()
        .and_then(|o| o.public_access_block_configuration)
        .map(|c| {
            [
                c.block_public_acls == Some(true),
                c.ignore_public_acls == Some(true),
                c.block_public_policy == Some(true),
                c.restrict_public_buckets == Some(true),
            ]
        });
    let policy = s3.get_bucket_policy().bucket(bucket).send().await.is_ok();
    let website = s3.get_bucket_website().bucket(bucket).send().await.is_ok();
    (block, policy, website)
}

pub async fn tags_of(w: &World, bucket: &str) -> Vec<(String, String)> {
    let s3 = w.s3().await;
    let mut tags: Vec<(String, String)> = match s3.get_bucket_tagging().bucket(bucket).send().await
    {
        Ok(t) => t
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
        Err(_) => Vec::new(),
    };
    tags.sort();
    tags
}

pub async fn bucket_exists(w: &World, bucket: &str) -> bool {
    let s3 = w.s3().await;
    s3.head_bucket().bucket(bucket).send().await.is_ok()
}

#[tokio::test]
async fn the_images_bucket_is_never_made_the_site_bucket() {
    let w = World::new();
    w.deploy();
    let images = w.images_bucket();
    assert_eq!(
        tags_of(&w, &images).await,
        [
            ("catup:role".to_owned(), "images".to_owned()),
            ("catup:stack".to_owned(), w.stack.clone())
        ]
    );
    let site_tags = tags_of(&w, &w.site_bucket()).await;
    assert!(
        site_tags.contains(&("catup:role".into(), "site".into())),
        "{site_tags:?}"
    );
    put_object(&w, &images, "images/0001-cat.png").await;
    let before = exposure(&w, &images).await;
    assert_eq!(before, (Some([true; 4]), false, false));

    let other = format!("{}-elsewhere", w.stack);
    let bootstrap = w.bootstrap.to_str().unwrap();
    w.moto.start_recording().await;
    let args = ["--site-bucket", &images, "--images-bucket", &other];
    w.catup(&[&["deploy", "--bootstrap", bootstrap], &args[..]].concat())
        .fails_with(1, "catup:role=images");
    let mutations = w.moto.recorded_mutations().await;
    assert!(mutations.is_empty(), "changed: {mutations:?}");
    assert_eq!(exposure(&w, &images).await, before);
    assert!(!bucket_exists(&w, &other).await);
    // status says so too, and changes nothing.
    let status = w.catup(&[&["status", "--json"], &args[..]].concat());
    let (state, detail) = crate::common::detail_of(&status.json(), "site_bucket");
    assert_eq!(state, "drifted");
    assert!(detail.contains("catup:role=images"), "{detail}");
    assert_eq!(exposure(&w, &images).await, before);
}

#[tokio::test]
async fn a_bucket_that_blocks_public_access_or_holds_images_never_becomes_the_website() {
    let w = World::new();
    let bootstrap = w.bootstrap.to_str().unwrap();
    // Buckets of this stack from before roles were tagged: both carry only catup:stack.
    let blocked = format!("{}-private", w.stack);
    let with_images = format!("{}-gallery", w.stack);
    for bucket in [&blocked, &with_images] {
        bucket_with_tags(&w, bucket, &[("catup:stack", &w.stack)]).await;
    }
    block_all_public_access(&w, &blocked).await;
    put_object(&w, &with_images, "images/0001-cat.png").await;

    for (bucket, needle) in [
        (&blocked, "blocks all public access"),
        (&with_images, "holds objects under images/"),
    ] {
        let before = exposure(&w, bucket).await;
        w.catup(&["deploy", "--bootstrap", bootstrap, "--site-bucket", bucket])
            .fails_with(1, needle);
        assert_eq!(exposure(&w, bucket).await, before, "{bucket}");
        assert!(!exposure(&w, bucket).await.1, "{bucket} got a policy");
        assert!(!bucket_exists(&w, &w.images_bucket()).await);
    }
}
