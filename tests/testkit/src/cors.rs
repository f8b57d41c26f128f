//! What the function's own responses must not carry.

use std::fmt::Display;

/// Asserts that no `Access-Control-*` header is among `headers`: the Function URL adds CORS
/// itself, and the function adding it too gives browsers two values, which they refuse.
/// `answer` names the request in the failure message.
#[track_caller]
pub fn assert_no_cors_headers(headers: &http::HeaderMap, answer: impl Display) {
    let cors: Vec<_> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(
        cors.is_empty(),
        "{answer}: the function set {cors:?} itself; the Function URL adds CORS, both together break browsers"
    );
}
