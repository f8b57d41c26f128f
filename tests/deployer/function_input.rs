//! Bad requests to the Function URL, end to end through `catup dev` (a real HTTP request,
//! the v2.0 event, lambda_http, the handler): each gets its status, a JSON error that says
//! what to send, and the Function URL's CORS header, never a presigned URL.

use serde_json::Value;

use crate::dev::Dev;

struct Answer {
    status: u16,
    body: Value,
    allow_origin: Vec<String>,
}

async fn post(dev: &Dev, body: Vec<u8>) -> Answer {
    let origin = dev.url("website_url").trim_end_matches('/').to_owned();
    let response = reqwest::Client::new()
        .post(dev.url("function_url"))
        .header("origin", &origin)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let allow_origin = response
        .headers()
        .get_all("access-control-allow-origin")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
    Answer {
        status,
        body,
        allow_origin,
    }
}

/// POSTs `body` and asserts the status, the error code and words of its message.
async fn refused(body: impl Into<Vec<u8>>, status: u16, code: &str, says: &str) {
    let dev = Dev::start(&catup_testkit::unique_name("i"), None).unwrap();
    let answer = post(&dev, body.into()).await;
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], code, "{}", answer.body);
    let message = answer.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{message:?} should say {says:?}");
    assert!(answer.body.get("uploadUrl").is_none());
    let origin = dev.url("website_url").trim_end_matches('/').to_owned();
    assert_eq!(
        answer.allow_origin,
        vec![origin],
        "one allow-origin, added by the URL"
    );
}

#[tokio::test]
async fn huge_body() {
    let body = format!(
        r#"{{"contentType":"image/png","pad":"{}"}}"#,
        "x".repeat(64 * 1024)
    );
    refused(body, 413, "body_too_large", "send only").await;
}

#[tokio::test]
async fn non_utf8_body() {
    refused(
        vec![0xff, 0xfe, 0x7b, 0x00],
        400,
        "bad_request",
        "JSON body",
    )
    .await;
}

/// S3 enforces the upload limit only through the signed content-length: no size, no URL.
#[tokio::test]
async fn size_missing() {
    refused(
        r#"{"contentType":"image/png"}"#,
        400,
        "bad_request",
        "size is missing",
    )
    .await;
}

#[tokio::test]
async fn size_zero() {
    refused(
        r#"{"contentType":"image/png","size":0}"#,
        400,
        "bad_request",
        "from 1 to",
    )
    .await;
}

#[tokio::test]
async fn size_negative() {
    refused(
        r#"{"contentType":"image/png","size":-5}"#,
        400,
        "bad_request",
        "got -5",
    )
    .await;
}

#[tokio::test]
async fn size_over_the_limit() {
    refused(
        r#"{"contentType":"image/png","size":10485761}"#,
        413,
        "too_large",
        "10485760",
    )
    .await;
}

#[tokio::test]
async fn content_type_with_parameters() {
    refused(
        r#"{"contentType":"image/png; charset=binary"}"#,
        415,
        "unsupported_media_type",
        "image/png",
    )
    .await;
}

#[tokio::test]
async fn content_type_that_is_not_an_image() {
    refused(
        r#"{"contentType":"text/html"}"#,
        415,
        "unsupported_media_type",
        "image/jpeg",
    )
    .await;
}

/// Odd casing is the same media type: accepted, and signed in its canonical form.
#[tokio::test]
async fn content_type_in_odd_casing_is_normalised() {
    let dev = Dev::start(&catup_testkit::unique_name("i"), None).unwrap();
    let answer = post(&dev, br#"{"contentType":"Image/PNG","size":3}"#.to_vec()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["contentType"], "image/png");
    assert_eq!(answer.body["headers"]["content-type"], "image/png");
    assert!(answer.body["key"].as_str().unwrap().ends_with(".png"));
}
