//! The handler against moto_server's S3: presigned URLs are PUT and GET for real.

use std::collections::HashSet;

use cat_upload_fn::content_type::ImageType;
use cat_upload_fn::keys::new_image_key;
use catup_testkit::{unique_name, Moto};
use http::{Method, Request};
use serde_json::{json as json_value, Value};

use crate::common::{app, http_client, json};

fn get(query: &str) -> Request<Vec<u8>> {
    Request::builder()
        .method(Method::GET)
        .uri(format!("https://fn.lambda-url.us-east-1.on.aws/?{query}"))
        .body(Vec::new())
        .unwrap()
}

fn post(body: Value) -> Request<Vec<u8>> {
    Request::builder()
        .method(Method::POST)
        .uri("https://fn.lambda-url.us-east-1.on.aws/")
        .body(body.to_string().into_bytes())
        .unwrap()
}

/// The keys of a gallery page, in the order given.
fn keys_of(page: &Value) -> Vec<&str> {
    page["images"]
        .as_array()
        .expect("images array")
        .iter()
        .map(|image| image["key"].as_str().expect("key"))
        .collect()
}

async fn images_bucket(moto: &Moto) -> (aws_config::SdkConfig, aws_sdk_s3::Client, String) {
    let sdk = moto.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = unique_name("images");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    (sdk, s3, bucket)
}

/// A small but real PNG (1x1, red).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// PUTs the PNG to a POST's presigned URL with the headers it was signed with.
/// Puts the test PNG under each key, as anyone with access to the bucket may.
async fn put_pngs(s3: &aws_sdk_s3::Client, bucket: &str, keys: &[&str]) {
    for key in keys {
        s3.put_object()
            .bucket(bucket)
            .key(*key)
            .body(PNG.to_vec().into())
            .send()
            .await
            .unwrap();
    }
}

async fn put_upload(http: &reqwest::Client, upload: &Value) -> reqwest::Response {
    let mut put = http
        .put(upload["uploadUrl"].as_str().unwrap())
        .body(PNG.to_vec());
    for (name, value) in upload["headers"].as_object().unwrap() {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    put.send().await.unwrap()
}

#[tokio::test]
async fn upload_then_gallery_round_trip() {
    let moto = Moto::start();
    let (sdk, s3, bucket) = images_bucket(&moto).await;
    let app = app(&sdk, &bucket);
    let http = http_client();

    let (status, upload) = json(
        &app.handle(post(
            json_value!({"contentType": "image/png", "size": PNG.len()}),
        ))
        .await,
    );
    assert_eq!(status, 200, "{upload}");
    let put = put_upload(&http, &upload).await;
    assert!(put.status().is_success(), "PUT {}", put.status());

    let key = upload["key"].as_str().unwrap();
    let stored = s3
        .head_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.content_type(), Some("image/png"));
    assert_eq!(stored.content_length(), Some(PNG.len() as i64));

    let (status, gallery) = json(&app.handle(get("")).await);
    assert_eq!(status, 200, "{gallery}");
    let first = &gallery["images"][0];
    assert_eq!(first["key"], key);
    assert_eq!(first["size"], PNG.len());
    assert!(first["lastModified"].as_str().unwrap().ends_with('Z'));
    assert_eq!(gallery["expiresIn"], 300);
    assert!(gallery.get("next").is_none(), "one image is one page");

    let fetched = http
        .get(first["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(fetched.status().is_success());
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PNG);
}

#[tokio::test]
async fn empty_bucket_is_an_empty_gallery() {
    let moto = Moto::start();
    let (sdk, _s3, bucket) = images_bucket(&moto).await;
    let (status, gallery) = json(&app(&sdk, &bucket).handle(get("")).await);
    assert_eq!(status, 200);
    assert_eq!(gallery, json_value!({"images": [], "expiresIn": 300}));
}

#[tokio::test]
async fn objects_outside_images_prefix_are_never_listed() {
    let moto = Moto::start();
    let (sdk, s3, bucket) = images_bucket(&moto).await;
    for key in ["config.js", "imagesX/a.png", "images/0000000000001-a.png"] {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let (_, gallery) = json(&app(&sdk, &bucket).handle(get("")).await);
    assert_eq!(keys_of(&gallery), ["images/0000000000001-a.png"]);
}

/// Anyone with the bucket's write access may upload any key: a control character (raw in an
/// XML 1.0 listing, it makes the whole answer unreadable), `%`, `+` and a space (which an
/// encoded listing must decode) never break the gallery, and each is listed as itself.
#[tokio::test]
async fn any_key_is_listed_as_itself() {
    let moto = Moto::start();
    let (sdk, s3, bucket) = images_bucket(&moto).await;
    // The control character comes second: moto echoes StartAfter (the cursor's key) raw,
    // where S3 encodes it like the keys.
    let odd = ["images/0-a b+c%41.png", "images/1-\u{1}ctl.png"];
    put_pngs(&s3, &bucket, &odd).await;
    let app = app(&sdk, &bucket);
    let (status, gallery) = json(&app.handle(get("limit=1")).await);
    assert_eq!(status, 200, "{gallery}");
    assert_eq!(keys_of(&gallery), [odd[0]]);
    let next = gallery["next"].as_str().expect("a second page");
    let (status, rest) = json(&app.handle(get(&format!("limit=1&cursor={next}"))).await);
    assert_eq!(status, 200, "{rest}");
    assert_eq!(keys_of(&rest), [odd[1]]);
    let fetched = http_client()
        .get(rest["images"][0]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(fetched.status().is_success(), "GET {}", fetched.status());
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PNG);
}

#[tokio::test]
async fn fifteen_hundred_images_page_newest_first_exactly_once() {
    const COUNT: u64 = 1500;
    let moto = Moto::start();
    let (sdk, s3, bucket) = images_bucket(&moto).await;
    let png = ImageType::parse("image/png").unwrap();
    // Upload times one second apart, in shuffled order, so the listing's order can only
    // come from the keys.
    let keys: Vec<(u64, String)> = (0..COUNT)
        .map(|i| (i * 7919 % COUNT, uuid::Uuid::new_v4()))
        .map(|(t, id)| (t, new_image_key(png, 1_700_000_000_000 + t * 1000, id)))
        .collect();
    let mut uploads = tokio::task::JoinSet::new();
    for chunk in keys.chunks(COUNT as usize / 8) {
        let (s3, bucket, chunk) = (s3.clone(), bucket.clone(), chunk.to_vec());
        uploads.spawn(async move {
            for (_, key) in chunk {
                s3.put_object()
                    .bucket(&bucket)
                    .key(&key)
                    .body(b"img".to_vec().into())
                    .send()
                    .await
                    .unwrap();
            }
        });
    }
    uploads.join_all().await;
    let mut newest_first = keys.clone();
    newest_first.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    let newest_first: Vec<String> = newest_first.into_iter().map(|(_, k)| k).collect();

    let app = app(&sdk, &bucket);
    for limit in [100, 1000, 7] {
        let mut seen = Vec::new();
        let mut query = format!("limit={limit}");
        let mut pages = 0;
        loop {
            let (status, page) = json(&app.handle(get(&query)).await);
            assert_eq!(status, 200, "{page}");
            pages += 1;
            let images = page["images"].as_array().unwrap();
            assert!(images.len() <= limit);
            seen.extend(keys_of(&page).into_iter().map(str::to_owned));
            match page.get("next").and_then(Value::as_str) {
                Some(cursor) => {
                    assert_eq!(images.len(), limit, "only the last page is short");
                    query = format!("limit={limit}&cursor={cursor}");
                }
                None => break,
            }
        }
        assert_eq!(seen, newest_first, "limit {limit}");
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), COUNT as usize);
        assert_eq!(pages, (COUNT as usize).div_ceil(limit));
    }
    // Default limit: the newest 100.
    let (_, page) = json(&app.handle(get("")).await);
    let first_page = keys_of(&page);
    assert_eq!(
        first_page,
        newest_first[..100]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
}

/// `MAX_IMAGES=3`: three uploads go through; the fourth POST is refused with 429 and the
/// documented JSON error; objects outside `images/` do not count.
#[tokio::test]
async fn a_full_gallery_refuses_the_next_upload() {
    let moto = Moto::start();
    let (sdk, s3, bucket) = images_bucket(&moto).await;
    let mut config = app(&sdk, &bucket).config().clone();
    config.max_images = Some(3);
    let app = cat_upload_fn::App::new(&sdk, config).unwrap();
    let http = http_client();
    let request = || post(json_value!({"contentType": "image/png", "size": PNG.len()}));
    // Outside images/: not counted. A key with a control character (put there by anyone):
    // counted, and no break of the listing (S3 sends such a key raw in XML unless asked to
    // encode it).
    put_pngs(
        &s3,
        &bucket,
        &["thumbs/not-an-upload.png", "images/0-\u{1}ctl.png"],
    )
    .await;
    for _ in 0..2 {
        let (status, upload) = json(&app.handle(request()).await);
        assert_eq!(status, 200, "{upload}");
        assert!(put_upload(&http, &upload).await.status().is_success());
    }
    let (status, refused) = json(&app.handle(request()).await);
    assert_eq!(status, 429, "{refused}");
    let (code, message) = crate::common::error_of(&refused);
    assert_eq!(code, "gallery_full");
    assert!(message.contains("maximum of 3 images"), "{message}");
}

/// A thumbnail under `thumbs/` with its image's name is listed beside it (`thumbUrl`, a
/// presigned GET of the thumbnail's own bytes), on every page; an image without one has no
/// `thumbUrl`, and nothing else of an image changes.
#[tokio::test]
async fn thumbnails_are_listed_beside_their_images() {
    let moto = Moto::start();
    let (sdk, s3, bucket) = images_bucket(&moto).await;
    put_pngs(
        &s3,
        &bucket,
        &["images/0-a.png", "images/1-b.png", "images/2-c.png"],
    )
    .await;
    let thumb = b"a thumbnail, not the original".to_vec();
    for name in ["0-a.png", "2-c.png"] {
        s3.put_object()
            .bucket(&bucket)
            .key(format!("thumbs/{name}"))
            .body(thumb.clone().into())
            .send()
            .await
            .unwrap();
    }
    let app = app(&sdk, &bucket);
    let http = http_client();
    let mut thumbs_of = Vec::new();
    let mut query = "limit=2".to_owned();
    loop {
        let (status, page) = json(&app.handle(get(&query)).await);
        assert_eq!(status, 200, "{page}");
        for image in page["images"].as_array().unwrap() {
            let key = image["key"].as_str().unwrap().to_owned();
            let Some(url) = image["thumbUrl"].as_str() else {
                thumbs_of.push((key, None));
                continue;
            };
            assert!(
                url.contains("/thumbs/") && url.contains("X-Amz-Signature="),
                "{url}"
            );
            let fetched = http.get(url).send().await.unwrap();
            assert!(
                fetched.status().is_success(),
                "GET {url}: {}",
                fetched.status()
            );
            let body = fetched.bytes().await.unwrap().to_vec();
            thumbs_of.push((key, Some(body)));
        }
        match page["next"].as_str() {
            Some(next) => query = format!("limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(
        thumbs_of,
        [
            ("images/0-a.png".to_owned(), Some(thumb.clone())),
            ("images/1-b.png".to_owned(), None),
            ("images/2-c.png".to_owned(), Some(thumb)),
        ]
    );
    // A stack that makes thumbnails says so of an image whose thumbnail is not made yet.
    let mut config = app.config().clone();
    config.thumbnails = true;
    let app = cat_upload_fn::App::new(&sdk, config).unwrap();
    let (_, page) = json(&app.handle(get("limit=3")).await);
    let pending: Vec<&Value> = page["images"].as_array().unwrap().iter().collect();
    assert!(pending[1]["thumbUrl"].is_null() && pending[1].get("thumbUrl").is_some());
    assert!(pending[0]["thumbUrl"].is_string() && pending[2]["thumbUrl"].is_string());
}
