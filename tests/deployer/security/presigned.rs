//! Presigned URLs from the function behind `catup dev`: SigV4, short-lived, signing what
//! bounds an upload, recomputed by the testkit's independent checker.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use catup_testkit::sigv4::{amz_date_unix, Presigned};
use catup_testkit::TEST_REGION;
use serde_json::{json, Value};

use crate::dev::Dev;

/// moto's (and `catup dev`'s) test secret: the presigned URLs are signed with it.
const TEST_SECRET: &str = "testing";
const TEST_ACCESS_KEY: &str = "testing";
const MAX_URL_TTL: u64 = 900;

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The properties every presigned URL of the function has: SigV4 (not V2), signed by the
/// test credentials for us-east-1/s3 today, dated now, living at most 900 s and exactly the
/// answer's `expiresIn`, and addressing `images_bucket`'s `images/` prefix.
#[track_caller]
fn assert_short_lived_sigv4(url: &Presigned, expires_in: &Value, images_bucket: &str) {
    assert_eq!(url.param("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    for v2 in ["AWSAccessKeyId", "Signature", "Expires"] {
        assert!(!url.has(v2), "SigV2 parameter {v2} in the URL");
    }
    let date_time = url.param("X-Amz-Date");
    assert_eq!(
        url.param("X-Amz-Credential"),
        format!(
            "{TEST_ACCESS_KEY}/{}/{TEST_REGION}/s3/aws4_request",
            &date_time[..8]
        )
    );
    let skew = (amz_date_unix(date_time) - now_unix()).abs();
    assert!(skew <= 300, "X-Amz-Date {date_time} is {skew} s from now");
    let expires: u64 = url.param("X-Amz-Expires").parse().unwrap();
    assert!(
        (1..=MAX_URL_TTL).contains(&expires),
        "X-Amz-Expires {expires} > {MAX_URL_TTL}"
    );
    assert_eq!(
        expires_in.as_u64(),
        Some(expires),
        "expiresIn says what the URL does"
    );
    assert!(
        url.path.starts_with(&format!("/{images_bucket}/images/")),
        "the URL addresses {}, not {images_bucket}/images/",
        url.path
    );
    assert!(
        !url.path.contains(".."),
        "a dot-dot segment in {}",
        url.path
    );
}

// ---------------------------------------------------------------------------------------------
// Talking to the function behind `catup dev`.

pub(super) async fn post(dev: &Dev, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(dev.url("function_url"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap()
}

async fn gallery(dev: &Dev) -> Value {
    let response = reqwest::get(dev.url("function_url")).await.unwrap();
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap()
}

pub(super) fn start_dev() -> Dev {
    Dev::start(&catup_testkit::unique_name("s"), None).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn presigned_put_url_is_sigv4_expires_within_900s_and_signs_type_and_length() {
    let dev = start_dev();
    let images = dev.url("images_bucket").to_owned();

    // With a size: content-type and content-length are both signed, with the declared values.
    let answer = post(&dev, json!({"contentType": "image/png", "size": 1234})).await;
    assert_eq!(answer["method"], "PUT");
    let url = Presigned::parse(answer["uploadUrl"].as_str().unwrap());
    assert_short_lived_sigv4(&url, &answer["expiresIn"], &images);
    let signed = url.signed_headers();
    for required in ["content-type", "content-length", "host"] {
        assert!(signed.contains(required), "{required} unsigned: {signed:?}");
    }
    // The client is told to send every signed header, with the values that were signed.
    let told = answer["headers"].as_object().expect("headers to send");
    for name in signed.iter().filter(|n| **n != "host") {
        assert!(
            told.contains_key(*name),
            "{name} signed but not in {told:?}"
        );
    }
    assert_eq!(told["content-type"], "image/png");
    assert_eq!(told["content-length"], "1234");
    let mut sent: Vec<(&str, &str)> =
        vec![("content-type", "image/png"), ("content-length", "1234")];
    for (name, value) in told {
        if !sent.iter().any(|(n, _)| n == name) {
            sent.push((name.as_str(), value.as_str().unwrap()));
        }
    }
    let signature = url.param("X-Amz-Signature");
    assert_eq!(
        url.expected_signature("PUT", &sent, TEST_SECRET, TEST_REGION),
        signature,
        "independent SigV4 of the PUT for image/png, 1234 bytes"
    );
    // The recomputation can tell: a longer life, another length or type, another verb.
    assert_ne!(
        url.with_param("X-Amz-Expires", "3600").expected_signature(
            "PUT",
            &sent,
            TEST_SECRET,
            TEST_REGION
        ),
        signature
    );
    let mut bigger = sent.clone();
    bigger[1] = ("content-length", "999999");
    assert_ne!(
        url.expected_signature("PUT", &bigger, TEST_SECRET, TEST_REGION),
        signature
    );
    let mut html = sent.clone();
    html[0] = ("content-type", "text/html");
    assert_ne!(
        url.expected_signature("PUT", &html, TEST_SECRET, TEST_REGION),
        signature
    );
    assert_ne!(
        url.expected_signature("GET", &sent, TEST_SECRET, TEST_REGION),
        signature
    );

    // Without a size there is no length to sign: refused, never an unbounded upload URL.
    let unsized_post = reqwest::Client::new()
        .post(dev.url("function_url"))
        .header("content-type", "application/json")
        .body(json!({"contentType": "image/png"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(unsized_post.status(), 400);

    // The deployed function cannot be configured past 900 s either.
    let config = catup_testkit::sdk_config_at(dev.url("endpoint_url"), TEST_REGION).await;
    let function = aws_sdk_lambda::Client::new(&config)
        .get_function_configuration()
        .function_name(format!("{}-api", dev.url("stack")))
        .send()
        .await
        .unwrap();
    let ttl = function
        .environment()
        .and_then(|e| e.variables())
        .and_then(|v| v.get("URL_TTL_SECONDS"))
        .map(|t| t.parse::<u64>().expect("URL_TTL_SECONDS is a number"));
    assert!(
        ttl.is_none_or(|t| t <= MAX_URL_TTL),
        "deployed URL_TTL_SECONDS {ttl:?}"
    );
}

#[tokio::test]
async fn presigned_get_url_is_sigv4_expires_within_900s_and_signs_only_host() {
    let dev = start_dev();
    let images = dev.url("images_bucket").to_owned();
    let answer = post(&dev, json!({"contentType": "image/png", "size": 8})).await;
    let key = answer["key"].as_str().unwrap().to_owned();
    let put = reqwest::Client::new()
        .put(answer["uploadUrl"].as_str().unwrap())
        .header("content-type", "image/png")
        .body(b"\x89PNG\r\n\x1a\n".to_vec())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{:?}", put.text().await);

    let page = gallery(&dev).await;
    let images_listed = page["images"].as_array().expect("images");
    let [image] = images_listed.as_slice() else {
        panic!("one image: {page:#}")
    };
    assert_eq!(image["key"], key.as_str());
    let url = Presigned::parse(image["url"].as_str().unwrap());
    assert_short_lived_sigv4(&url, &page["expiresIn"], &images);
    assert_eq!(url.path, format!("/{images}/{key}"));
    // An <img src> sends no chosen headers: only host may be signed.
    assert_eq!(url.signed_headers(), BTreeSet::from(["host"]));
    let signature = url.param("X-Amz-Signature");
    assert_eq!(
        url.expected_signature("GET", &[], TEST_SECRET, TEST_REGION),
        signature,
        "independent SigV4 of the GET"
    );
    assert_ne!(
        url.with_param("X-Amz-Expires", "86400").expected_signature(
            "GET",
            &[],
            TEST_SECRET,
            TEST_REGION
        ),
        signature
    );
    assert_ne!(
        url.expected_signature("GET", &[], "not-the-secret", TEST_REGION),
        signature
    );
}
