//! `catup list`: every stack of the account in every region, found by catup's tags and
//! names, with what is left of it and the images it holds; a bucket that only looks like a
//! stack's is not one. Reads only.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Tag, Tagging};
use catup_testkit::MOTO_ACCOUNT_ID;
use serde_json::Value;

use crate::common::World;

const AWAY: &str = "eu-west-1";
const FAR: &str = "ap-northeast-1";

async fn s3_in(w: &World, region: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&w.moto.sdk_config_in(region).await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, bytes: usize) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(vec![b'x'; bytes]))
        .send()
        .await
        .unwrap();
}

/// Buckets named as catup names an images bucket, holding an image: one untagged, one
/// tagged for another purpose (a stack tag but no catup role).
async fn foreign_lookalikes(w: &World) -> Vec<String> {
    let s3 = w.s3().await;
    let names: Vec<String> = ["ghost", "backup"]
        .iter()
        .map(|stack| format!("{stack}-images-{MOTO_ACCOUNT_ID}-{}", w.region))
        .collect();
    for name in &names {
        s3.create_bucket().bucket(name).send().await.unwrap();
        put(&s3, name, "images/cat.jpg", 10).await;
    }
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    let tagging = Tagging::builder()
        .tag_set(tag("catup:stack", "backup"))
        .tag_set(tag("purpose", "backups"))
        .build()
        .unwrap();
    s3.put_bucket_tagging()
        .bucket(&names[1])
        .tagging(tagging)
        .send()
        .await
        .unwrap();
    names
}

fn row<'a>(listed: &'a Value, stack: &str) -> &'a Value {
    let rows = listed["stacks"].as_array().unwrap();
    rows.iter()
        .find(|s| s["stack"] == stack)
        .unwrap_or_else(|| panic!("{stack} not listed: {listed:#}"))
}

#[tokio::test]
async fn three_stacks_in_three_regions_are_listed_then_torn_down_and_nothing_else() {
    let w = World::new();
    let (away, far) = (w.other_stack(), w.other_stack());
    w.deploy();
    w.deploy_as(&away, &["--region", AWAY]);
    w.deploy_as(&far, &["--region", FAR]);
    // Two images in one stack; the function of another deleted (a teardown cut short).
    let away_images = format!("{away}-images-{MOTO_ACCOUNT_ID}-{AWAY}");
    let s3 = s3_in(&w, AWAY).await;
    put(&s3, &away_images, "images/a.jpg", 100).await;
    put(&s3, &away_images, "images/b.png", 250).await;
    let lambda = aws_sdk_lambda::Client::new(&w.moto.sdk_config_in(FAR).await);
    let function = format!("{far}-api");
    lambda
        .delete_function()
        .function_name(&function)
        .send()
        .await
        .unwrap();
    let foreign = foreign_lookalikes(&w).await;

    w.moto.start_recording().await;
    let listed = w.catup(&["list", "--json"]).ok().json();
    let mutations = w.recorded_mutation_lines().await;
    assert!(
        mutations.is_empty(),
        "list changed something: {mutations:#?}"
    );

    let mut found: Vec<(String, String)> = listed["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap().into(),
                s["region"].as_str().unwrap().into(),
            )
        })
        .collect();
    found.sort();
    let mut expected = vec![
        (w.stack.clone(), w.region.clone()),
        (away.clone(), AWAY.to_owned()),
        (far.clone(), FAR.to_owned()),
    ];
    expected.sort();
    assert_eq!(found, expected, "{listed:#}");

    let images = &row(&listed, &away)["images"];
    assert_eq!(
        (images["count"].as_u64(), images["bytes"].as_u64()),
        (Some(2), Some(350))
    );
    assert!(images["last_upload"].as_str().is_some(), "{images}");
    assert_eq!(row(&listed, &w.stack)["images"]["count"], 0);
    assert_eq!(row(&listed, &w.stack)["missing"], serde_json::json!([]));
    assert_eq!(
        row(&listed, &far)["missing"],
        serde_json::json!(["function"])
    );
    assert!(row(&listed, &away)["monthly_usd"].as_f64().unwrap() > 0.0);
    assert!(listed["prices_as_of"].as_str().is_some());

    let text = w.catup(&["list"]).ok().stdout;
    assert!(
        text.contains(&format!("{far}  ")) && text.contains("partial"),
        "{text}"
    );
    assert!(
        !text.contains("ghost") && !text.contains("backup"),
        "{text}"
    );

    // teardown --all: each of the three, and nothing of the look-alikes.
    w.catup(&["teardown", "--all"]).fails_with(1, "--yes");
    w.moto.start_recording().await;
    let torn = w
        .catup(&["teardown", "--all", "--yes", "--json"])
        .ok()
        .json();
    assert_eq!(torn["stacks"].as_array().unwrap().len(), 3, "{torn:#}");
    let mutations = w.recorded_mutation_lines().await;
    let touched: Vec<&String> = mutations
        .iter()
        .filter(|l| foreign.iter().any(|f| l.contains(f.as_str())))
        .collect();
    assert!(touched.is_empty(), "{touched:#?}");
    let left = w.catup(&["list", "--json"]).ok().json();
    assert_eq!(left["stacks"], serde_json::json!([]), "{left:#}");
    let s3 = w.s3().await;
    for bucket in &foreign {
        let object = s3
            .get_object()
            .bucket(bucket)
            .key("images/cat.jpg")
            .send()
            .await;
        let body = object.unwrap().body.collect().await.unwrap().into_bytes();
        assert_eq!(body.as_ref(), [b'x'; 10]);
    }
    let tags = s3
        .get_bucket_tagging()
        .bucket(&foreign[1])
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_set().len(), 2);
}
