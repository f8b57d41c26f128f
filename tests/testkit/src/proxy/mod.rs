//! An HTTP proxy on loopback between catup and moto_server that counts requests and, by its
//! policy, answers some of them with the faults AWS really sends (500, 503 SlowDown, 429 /
//! Throttling, a dropped connection), or kills the client at its k-th request. Faults are
//! drawn from a seeded generator, so a failing run can be replayed. A script answers chosen
//! calls the way real AWS does where moto does not (IAM propagation, S3's eventual
//! consistency, Lambda's conflicts), each in its service's own error protocol.
//!
//! With any policy, the proxy can hold every call for a fixed delay (what a laptop sees
//! talking to its region) and counts the peak number of requests in flight at once.
//!
//! The server and its policies are here; what a script matches and answers is in `script`,
//! the faults and errors in each service's encoding in `aws_errors`.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

mod aws_errors;
mod script;

pub use aws_errors::Fault;
use aws_errors::{aws_error, fault_response, json_answer, FAULTS};
use script::{patched, replaced, service_of, Call};
pub use script::{Answer, On, Scripted};

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

#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicUsize,
    pub faults: AtomicUsize,
    /// How many calls each scripted entry answered.
    pub answered: Mutex<Vec<usize>>,
    /// When each scripted entry answered first and last.
    pub answered_at: Mutex<Vec<Option<(Instant, Instant)>>>,
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
            *stats.answered_at.lock().unwrap() = vec![None; script.len()];
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

    /// The time from the `index`-th scripted entry's first answer to its last: how long the
    /// client kept retrying, whatever else the run spent its time on.
    pub fn answered_over(&self, index: usize) -> Duration {
        self.stats.answered_at.lock().unwrap()[index]
            .map_or(Duration::ZERO, |(first, last)| last - first)
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
        let label = call.label();
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
                        Answer::Replaced(replacements) => {
                            let (parts, body) = self.forward_raw(parts, body).await?;
                            replaced(parts, &body, replacements)
                        }
                        Answer::Hold => std::future::pending().await,
                        Answer::Json(body) => json_answer(body),
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
        let now = Instant::now();
        let mut at = self.stats.answered_at.lock().unwrap();
        at[index] = Some(at[index].map_or((now, now), |(first, _)| (first, now)));
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
