//! An HTTP proxy on loopback between catup and moto_server that counts requests and, by its
//! policy, answers some of them with the faults AWS really sends (500, 503 SlowDown, 429 /
//! Throttling, a dropped connection), or kills the client at its k-th request. Faults are
//! drawn from a seeded generator, so a failing run can be replayed.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

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
    rng: Mutex<u64>,
    stats: Arc<Stats>,
    kill_target: Arc<AtomicU32>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl FaultProxy {
    /// Starts the proxy in front of `upstream` (e.g. moto's endpoint).
    pub async fn start(upstream: &str, policy: Policy) -> FaultProxy {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let stats = Arc::new(Stats::default());
        let kill_target = Arc::new(AtomicU32::new(0));
        let seed = match policy {
            Policy::Faults { seed, .. } => seed,
            _ => 1,
        };
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            policy,
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

impl Shared {
    async fn handle(
        &self,
        request: http::Request<Incoming>,
    ) -> Result<http::Response<Full<Bytes>>, Dropped> {
        let n = self.stats.requests.fetch_add(1, Ordering::SeqCst) + 1;
        match &self.policy {
            Policy::Pass => {}
            Policy::ForeignBucket { bucket } => {
                let path = request.uri().path();
                if path == format!("/{bucket}") || path.starts_with(&format!("/{bucket}/")) {
                    return http::Response::builder()
                        .status(403)
                        .header(http::header::CONTENT_TYPE, "application/xml")
                        .body(Full::new(Bytes::from_static(
                            b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
                        )))
                        .map_err(|_| Dropped);
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
                    return fault_response(fault, service_of(&request));
                }
            }
        }
        self.forward(request).await
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
        request: http::Request<Incoming>,
    ) -> Result<http::Response<Full<Bytes>>, Dropped> {
        let (mut parts, body) = request.into_parts();
        let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
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
        Ok(http::Response::from_parts(parts, Full::new(body)))
    }
}

/// The service a request is for, from its SigV4 credential scope (`.../<region>/<service>/aws4_request`).
fn service_of(request: &http::Request<Incoming>) -> String {
    request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("s3")
        .to_owned()
}

/// The fault as the service's protocol encodes it, so the SDK classifies it as AWS would.
fn fault_response(fault: Fault, service: String) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let (status, code, message) = match (fault, service.as_str()) {
        (Fault::DroppedConnection, _) => return Err(Dropped),
        (Fault::InternalError, _) => (500, "InternalError", "We encountered an internal error"),
        (Fault::ServiceUnavailable, "s3") => (503, "SlowDown", "Please reduce your request rate."),
        (Fault::ServiceUnavailable, _) => (503, "ServiceUnavailable", "Service unavailable"),
        (Fault::Throttled, "s3") => (503, "SlowDown", "Please reduce your request rate."),
        (Fault::Throttled, "lambda") => (429, "TooManyRequestsException", "Rate exceeded"),
        (Fault::Throttled, "logs") => (400, "ThrottlingException", "Rate exceeded"),
        (Fault::Throttled, _) => (400, "Throttling", "Rate exceeded"),
    };
    let (content_type, body) = match service.as_str() {
        "s3" => (
            "application/xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault</RequestId></Error>"),
        ),
        "iam" | "sts" => (
            "text/xml",
            format!("<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"),
        ),
        "logs" => (
            "application/x-amz-json-1.1",
            format!("{{\"__type\":\"{code}\",\"message\":\"{message}\"}}"),
        ),
        _ => ("application/json", format!("{{\"message\":\"{message}\"}}")),
    };
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .header("x-amzn-errortype", code)
        .body(Full::new(Bytes::from(body)))
        .map_err(|_| Dropped)
}
