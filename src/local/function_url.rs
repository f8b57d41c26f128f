//! A local stand-in for a Lambda Function URL: each HTTP request becomes the v2.0 event a
//! Function URL sends, parsed by lambda_http exactly as in Lambda and handled by the same
//! `cat_upload_fn` library; CORS is answered from the stack's Function URL settings, the way
//! AWS does it (preflight by the URL, one allow-origin header added to the response).

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::StatusCode;
use http_body_util::Full;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::function_logs::FunctionLogs;
use super::http::{text, Body, Request};
use crate::resources::function_url::UrlCors;

/// Lambda's limit on a synchronous invocation's payload.
pub const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;

pub struct LocalFunctionUrl {
    app: cat_upload_fn::App,
    cors: UrlCors,
    /// host:port of this endpoint, as the event's domainName.
    domain: String,
    /// Where the function's log lines go: stderr, as `catup logs` prints them.
    logs: FunctionLogs,
}

impl LocalFunctionUrl {
    pub fn new(app: cat_upload_fn::App, cors: UrlCors, domain: String) -> LocalFunctionUrl {
        LocalFunctionUrl {
            app,
            cors,
            domain,
            // As Lambda sends the function's lines to CloudWatch, the stand-in shows them.
            logs: FunctionLogs::to_stderr(),
        }
    }

    pub async fn respond(&self, request: Request) -> http::Response<Body> {
        if is_preflight(&request) {
            return match preflight_headers(&self.cors, request.headers()) {
                Some(headers) => {
                    with_headers(http::Response::new(Full::new(Bytes::new())), headers)
                }
                None => text(
                    StatusCode::FORBIDDEN,
                    "CORS preflight refused for this origin",
                ),
            };
        }
        let origin = allowed_origin(&self.cors, request.headers()).map(str::to_owned);
        let event = event(&request, &self.domain, OffsetDateTime::now_utc());
        let parsed = match lambda_http::request::from_str(&event.to_string()) {
            Ok(parsed) => parsed,
            Err(e) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("not a Function URL request: {e}"),
                )
            }
        };
        let answer = self.logs.invoke(parsed, |r| self.app.handle(r)).await;
        let (parts, body) = answer.into_parts();
        let mut response = http::Response::from_parts(parts, Full::new(Bytes::from(body)));
        if let Some(origin) = origin {
            // Added here, once: the function itself sets no Access-Control-* header.
            response.headers_mut().append(
                http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_str(&origin).expect("origin came from a header"),
            );
            response
                .headers_mut()
                .append(http::header::VARY, HeaderValue::from_static("Origin"));
        }
        response
    }
}

fn is_preflight(request: &Request) -> bool {
    request.method() == http::Method::OPTIONS
        && request.headers().contains_key(http::header::ORIGIN)
        && request
            .headers()
            .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
}

fn allowed_origin<'a>(cors: &UrlCors, headers: &'a HeaderMap) -> Option<&'a str> {
    let origin = headers.get(http::header::ORIGIN)?.to_str().ok()?;
    cors.origins
        .iter()
        .any(|allowed| allowed == "*" || allowed == origin)
        .then_some(origin)
}

/// The preflight answer's headers, or `None` when the origin, method or a header is not
/// allowed.
pub fn preflight_headers(cors: &UrlCors, headers: &HeaderMap) -> Option<Vec<(HeaderName, String)>> {
    let origin = allowed_origin(cors, headers)?;
    let method = headers
        .get(http::header::ACCESS_CONTROL_REQUEST_METHOD)?
        .to_str()
        .ok()?
        .to_ascii_uppercase();
    if !cors.methods.iter().any(|m| *m == method || m == "*") {
        return None;
    }
    let requested = headers
        .get(http::header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let all_allowed = requested
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .all(|h| cors.headers.iter().any(|a| *a == h || a == "*"));
    if !all_allowed {
        return None;
    }
    let mut out = vec![
        (http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.to_owned()),
        (
            http::header::ACCESS_CONTROL_ALLOW_METHODS,
            cors.methods.join(", "),
        ),
        (
            http::header::ACCESS_CONTROL_ALLOW_HEADERS,
            cors.headers.join(", "),
        ),
        (http::header::VARY, "Origin".to_owned()),
    ];
    if let Some(max_age) = cors.max_age {
        out.push((http::header::ACCESS_CONTROL_MAX_AGE, max_age.to_string()));
    }
    Some(out)
}

fn with_headers(
    mut response: http::Response<Body>,
    headers: Vec<(HeaderName, String)>,
) -> http::Response<Body> {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// The Function URL payload (version 2.0) for a request: lower-case headers with repeated
/// values joined by commas, cookies apart, the body as text or base64.
pub fn event(request: &Request, domain: &str, now: OffsetDateTime) -> Value {
    let (headers, cookies) = event_headers(request);
    let raw_query = request.uri().query().unwrap_or("");
    let mut query = Map::new();
    for (key, value) in form_urlencoded_pairs(raw_query) {
        join_repeated(&mut query, key, value);
    }
    let (body, is_base64) = match std::str::from_utf8(request.body()) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => {
            use base64::Engine;
            (
                base64::engine::general_purpose::STANDARD.encode(request.body()),
                true,
            )
        }
    };
    let method = request.method().as_str();
    let path = request.uri().path();
    let user_agent = request
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "catupdev",
            "domainName": domain,
            "domainPrefix": "catupdev",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": user_agent,
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": request_time(now),
            "timeEpoch": (now.unix_timestamp_nanos() / 1_000_000) as i64,
        },
        "isBase64Encoded": is_base64,
    });
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    if !request.body().is_empty() {
        event["body"] = Value::from(body);
    }
    event
}

/// Lower-case headers with repeated values joined by commas, and the cookies apart.
fn event_headers(request: &Request) -> (Map<String, Value>, Vec<Value>) {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in request.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(value.split("; ").map(|c| Value::from(c.to_owned())));
            continue;
        }
        join_repeated(&mut headers, name.as_str().to_owned(), value);
    }
    (headers, cookies)
}

/// Adds `value` under `key`, after a comma when the key is already there.
fn join_repeated(map: &mut Map<String, Value>, key: String, value: String) {
    match map.get_mut(&key) {
        Some(Value::String(existing)) => {
            existing.push(',');
            existing.push_str(&value);
        }
        _ => {
            map.insert(key, Value::from(value));
        }
    }
}

/// `24/Nov/2026:10:15:00 +0000`, the requestContext.time format.
fn request_time(now: OffsetDateTime) -> String {
    let month = &format!("{:?}", now.month())[..3];
    format!(
        "{:02}/{month}/{}:{:02}:{:02}:{:02} +0000",
        now.day(),
        now.year(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors() -> UrlCors {
        UrlCors {
            origins: vec!["http://localhost:8080".into()],
            methods: vec!["GET".into(), "POST".into()],
            headers: vec!["content-type".into()],
            max_age: Some(300),
            allow_credentials: false,
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn preflight_allows_only_the_configured_origin_methods_and_headers() {
        let ok = headers(&[
            ("origin", "http://localhost:8080"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "Content-Type"),
        ]);
        let answer = preflight_headers(&cors(), &ok).expect("allowed");
        assert!(answer.contains(&(
            http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
            "http://localhost:8080".into()
        )));
        assert!(answer.contains(&(http::header::ACCESS_CONTROL_MAX_AGE, "300".into())));
        for refused in [
            headers(&[
                ("origin", "http://evil.example"),
                ("access-control-request-method", "POST"),
            ]),
            headers(&[
                ("origin", "http://localhost:8080"),
                ("access-control-request-method", "DELETE"),
            ]),
            headers(&[
                ("origin", "http://localhost:8080"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "x-api-key"),
            ]),
        ] {
            assert_eq!(preflight_headers(&cors(), &refused), None, "{refused:?}");
        }
    }

    #[test]
    fn requests_become_function_url_events_that_lambda_http_parses() {
        let request = http::Request::builder()
            .method("POST")
            .uri("/?limit=5&limit=6&x=a%20b")
            .header("Content-Type", "application/json")
            .header("Origin", "http://localhost:8080")
            .header("Cookie", "a=1; b=2")
            .body(Bytes::from_static(br#"{"contentType":"image/png"}"#))
            .unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_795_515_300).unwrap();
        let event = event(&request, "127.0.0.1:9000", now);
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["rawQueryString"], "limit=5&limit=6&x=a%20b");
        assert_eq!(event["queryStringParameters"]["limit"], "5,6");
        assert_eq!(event["queryStringParameters"]["x"], "a b");
        assert_eq!(event["headers"]["content-type"], "application/json");
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(event["requestContext"]["http"]["method"], "POST");
        assert_eq!(
            event["requestContext"]["time"],
            "24/Nov/2026:10:15:00 +0000"
        );
        assert_eq!(event["requestContext"]["timeEpoch"], 1_795_515_300_000i64);
        assert_eq!(event["isBase64Encoded"], false);
        let parsed = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(parsed.method(), http::Method::POST);
        assert_eq!(parsed.body().as_ref(), br#"{"contentType":"image/png"}"#);

        let binary = http::Request::builder()
            .method("POST")
            .uri("/")
            .body(Bytes::from_static(&[0xff, 0xfe, 0x00]))
            .unwrap();
        let event = super::event(&binary, "h", now);
        assert_eq!(event["isBase64Encoded"], true);
        let parsed = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(parsed.body().as_ref(), [0xff, 0xfe, 0x00]);
    }
}
