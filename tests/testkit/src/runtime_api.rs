//! A small Lambda Runtime API on loopback (the HTTP interface Lambda gives a custom runtime,
//! `/2018-06-01/runtime/...`), so that the real `bootstrap` runs here as it runs in Lambda:
//! it polls `invocation/next`, gets a Function URL event, and posts its answer back.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::{mpsc, Notify};

const PREFIX: &str = "/2018-06-01/runtime";
const DEFAULT_TRACE_ID: &str = "Root=1-00000000-000000000000000000000000";

/// One invocation the runtime API hands out: the event and the ids Lambda sends with it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub trace_id: String,
    pub event: Value,
}

/// What the function posted for one invocation.
#[derive(Debug)]
pub enum Answer {
    /// `invocation/<id>/response`: the function's own answer (for a Function URL event, the
    /// JSON with statusCode, headers and body).
    Response { request_id: String, body: Value },
    /// `invocation/<id>/error` or `init/error`, with Lambda's error document.
    Error { path: String, body: String },
}

pub struct RuntimeApi {
    /// `host:port`, the value for `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    answers: mpsc::UnboundedReceiver<Answer>,
    idle: Arc<Notify>,
}

struct State {
    invocations: Mutex<VecDeque<Invocation>>,
    answers: mpsc::UnboundedSender<Answer>,
    idle: Arc<Notify>,
}

impl RuntimeApi {
    /// Serves `events` in order as invocations `req-1`, `req-2`, ...
    pub async fn start(events: Vec<Value>) -> RuntimeApi {
        let invocations = events
            .into_iter()
            .enumerate()
            .map(|(i, event)| Invocation {
                request_id: format!("req-{}", i + 1),
                trace_id: DEFAULT_TRACE_ID.to_owned(),
                event,
            })
            .collect();
        RuntimeApi::serving(invocations).await
    }

    /// Serves `invocations` in order; once they are used up, `next` never answers (as in
    /// Lambda, where an idle function waits to be frozen).
    pub async fn serving(invocations: Vec<Invocation>) -> RuntimeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (sender, answers) = mpsc::unbounded_channel();
        let idle = Arc::new(Notify::new());
        let state = Arc::new(State {
            invocations: Mutex::new(invocations.into()),
            answers: sender,
            idle: idle.clone(),
        });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| serve(request, state.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RuntimeApi {
            address,
            answers,
            idle,
        }
    }

    /// The next answer the function posted, within `timeout`.
    pub async fn answer(&mut self, timeout: Duration) -> Answer {
        tokio::time::timeout(timeout, self.answers.recv())
            .await
            .expect("the function answered within the timeout")
            .expect("the runtime API is running")
    }

    /// Waits until the function asks for an invocation after the last one: everything it
    /// did for the invocations (answers, log lines) is done by then.
    pub async fn idle(&self, timeout: Duration) {
        tokio::time::timeout(timeout, self.idle.notified())
            .await
            .expect("the function finished its invocations within the timeout");
    }
}

async fn serve(
    request: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let Some(route) = path.strip_prefix(PREFIX) else {
        return Ok(status(404));
    };
    if route == "/invocation/next" {
        let next = state.invocations.lock().unwrap().pop_front();
        let Some(invocation) = next else {
            state.idle.notify_one();
            std::future::pending::<()>().await;
            unreachable!("pending never returns");
        };
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 10_000;
        let response = Response::builder()
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", &invocation.request_id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:test-api",
            )
            .header("lambda-runtime-trace-id", &invocation.trace_id)
            .body(Full::new(Bytes::from(invocation.event.to_string())))
            .unwrap();
        return Ok(response);
    }
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let answer = match route
        .strip_prefix("/invocation/")
        .and_then(|rest| rest.strip_suffix("/response"))
    {
        Some(request_id) => Answer::Response {
            request_id: request_id.to_owned(),
            body: serde_json::from_slice(&body).unwrap_or_else(|e| {
                Value::String(format!(
                    "not JSON ({e}): {}",
                    String::from_utf8_lossy(&body)
                ))
            }),
        },
        None => Answer::Error {
            path: route.to_owned(),
            body: String::from_utf8_lossy(&body).into_owned(),
        },
    };
    let _ = state.answers.send(answer);
    Ok(status(202))
}

fn status(code: u16) -> Response<Full<Bytes>> {
    Response::builder()
        .status(code)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// One of lambda-fn's recorded Function URL events (`lambda-fn/tests/data/NAME.json`).
pub fn function_url_event(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../lambda-fn/tests/data")
        .join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}
