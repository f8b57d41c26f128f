//! A local stand-in for the S3 website endpoint (moto does not serve one): GET / and every
//! path from the site bucket's objects, with their Content-Type and Cache-Control, and the
//! error document (index.html) with 404 for a missing key.

use http::StatusCode;
use http_body_util::Full;

use super::http::{text, Body, Request};
use crate::resources::site_bucket::INDEX_DOCUMENT;

pub struct LocalWebsite {
    s3: aws_sdk_s3::Client,
    bucket: String,
    /// `localhost:<port>`: the one origin the stack's CORS rules allow.
    host: String,
}

impl LocalWebsite {
    pub fn new(s3: aws_sdk_s3::Client, bucket: String, host: String) -> LocalWebsite {
        LocalWebsite { s3, bucket, host }
    }

    pub async fn respond(&self, request: Request) -> http::Response<Body> {
        // A page opened as http://127.0.0.1:<port> would upload from an origin the CORS
        // rules refuse: send the browser to the one origin they allow.
        if let Some(location) = redirect_to(&self.host, &request) {
            return http::Response::builder()
                .status(StatusCode::PERMANENT_REDIRECT)
                .header(http::header::LOCATION, location)
                .body(Full::new(Default::default()))
                .expect("static redirect");
        }
        if request.method() != http::Method::GET && request.method() != http::Method::HEAD {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "the website serves GET only",
            );
        }
        let key = key_for_path(request.uri().path());
        match self.object(&key).await {
            Some(found) => found,
            None => match self.object(INDEX_DOCUMENT).await {
                Some(mut error_document) => {
                    *error_document.status_mut() = StatusCode::NOT_FOUND;
                    error_document
                }
                None => text(StatusCode::NOT_FOUND, "no such page"),
            },
        }
    }

    async fn object(&self, key: &str) -> Option<http::Response<Body>> {
        let object = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .ok()?;
        let mut response = http::Response::builder().status(StatusCode::OK);
        if let Some(content_type) = object.content_type() {
            response = response.header(http::header::CONTENT_TYPE, content_type);
        }
        if let Some(cache_control) = object.cache_control() {
            response = response.header(http::header::CACHE_CONTROL, cache_control);
        }
        let body = object.body.collect().await.ok()?.into_bytes();
        response.body(Full::new(body)).ok()
    }
}

/// Where to send a request that did not come for `host` (by its Host header).
fn redirect_to(host: &str, request: &Request) -> Option<String> {
    let asked = request.headers().get(http::header::HOST)?.to_str().ok()?;
    if asked.eq_ignore_ascii_case(host) {
        return None;
    }
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    Some(format!("http://{host}{path}"))
}

/// S3 website rules: `/` and `/dir/` serve the index document; other paths are keys.
pub fn key_for_path(path: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let key = decoded.trim_start_matches('/');
    if key.is_empty() || key.ends_with('/') {
        format!("{key}{INDEX_DOCUMENT}")
    } else {
        key.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_hosts_are_sent_to_localhost() {
        let request = |host: &str| {
            http::Request::builder()
                .uri("/app.js?v=2")
                .header(http::header::HOST, host)
                .body(bytes::Bytes::new())
                .unwrap()
        };
        assert_eq!(
            redirect_to("localhost:8080", &request("localhost:8080")),
            None
        );
        assert_eq!(
            redirect_to("localhost:8080", &request("127.0.0.1:8080")).as_deref(),
            Some("http://localhost:8080/app.js?v=2")
        );
    }

    #[test]
    fn paths_map_to_keys_like_the_s3_website_endpoint() {
        assert_eq!(key_for_path("/"), "index.html");
        assert_eq!(key_for_path("/app.js"), "app.js");
        assert_eq!(key_for_path("/img/"), "img/index.html");
        assert_eq!(key_for_path("/a%20b.png"), "a b.png");
    }
}
