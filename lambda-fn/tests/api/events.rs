//! Every route and every error, driven by real Function URL v2.0 events.

use crate::common::{app_without_s3, error_of, event, json};

const BUCKET: &str = "cat-upload-images-123456789012-us-east-1";

#[tokio::test]
async fn post_returns_a_presigned_put_for_a_server_chosen_key() {
    let app = app_without_s3(BUCKET).await;
    let (status, body) = json(&app.handle(event("post-upload-png.json")).await);
    assert_eq!(status, 200, "{body}");
    let key = body["key"].as_str().unwrap();
    let name = key.strip_prefix("images/").expect("key under images/");
    // <13-digit inverted ms>-<uuid v4>.png
    let (inverted, rest) = name.split_once('-').unwrap();
    assert_eq!(inverted.len(), 13);
    assert!(inverted.bytes().all(|b| b.is_ascii_digit()));
    let uuid = rest.strip_suffix(".png").unwrap();
    assert_eq!(uuid::Uuid::parse_str(uuid).unwrap().get_version_num(), 4);

    assert_eq!(body["contentType"], "image/png");
    assert_eq!(body["method"], "PUT");
    assert_eq!(body["expiresIn"], 300);
    assert_eq!(
        body["headers"],
        serde_json::json!({"content-length": "123456", "content-type": "image/png"})
    );
    let url = body["uploadUrl"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(
        url.contains(&format!("/{BUCKET}/{key}?x-id=PutObject&")),
        "{url}"
    );
    assert!(url.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"));
    assert!(url.contains("X-Amz-Expires=300&"));
}

/// Without a size the PUT's length could not be signed, and S3 would take any length.
#[tokio::test]
async fn post_without_size_is_refused() {
    let app = app_without_s3(BUCKET).await;
    let response = app.handle(event("post-upload-no-size.json")).await;
    let (status, body) = json(&response);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("size is missing"));
    assert!(body.get("uploadUrl").is_none());
}

#[tokio::test]
async fn post_with_a_base64_encoded_body_is_decoded() {
    let app = app_without_s3(BUCKET).await;
    let (status, body) = json(&app.handle(event("post-upload-base64.json")).await);
    assert_eq!(status, 200, "{body}");
    assert!(body["key"].as_str().unwrap().ends_with(".webp"));
    assert_eq!(body["headers"]["content-length"], "2048");
}

#[tokio::test]
async fn each_key_is_new() {
    let app = app_without_s3(BUCKET).await;
    let mut keys = std::collections::HashSet::new();
    for _ in 0..50 {
        let (_, body) = json(&app.handle(event("post-upload-png.json")).await);
        assert!(keys.insert(body["key"].as_str().unwrap().to_owned()));
    }
}

#[tokio::test]
async fn bad_posts_get_their_status_and_a_json_error() {
    let app = app_without_s3(BUCKET).await;
    let cases = [
        ("post-text-plain.json", 415, "unsupported_media_type"),
        ("post-too-large.json", 413, "too_large"),
        ("post-malformed.json", 400, "bad_request"),
        ("post-no-body.json", 400, "bad_request"),
        ("post-non-utf8.json", 400, "bad_request"),
        ("post-huge-body.json", 413, "body_too_large"),
    ];
    for (fixture, want_status, want_code) in cases {
        let (status, body) = json(&app.handle(event(fixture)).await);
        assert_eq!(
            (status, error_of(&body).0.as_str()),
            (want_status, want_code),
            "{fixture}"
        );
    }
    let (_, body) = json(&app.handle(event("post-text-plain.json")).await);
    let (_, message) = error_of(&body);
    assert!(
        message.contains("image/jpeg, image/png, image/gif, image/webp"),
        "{message}"
    );
}

#[tokio::test]
async fn bad_gallery_queries_are_400() {
    let app = app_without_s3(BUCKET).await;
    for fixture in ["get-bad-limit.json", "get-bad-cursor.json"] {
        let (status, body) = json(&app.handle(event(fixture)).await);
        assert_eq!(
            (status, error_of(&body).0.as_str()),
            (400, "bad_request"),
            "{fixture}"
        );
    }
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let app = app_without_s3(BUCKET).await;
    for fixture in ["delete.json", "options-preflight.json"] {
        let response = app.handle(event(fixture)).await;
        assert_eq!(response.headers()["allow"], "GET, POST");
        let (status, body) = json(&response);
        assert_eq!(
            (status, error_of(&body).0.as_str()),
            (405, "method_not_allowed")
        );
    }
}

#[tokio::test]
async fn storage_failure_is_502() {
    let app = app_without_s3(BUCKET).await;
    let (status, body) = json(&app.handle(event("get-gallery.json")).await);
    assert_eq!(
        (status, error_of(&body).0.as_str()),
        (502, "storage_unavailable")
    );
}
