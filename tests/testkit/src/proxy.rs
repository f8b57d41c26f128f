//! An HTTP proxy on loopback between catup and moto_server that counts requests and, by its
//! policy, answers some of them with the faults AWS really sends (500, 503 SlowDown, 429 /
//! Throttling, a dropped connection), or kills the client at its k-th request. Faults are
//! drawn from a seeded generator, so a failing run can be replayed. A script answers chosen
//! calls the way real AWS does where moto does not (IAM propagation, S3's eventual
//! consistency, Lambda's conflicts), each in its service's own error protocol.
//!
//! With any policy, the proxy can hold every call for a fixed delay (what a laptop sees
//! talking to its region) and counts the peak number of requests in flight at once.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use crate::chain::Span;

/// What the proxy does to the requests it sees.
#[derive(Debug, Clone)]
pub enum Policy {
    /// Forward everything.
    Pass,
    /// Answer `per_mille` of the requests with a fault, the rest forwarded.
    Faults { seed: u64, per_mille: u32 },
    /// Answer every request for this bucket as S3 does for a bucket of another account
    /// (403 AccessDenied); moto shares bucket names across accounts without that check.
    ForeignBucket { bucket: String },
    /// SIGKILL the process whose pid is set (see [`FaultProxy::kill_target`]) when request
    /// number `nth` (1-based) arrives; that request and every later one are dropped unsent.
    KillAt { nth: usize },
    /// Answer the calls each entry matches, its first `times` matches, with its answer; the
    /// rest are forwarded. [`FaultProxy::answered`] says how often each entry answered.
    Script(Vec<Scripted>),
}

/// One scripted answer: for the first `times` calls `on` matches, answer with `answer`.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub on: On,
    pub times: usize,
    pub answer: Answer,
}

impl Scripted {
    pub fn new(on: On, times: usize, answer: Answer) -> Scripted {
        Scripted { on, times, answer }
    }
}

/// Which calls a scripted answer is for: the service (from the SigV4 scope), the HTTP
/// method, and the operation (a path, an S3 subresource, an IAM `Action=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct On {
    pub service: &'static str,
    pub method: &'static str,
    /// The exact path; `None` for any.
    pub path: Option<String>,
    /// S3's subresource query parameter (`tagging`, `policy`); `Some("")` for none at all.
    pub subresource: Option<&'static str>,
    /// The query protocol's `Action=` (IAM, STS).
    pub action: Option<&'static str>,
}

impl On {
    /// An S3 bucket call, path-style: `PUT /bucket?tagging` is `s3("PUT", bucket, "tagging")`,
    /// CreateBucket `s3("PUT", bucket, "")`.
    pub fn s3(method: &'static str, bucket: &str, subresource: &'static str) -> On {
        On {
            service: "s3",
            method,
            path: Some(format!("/{bucket}")),
            subresource: Some(subresource),
            action: None,
        }
    }

    /// A Lambda REST call by method and exact path (`/2015-03-31/functions/NAME/policy`).
    pub fn lambda(method: &'static str, path: &str) -> On {
        On {
            service: "lambda",
            method,
            path: Some(path.to_owned()),
            subresource: None,
            action: None,
        }
    }

    /// An IAM call by its action (`CreateRole`).
    pub fn iam(action: &'static str) -> On {
        On {
            service: "iam",
            method: "POST",
            path: None,
            subresource: None,
            action: Some(action),
        }
    }

    fn matches(&self, call: &Call) -> bool {
        let subresource_ok = match self.subresource {
            None => true,
            Some("") => call.query.is_empty() || call.query.starts_with("x-id="),
            Some(key) => call
                .query
                .split('&')
                .any(|pair| pair.split('=').next() == Some(key)),
        };
        self.service == call.service
            && self.method == call.method
            // Path-style S3 sends `/bucket/` for bucket calls.
            && self
                .path
                .as_ref()
                .is_none_or(|p| p.trim_end_matches('/') == call.path.trim_end_matches('/'))
            && subresource_ok
            && self
                .action
                .is_none_or(|a| call.action.as_deref() == Some(a))
    }
}

/// What a scripted call gets.
#[derive(Debug, Clone)]
pub enum Answer {
    /// AWS's error, encoded as the service encodes errors (S3 XML, IAM query XML, Lambda
    /// REST JSON with `x-amzn-ErrorType`, Logs JSON 1.1).
    Error {
        status: u16,
        code: &'static str,
        message: String,
    },
    /// The upstream's JSON answer with the values at these JSON pointers replaced (what AWS
    /// reports and moto never does, e.g. a function whose last update failed).
    Patched(Vec<(&'static str, serde_json::Value)>),
}

impl Answer {
    pub fn error(status: u16, code: &'static str, message: impl Into<String>) -> Answer {
        Answer::Error {
            status,
            code,
            message: message.into(),
        }
    }
}

/// What the proxy knows of a call.
#[derive(Debug)]
struct Call {
    service: String,
    method: String,
    path: String,
    query: String,
    action: Option<String>,
}

/// The faults, as AWS's services send them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    InternalError,
    Throttled,
    ServiceUnavailable,
    DroppedConnection,
}

const FAULTS: [Fault; 4] = [
    Fault::InternalError,
    Fault::Throttled,
    Fault::ServiceUnavailable,
    Fault::DroppedConnection,
];

#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicUsize,
    pub faults: AtomicUsize,
    /// How many calls each scripted entry answered.
    pub answered: Mutex<Vec<usize>>,
    /// Requests being handled right now and the most there ever were at once: all of them
    /// under "", and by service and method ("s3 PUT").
    pub in_flight: Mutex<HashMap<String, (usize, usize)>>,
    /// Every call, from its arrival to its answer, in the order they were answered.
    pub spans: Mutex<Vec<Span>>,
}

pub struct FaultProxy {
    port: u16,
    stats: Arc<Stats>,
    kill_target: Arc<AtomicU32>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    upstream: String,
    policy: Policy,
    delay: Duration,
    rng: Mutex<u64>,
    stats: Arc<Stats>,
    kill_target: Arc<AtomicU32>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl FaultProxy {
    /// Starts the proxy in front of `upstream` (e.g. moto's endpoint).
    pub async fn start(upstream: &str, policy: Policy) -> FaultProxy {
        FaultProxy::start_delayed(upstream, policy, Duration::ZERO).await
    }

    /// Like [`FaultProxy::start`], holding every call `delay` before it is answered: one
    /// round trip to a real region.
    pub async fn start_delayed(upstream: &str, policy: Policy, delay: Duration) -> FaultProxy {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let stats = Arc::new(Stats::default());
        if let Policy::Script(script) = &policy {
            *stats.answered.lock().unwrap() = vec![0; script.len()];
        }
        let kill_target = Arc::new(AtomicU32::new(0));
        let seed = match policy {
            Policy::Faults { seed, .. } => seed,
            _ => 1,
        };
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            policy,
            delay,
            rng: Mutex::new(seed.max(1)),
            stats: stats.clone(),
            kill_target: kill_target.clone(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let shared = shared.clone();
                        async move { shared.handle(request).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultProxy {
            port,
            stats,
            kill_target,
            task,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The pid [`Policy::KillAt`] kills.
    pub fn kill_target(&self, pid: u32) {
        self.kill_target.store(pid, Ordering::SeqCst);
    }

    pub fn requests(&self) -> usize {
        self.stats.requests.load(Ordering::SeqCst)
    }

    pub fn faults(&self) -> usize {
        self.stats.faults.load(Ordering::SeqCst)
    }

    /// The most requests that were in flight at the same time.
    pub fn peak_in_flight(&self) -> usize {
        self.peak_of("")
    }

    /// The most requests of one service and method (`("s3", "PUT")`) in flight at once.
    pub fn peak_in_flight_of(&self, service: &str, method: &str) -> usize {
        self.peak_of(&format!("{service} {method}"))
    }

    fn peak_of(&self, key: &str) -> usize {
        let in_flight = self.stats.in_flight.lock().unwrap();
        in_flight.get(key).map_or(0, |(_, peak)| *peak)
    }

    /// Every call so far, from its arrival to its answer.
    pub fn spans(&self) -> Vec<Span> {
        self.stats.spans.lock().unwrap().clone()
    }

    /// The calls so far that came one after another: see [`crate::chain`].
    pub fn calls_in_a_row(&self) -> usize {
        crate::chain::calls_in_a_row(&self.spans())
    }

    /// How many calls the `index`-th scripted entry answered.
    pub fn answered(&self, index: usize) -> usize {
        self.stats.answered.lock().unwrap()[index]
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A dropped connection: the service future fails and hyper closes the socket unanswered.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

/// Counts one request in flight (in all, and by its service and method) while it lives.
struct InFlight<'a> {
    stats: &'a Stats,
    keys: [String; 2],
}

impl<'a> InFlight<'a> {
    fn enter(stats: &'a Stats, service: &str, method: &str) -> InFlight<'a> {
        let keys = [String::new(), format!("{service} {method}")];
        let mut in_flight = stats.in_flight.lock().unwrap();
        for key in &keys {
            let (now, peak) = in_flight.entry(key.clone()).or_default();
            *now += 1;
            *peak = (*peak).max(*now);
        }
        InFlight { stats, keys }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut in_flight = self.stats.in_flight.lock().unwrap();
        for key in &self.keys {
            if let Some((now, _)) = in_flight.get_mut(key) {
                *now -= 1;
            }
        }
    }
}

impl Shared {
    async fn handle(
        &self,
        request: http::Request<Incoming>,
    ) -> Result<http::Response<Full<Bytes>>, Dropped> {
        let start = SystemTime::now();
        let service = service_of(request.headers());
        let _in_flight = InFlight::enter(&self.stats, &service, request.method().as_str());
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
        let call = Call::of(&parts, &body);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let label = call.label(&parts.headers);
        let answer = self.answer(parts, body, call).await;
        let span = Span {
            start,
            end: SystemTime::now(),
            call: label,
        };
        self.stats.spans.lock().unwrap().push(span);
        answer
    }

    async fn answer(
        &self,
        parts: http::request::Parts,
        body: Bytes,
        call: Call,
    ) -> Result<http::Response<Full<Bytes>>, Dropped> {
        let n = self.stats.requests.fetch_add(1, Ordering::SeqCst) + 1;
        match &self.policy {
            Policy::Pass => {}
            Policy::ForeignBucket { bucket } => {
                if call.path == format!("/{bucket}")
                    || call.path.starts_with(&format!("/{bucket}/"))
                {
                    return aws_error(403, "s3", "AccessDenied", "Access Denied");
                }
            }
            Policy::KillAt { nth } => {
                let nth = *nth;
                if n == nth {
                    let pid = self.kill_target.load(Ordering::SeqCst);
                    if pid != 0 {
                        let _ = std::process::Command::new("kill")
                            .args(["-KILL", &pid.to_string()])
                            .status();
                    }
                }
                if n >= nth {
                    return Err(Dropped);
                }
            }
            Policy::Faults { per_mille, .. } => {
                let roll = self.next_random();
                if (roll % 1000) < *per_mille as u64 {
                    self.stats.faults.fetch_add(1, Ordering::SeqCst);
                    let fault = FAULTS[((roll / 1000) % FAULTS.len() as u64) as usize];
                    return fault_response(fault, &call.service);
                }
            }
            Policy::Script(script) => {
                if let Some(answer) = self.scripted(script, &call) {
                    return match answer {
                        Answer::Error {
                            status,
                            code,
                            message,
                        } => aws_error(*status, &call.service, code, message),
                        Answer::Patched(values) => {
                            let (parts, body) = self.forward_raw(parts, body).await?;
                            patched(parts, &body, values)
                        }
                    };
                }
            }
        }
        self.forward(parts, body).await
    }

    /// The answer of the first entry that matches `call` and has answers left, counted.
    fn scripted<'a>(&self, script: &'a [Scripted], call: &Call) -> Option<&'a Answer> {
        let mut answered = self.stats.answered.lock().unwrap();
        let (index, entry) = script
            .iter()
            .enumerate()
            .find(|(i, entry)| entry.on.matches(call) && answered[*i] < entry.times)?;
        answered[index] += 1;
        Some(&entry.answer)
    }

    fn next_random(&self) -> u64 {
        // xorshift64*: small, seeded, good enough to spread faults.
        let mut state = self.rng.lock().unwrap();
        let mut x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11
    }

    async fn forward(
        &self,
        parts: http::request::Parts,
        body: Bytes,
    ) -> Result<http::Response<Full<Bytes>>, Dropped> {
        let (parts, body) = self.forward_raw(parts, body).await?;
        Ok(http::Response::from_parts(parts, Full::new(body)))
    }

    async fn forward_raw(
        &self,
        mut parts: http::request::Parts,
        body: Bytes,
    ) -> Result<(http::response::Parts, Bytes), Dropped> {
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        parts.uri = format!("{}{path}", self.upstream)
            .parse()
            .map_err(|_| Dropped)?;
        let response = self
            .client
            .request(http::Request::from_parts(parts, Full::new(body)))
            .await
            .map_err(|_| Dropped)?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
        Ok((parts, body))
    }
}

impl Call {
    /// "s3 GET /bucket?tagging", "iam GetRole", "logs DescribeLogGroups": what the call was.
    fn label(&self, headers: &http::HeaderMap) -> String {
        let target = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.rsplit('.').next());
        match (&self.action, target) {
            (Some(action), _) => format!("{} {action}", self.service),
            (None, Some(target)) => format!("{} {target}", self.service),
            (None, None) if self.query.is_empty() => {
                format!("{} {} {}", self.service, self.method, self.path)
            }
            (None, None) => format!(
                "{} {} {}?{}",
                self.service, self.method, self.path, self.query
            ),
        }
    }

    fn of(parts: &http::request::Parts, body: &[u8]) -> Call {
        let form_action = || {
            form_urlencoded::parse(body)
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v.into_owned())
        };
        Call {
            service: service_of(&parts.headers),
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            action: form_action(),
        }
    }
}

/// The upstream's JSON answer with values replaced at JSON pointers.
fn patched(
    mut parts: http::response::Parts,
    body: &[u8],
    values: &[(&'static str, serde_json::Value)],
) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let mut doc: serde_json::Value = serde_json::from_slice(body).map_err(|_| Dropped)?;
    for (pointer, value) in values {
        if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = value.clone();
        } else if let Some((parent, field)) = pointer.rsplit_once('/') {
            if let Some(serde_json::Value::Object(map)) = doc.pointer_mut(parent) {
                map.insert(field.to_owned(), value.clone());
            }
        }
    }
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Ok(http::Response::from_parts(
        parts,
        Full::new(Bytes::from(doc.to_string())),
    ))
}

/// The service a request is for, from its SigV4 credential scope (`.../<region>/<service>/aws4_request`).
fn service_of(headers: &http::HeaderMap) -> String {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("s3")
        .to_owned()
}

/// The fault as the service's protocol encodes it, so the SDK classifies it as AWS would.
fn fault_response(fault: Fault, service: &str) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let (status, code, message) = match (fault, service) {
        (Fault::DroppedConnection, _) => return Err(Dropped),
        (Fault::InternalError, _) => (500, "InternalError", "We encountered an internal error"),
        (Fault::ServiceUnavailable, "s3") => (503, "SlowDown", "Please reduce your request rate."),
        (Fault::ServiceUnavailable, _) => (503, "ServiceUnavailable", "Service unavailable"),
        (Fault::Throttled, "s3") => (503, "SlowDown", "Please reduce your request rate."),
        (Fault::Throttled, "lambda") => (429, "TooManyRequestsException", "Rate exceeded"),
        (Fault::Throttled, "logs") => (400, "ThrottlingException", "Rate exceeded"),
        (Fault::Throttled, _) => (400, "Throttling", "Rate exceeded"),
    };
    aws_error(status, service, code, message)
}

/// An AWS error as `service` encodes it: S3's XML, the query protocol's XML (IAM, STS), JSON
/// 1.1 with `__type` (Logs), or REST JSON with `x-amzn-ErrorType` (Lambda).
fn aws_error(
    status: u16,
    service: &str,
    code: &str,
    message: &str,
) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let (content_type, body) = match service {
        "s3" => (
            "application/xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message><RequestId>proxy</RequestId><HostId>proxy</HostId></Error>", xml_escape(message)),
        ),
        "iam" | "sts" => (
            "text/xml",
            format!("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>proxy</RequestId></ErrorResponse>", xml_escape(message)),
        ),
        "logs" => (
            "application/x-amz-json-1.1",
            serde_json::json!({"__type": code, "message": message}).to_string(),
        ),
        _ => (
            "application/json",
            serde_json::json!({"Type": "User", "Message": message}).to_string(),
        ),
    };
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .header("x-amzn-errortype", code)
        .header("x-amzn-requestid", "proxy")
        .body(Full::new(Bytes::from(body)))
        .map_err(|_| Dropped)
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
