//! What the function logs and how: one JSON line per event on stdout (Lambda sends each line
//! to CloudWatch as it is), and one `request` line per request with the fields a person
//! troubleshooting an upload looks for. `catup logs` and `catup dev` read these lines back.

use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The message of the per-request line.
pub const REQUEST_MESSAGE: &str = "request";

/// `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's log level setting), else `RUST_LOG`, else info.
pub fn filter_from_env() -> EnvFilter {
    EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The subscriber the function runs with in Lambda: JSON lines without targets or the current
/// span; the span list keeps the runtime's `requestId`.
pub fn json_subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(writer)
        .json()
        .with_current_span(false)
        .finish()
}

/// The per-request line, written when the answer is ready: method, status, the upload's key
/// (POST), the error code (when not 2xx) and the time spent in the handler.
#[derive(Debug)]
pub struct RequestLog {
    started: Instant,
    method: Method,
    pub key: Option<String>,
    pub code: Option<&'static str>,
}

impl RequestLog {
    pub fn start(method: &Method) -> RequestLog {
        RequestLog {
            started: Instant::now(),
            method: method.clone(),
            key: None,
            code: None,
        }
    }

    pub fn finish(self, status: StatusCode) {
        self.write(status, self.started.elapsed());
    }

    fn write(&self, status: StatusCode, latency: Duration) {
        let method = self.method.as_str();
        let status = status.as_u16();
        let key = self.key.as_deref();
        let code = self.code;
        // Milliseconds with microsecond precision: requests take a few ms.
        let latency_ms = (latency.as_micros() as f64) / 1000.0;
        // A level per status class, so that `catup logs` can colour failures.
        match status {
            500.. => tracing::error!(method, status, key, code, latency_ms, "{REQUEST_MESSAGE}"),
            400.. => tracing::warn!(method, status, key, code, latency_ms, "{REQUEST_MESSAGE}"),
            _ => tracing::info!(method, status, key, code, latency_ms, "{REQUEST_MESSAGE}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use serde_json::Value;

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(write: impl FnOnce()) -> Vec<Value> {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = json_subscriber(EnvFilter::new("info"), move || sink.clone());
        tracing::subscriber::with_default(subscriber, write);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn a_successful_upload_logs_method_status_key_and_latency_at_info() {
        let lines = logged(|| {
            let mut log = RequestLog::start(&Method::POST);
            log.key = Some("images/1-a.png".into());
            log.write(StatusCode::OK, Duration::from_micros(2_345));
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'), "{line}");
        assert_eq!(
            line["fields"],
            serde_json::json!({"message": "request", "method": "POST", "status": 200,
                "key": "images/1-a.png", "latency_ms": 2.345})
        );
        assert!(line.get("target").is_none(), "{line}");
    }

    #[test]
    fn failures_log_their_code_at_warn_or_error() {
        let lines = logged(|| {
            let mut log = RequestLog::start(&Method::POST);
            log.code = Some("unsupported_media_type");
            log.write(StatusCode::UNSUPPORTED_MEDIA_TYPE, Duration::ZERO);
            let mut log = RequestLog::start(&Method::GET);
            log.code = Some("storage_unavailable");
            log.write(StatusCode::BAD_GATEWAY, Duration::ZERO);
        });
        assert_eq!(lines[0]["level"], "WARN");
        assert_eq!(lines[0]["fields"]["code"], "unsupported_media_type");
        assert!(lines[0]["fields"].get("key").is_none());
        assert_eq!(lines[1]["level"], "ERROR");
        assert_eq!(lines[1]["fields"]["method"], "GET");
        assert_eq!(lines[1]["fields"]["status"], 502);
    }
}
