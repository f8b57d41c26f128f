use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use cat_upload_fn::{App, Config};
use catup_testkit::cors::assert_no_cors_headers;
use http::{Request, Response};
use lambda_http::Body;
use serde_json::Value;

/// A Function URL v2.0 event from `tests/data`, parsed the way the Lambda runtime does.
pub fn event(name: &str) -> Request<Body> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let json = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    lambda_http::request::from_str(&json).unwrap_or_else(|e| panic!("parse {name}: {e}"))
}

pub fn app(sdk: &SdkConfig, bucket: &str) -> App {
    let config = Config {
        images_bucket: bucket.to_owned(),
        url_ttl_seconds: 300,
        max_upload_bytes: 10 * 1024 * 1024,
        max_images: None,
        thumbnails: false,
    };
    App::new(sdk, config).expect("app from test SDK config")
}

/// An app whose S3 is a closed loopback port and which does not retry: S3 calls fail fast.
pub async fn app_without_s3(bucket: &str) -> App {
    let closed = format!("http://127.0.0.1:{}", catup_testkit::free_port());
    let sdk = catup_testkit::sdk_config_at(&closed, "us-east-1")
        .await
        .into_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    app(&sdk, bucket)
}

/// Status and parsed JSON body; also asserts what every response must satisfy.
pub fn json(response: &Response<String>) -> (u16, Value) {
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "every answer is JSON"
    );
    assert_no_cors_headers(
        response.headers(),
        format!("the answer {} {}", response.status(), response.body()),
    );
    let body = serde_json::from_str(response.body()).expect("body is JSON");
    (response.status().as_u16(), body)
}

/// Asserts an error body `{"error": {"code", "message"}}` and returns (code, message).
pub fn error_of(body: &Value) -> (String, String) {
    let error = &body["error"];
    let code = error["code"].as_str().expect("error.code").to_owned();
    let message = error["message"].as_str().expect("error.message").to_owned();
    assert!(!message.is_empty());
    (code, message)
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}
