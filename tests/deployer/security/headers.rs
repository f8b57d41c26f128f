//! The function's own headers (without the Function URL's CORS layer).

use catup_testkit::cors::assert_no_cors_headers;

use crate::common::World;

#[tokio::test]
async fn function_sets_no_access_control_headers_itself() {
    let w = World::new();
    let report = w.deploy();
    let origin = report["website_url"]
        .as_str()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let sdk = w.sdk().await;
    let app_for = |bucket: String| {
        let config =
            cat_upload_fn::Config::from_lookup(|k| (k == "IMAGES_BUCKET").then(|| bucket.clone()))
                .unwrap();
        cat_upload_fn::App::new(&sdk, config).unwrap()
    };
    let app = app_for(w.images_bucket());
    let request = |method: &str, uri: &str, body: &str| {
        http::Request::builder()
            .method(method)
            .uri(uri)
            .header("origin", origin.as_str())
            .header("content-type", "application/json")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(body.as_bytes().to_vec())
            .unwrap()
    };
    let cases = [
        ("POST", "/", r#"{"contentType":"image/png","size":10}"#, 200),
        ("GET", "/", "", 200),
        ("GET", "/?limit=5", "", 200),
        ("OPTIONS", "/", "", 405),
        ("DELETE", "/", "", 405),
        ("POST", "/", "{", 400),
        ("POST", "/", r#"{"contentType":"text/html"}"#, 415),
        ("GET", "/?limit=0", "", 400),
    ];
    for (method, uri, body, status) in cases {
        let response = app.handle(request(method, uri, body)).await;
        assert_eq!(
            response.status(),
            status,
            "{method} {uri} {body}: {}",
            response.body()
        );
        assert!(
            response.headers().contains_key("content-type"),
            "{method} {uri}: {:?}",
            response.headers()
        );
        assert_no_cors_headers(response.headers(), format!("{method} {uri} {body}"));
    }

    // A server-side error too: the store cannot be listed.
    let broken = app_for(format!("{}-missing", w.images_bucket()));
    let response = broken.handle(request("GET", "/", "")).await;
    assert!(response.status().is_server_error(), "{}", response.body());
    assert_no_cors_headers(response.headers(), "GET / with the images bucket missing");
}
