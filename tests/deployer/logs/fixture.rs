//! Log events as Lambda writes them for the stack's function: lambda-fn's JSON lines, taken
//! from real in-process invocations of its handler (its own tracing subscriber, inside the
//! runtime's invoke span), and Lambda's INIT_START / START / END / REPORT lines in AWS's
//! format; written into moto's CloudWatch Logs with PutLogEvents.

use std::path::Path;
use std::sync::{Arc, Mutex};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use catup::local::function_logs::FunctionLogs;
use catup::logs::Line;
use serde_json::Value;
use tracing_subscriber::EnvFilter;

use crate::common::World;

/// (timestamp in ms, message) of one event.
pub type Event = (i64, String);

pub const INIT_START: &str = "INIT_START Runtime Version: provided:al2023.v75\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:7d3b2c6f0f7b3a0e1c44b1e2c5f1a9a0d3b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8\n";

pub struct Invocation {
    pub request_id: String,
    /// The JSON lines the function wrote, each with its newline as Lambda stores it.
    pub lines: Vec<String>,
    pub status: u16,
    pub body: Value,
}

/// lambda-fn's handler for the deployed stack's images bucket, in this process.
pub struct Function {
    app: cat_upload_fn::App,
    logs: FunctionLogs,
    written: Arc<Mutex<Vec<String>>>,
}

impl Function {
    pub async fn of(world: &World) -> Function {
        let bucket = world.images_bucket();
        let config = cat_upload_fn::Config::from_lookup(|key| {
            (key == "IMAGES_BUCKET").then(|| bucket.clone())
        })
        .unwrap();
        let app = cat_upload_fn::App::new(&world.sdk().await, config).unwrap();
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = written.clone();
        let logs = FunctionLogs::with_filter(EnvFilter::new("info"), move |line: &str| {
            sink.lock().unwrap().push(format!("{line}\n"))
        });
        Function { app, logs, written }
    }

    /// Invokes the handler with one of lambda-fn's Function URL event fixtures.
    pub async fn invoke(&self, fixture: &str) -> Invocation {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("lambda-fn/tests/data")
            .join(fixture);
        let event = std::fs::read_to_string(path).unwrap();
        let request = lambda_http::request::from_str(&event).unwrap();
        let response = self.logs.invoke(request, |r| self.app.handle(r)).await;
        let lines: Vec<String> = self.written.lock().unwrap().drain(..).collect();
        assert!(
            !lines.is_empty(),
            "the handler logged nothing for {fixture}"
        );
        let request_id = Line::parse(&lines[0])
            .request_id()
            .expect("the function's lines carry the request id")
            .to_owned();
        Invocation {
            request_id,
            lines,
            status: response.status().as_u16(),
            body: serde_json::from_str(response.body()).unwrap(),
        }
    }
}

/// Lambda's lines around an invocation, one millisecond apart from `at`: START, the function's
/// lines, END, REPORT (with Init Duration on a cold start).
pub fn around(invocation: &Invocation, at: i64, init_ms: Option<f64>) -> Vec<Event> {
    let id = &invocation.request_id;
    let mut messages = vec![format!("START RequestId: {id} Version: $LATEST\n")];
    messages.extend(invocation.lines.iter().cloned());
    messages.push(format!("END RequestId: {id}\n"));
    let init = init_ms.map_or(String::new(), |ms| format!("Init Duration: {ms:.2} ms\t"));
    messages.push(format!(
        "REPORT RequestId: {id}\tDuration: 3.21 ms\tBilled Duration: 41 ms\tMemory Size: 128 MB\tMax Memory Used: 19 MB\t{init}\n"
    ));
    (at..).zip(messages).collect()
}

/// A log stream named as Lambda names them.
pub fn stream_name(instance: char) -> String {
    format!("2026/11/24/[$LATEST]{}", instance.to_string().repeat(32))
}

/// PutLogEvents into `group`/`stream` (both created when missing).
pub async fn put(world: &World, group: &str, stream: &str, events: &[Event]) {
    let logs = world.logs().await;
    let _ = logs.create_log_group().log_group_name(group).send().await;
    let _ = logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await;
    let events: Vec<InputLogEvent> = events
        .iter()
        .map(|(at, message)| {
            InputLogEvent::builder()
                .timestamp(*at)
                .message(message)
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .expect("PutLogEvents");
}

/// One event `message` (a line as written, without its newline) a second ago, in the stack's
/// log group.
pub async fn put_recent(world: &World, message: &str) {
    let group = format!("/aws/lambda/{}", world.function());
    let event = (now_ms() - 1_000, format!("{message}\n"));
    put(world, &group, &stream_name('a'), &[event]).await;
}

pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
