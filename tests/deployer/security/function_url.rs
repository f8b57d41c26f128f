//! The Function URL's CORS: the site's origin exactly, GET and POST only.

use std::collections::BTreeSet;

use super::assert_none;
use crate::common::World;

/// The origin a browser sends for the S3-hosted site: scheme and host, no trailing slash.
pub(super) fn site_origin(w: &World) -> String {
    format!(
        "http://{}.s3-website-{}.amazonaws.com",
        w.site_bucket(),
        w.region
    )
}

/// How the Function URL's CORS differs from "the site origin exactly, GET and POST only".
pub(super) async fn function_url_cors_excess(w: &World) -> Vec<String> {
    let url = w.function_url_config().await;
    let Some(cors) = url.cors() else {
        return vec!["the Function URL has no CORS".to_owned()];
    };
    let mut problems = Vec::new();
    let origin = site_origin(w);
    if cors.allow_origins() != [origin.as_str()] {
        problems.push(format!(
            "origins {:?}, not exactly [{origin:?}]",
            cors.allow_origins()
        ));
    }
    if cors.allow_origins().iter().any(|o| o.contains('*')) {
        problems.push(format!("wildcard origin in {:?}", cors.allow_origins()));
    }
    let methods: BTreeSet<String> = cors
        .allow_methods()
        .iter()
        .map(|m| m.to_ascii_uppercase())
        .collect();
    if methods != BTreeSet::from(["GET".to_owned(), "POST".to_owned()]) {
        problems.push(format!("methods {methods:?}, not GET and POST"));
    }
    if cors.allow_headers().iter().any(|h| h == "*") {
        problems.push(format!("any header allowed: {:?}", cors.allow_headers()));
    }
    if cors.allow_credentials() == Some(true) {
        problems.push("credentials allowed across origins".to_owned());
    }
    problems
}

#[tokio::test]
async fn function_url_cors_allows_only_the_site_origin_with_get_and_post() {
    let w = World::new();
    let report = w.deploy();
    assert_eq!(report["website_url"], format!("{}/", site_origin(&w)));
    assert_none(
        function_url_cors_excess(&w).await,
        "the Function URL's CORS is wider than the site",
    );
}
