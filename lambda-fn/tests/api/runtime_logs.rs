//! What the real `bootstrap` writes to stdout (what Lambda sends to CloudWatch) for one
//! invocation, under the testkit's Lambda Runtime API: the per-request JSON line, with the
//! request id in the runtime's span. The same line as the handler run in process with
//! `logging::json_subscriber` inside `request_span`, which is how `catup dev` and catup's
//! tests produce the function's lines.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cat_upload_fn::logging::json_subscriber;
use catup_testkit::runtime_api::{function_url_event, Answer, Invocation, RuntimeApi};
use lambda_http::lambda_runtime::layers::trace::request_span;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tracing::instrument::{Instrument, WithSubscriber};
use tracing_subscriber::EnvFilter;

const REQUEST_ID: &str = "3b9c1a52-7f0e-4d8b-9a61-2c4e5f6a7b8c";
const TRACE_ID: &str = "Root=1-6742f1a0-1b2c3d4e5f60718293a4b5c6;Parent=53995c3f42cd8ad8;Sampled=0";

/// The JSON lines `bootstrap` writes for one invocation.
async fn bootstrap_lines() -> Vec<Value> {
    let mut api = RuntimeApi::serving(vec![Invocation {
        request_id: REQUEST_ID.to_owned(),
        trace_id: TRACE_ID.to_owned(),
        event: function_url_event("post-upload-png"),
    }])
    .await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "cat-upload-api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/cat-upload-api")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("IMAGES_BUCKET", "cat-upload-images")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Once it polls for the next invocation, the first one's lines are written.
    api.idle(Duration::from_secs(30)).await;
    match api.answer(Duration::from_secs(1)).await {
        Answer::Response { request_id, .. } => assert_eq!(request_id, REQUEST_ID),
        Answer::Error { path, body } => panic!("bootstrap reported an error at {path}: {body}"),
    }
    child.kill().await.unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}")))
        .collect()
}

/// The same invocation in process: the subscriber inside the runtime's span.
async fn in_process_lines() -> Vec<Value> {
    let written = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = written.clone();
    let subscriber = json_subscriber(EnvFilter::new("info"), move || Sink(sink.clone()));
    let dispatch = tracing::Dispatch::new(subscriber);
    let mut context = lambda_http::Context::default();
    context.request_id = REQUEST_ID.to_owned();
    context.xray_trace_id = Some(TRACE_ID.to_owned());
    let span = tracing::dispatcher::with_default(&dispatch, || request_span(&context));
    let app = crate::common::app_without_s3("cat-upload-images").await;
    app.handle(crate::common::event("post-upload-png.json"))
        .instrument(span)
        .with_subscriber(dispatch)
        .await;
    let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The line's shape with the values that differ between runs (time, key, latency) blanked.
fn shape(line: &Value) -> Value {
    let mut line = line.clone();
    line["timestamp"] = Value::Null;
    line["fields"]["key"] = Value::Null;
    line["fields"]["latency_ms"] = Value::Null;
    line
}

#[tokio::test]
async fn bootstrap_writes_one_request_line_with_the_runtime_s_request_id() {
    let real = bootstrap_lines().await;
    let requests: Vec<&Value> = real
        .iter()
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 1, "{real:#?}");
    let line = requests[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["fields"]["method"], "POST");
    assert_eq!(line["fields"]["status"], 200);
    assert!(line["fields"]["key"]
        .as_str()
        .unwrap()
        .starts_with("images/"));
    assert!(line["fields"]["latency_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(line["spans"][0]["requestId"], REQUEST_ID, "{line}");
    assert!(line.get("target").is_none(), "{line}");

    let in_process = in_process_lines().await;
    assert_eq!(in_process.len(), 1, "{in_process:#?}");
    assert_eq!(shape(&in_process[0]), shape(line));
}
