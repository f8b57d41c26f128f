//! The in-process function's log lines, written as in Lambda: each invocation runs inside the
//! runtime's "Lambda runtime invoke" span with a fresh request id (also in the request's
//! `lambda_http::Context`), and its events are formatted by lambda-fn's own JSON subscriber.
//! Each finished line goes to a sink: `catup dev` prints it as `catup logs` would.

use std::future::Future;
use std::io::{self, Write};
use std::sync::Arc;

use lambda_http::lambda_runtime::layers::trace::request_span;
use tracing::instrument::{Instrument, WithSubscriber};
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::logs::{Line, LogEvent, Printer};

type Sink = Arc<dyn Fn(&str) + Send + Sync>;

#[derive(Clone)]
pub struct FunctionLogs {
    dispatch: Dispatch,
}

impl FunctionLogs {
    /// Hands each JSON line (without its newline) to `sink`; levels as in Lambda (info, or
    /// AWS_LAMBDA_LOG_LEVEL / RUST_LOG).
    pub fn new(sink: impl Fn(&str) + Send + Sync + 'static) -> FunctionLogs {
        FunctionLogs::with_filter(cat_upload_fn::logging::filter_from_env(), sink)
    }

    pub fn with_filter(
        filter: EnvFilter,
        sink: impl Fn(&str) + Send + Sync + 'static,
    ) -> FunctionLogs {
        let subscriber = cat_upload_fn::logging::json_subscriber(filter, Lines(Arc::new(sink)));
        FunctionLogs {
            dispatch: Dispatch::new(subscriber),
        }
    }

    /// Prints each line on stderr as `catup logs` prints events in text; stderr is where
    /// progress goes, also with --json (stdout then holds only the JSON object).
    pub fn to_stderr() -> FunctionLogs {
        use std::io::IsTerminal;
        let printer = Printer::new(false, io::stderr().is_terminal());
        FunctionLogs::new(move |line| {
            let event = LogEvent {
                function: None,
                time: jiff::Timestamp::now(),
                stream: None,
                id: None,
                line: Line::parse(line),
            };
            // A closed or full stderr must not fail the request.
            let _ = printer.print(&mut io::stderr().lock(), &event);
        })
    }

    /// Runs `handle(request)` as one Lambda invocation for logging purposes.
    pub fn invoke<B, F, Fut>(
        &self,
        mut request: http::Request<B>,
        handle: F,
    ) -> impl Future<Output = Fut::Output>
    where
        F: FnOnce(http::Request<B>) -> Fut,
        Fut: Future,
    {
        let mut context = lambda_http::Context::default();
        context.request_id = uuid::Uuid::new_v4().to_string();
        // The span belongs to the subscriber it is created under.
        let span = tracing::dispatcher::with_default(&self.dispatch, || request_span(&context));
        request.extensions_mut().insert(context);
        handle(request)
            .instrument(span)
            .with_subscriber(self.dispatch.clone())
    }
}

/// tracing-subscriber writes each event with one `write_all` on a fresh writer; the line is
/// handed on when that writer is dropped.
#[derive(Clone)]
struct Lines(Sink);

struct LineBuffer {
    sink: Sink,
    buffer: Vec<u8>,
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = LineBuffer;

    fn make_writer(&'a self) -> LineBuffer {
        LineBuffer {
            sink: self.0.clone(),
            buffer: Vec::new(),
        }
    }
}

impl Write for LineBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineBuffer {
    fn drop(&mut self) {
        for line in String::from_utf8_lossy(&self.buffer).lines() {
            if !line.is_empty() {
                (self.sink)(line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[tokio::test]
    async fn an_invocation_logs_json_lines_with_its_request_id() {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let logs = FunctionLogs::with_filter(EnvFilter::new("info"), move |line| {
            sink.lock().unwrap().push(line.to_owned())
        });
        let request = http::Request::new(());
        let id = logs
            .invoke(request, |request| async move {
                tracing::info!(answer = 42, "hello");
                tracing::debug!("filtered out");
                request
                    .extensions()
                    .get::<lambda_http::Context>()
                    .unwrap()
                    .request_id
                    .clone()
            })
            .await;
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let Line::App(app) = Line::parse(&lines[0]) else {
            panic!("not a JSON line: {}", lines[0])
        };
        assert_eq!(app.request_id.as_deref(), Some(id.as_str()));
        assert_eq!(
            (app.level.as_str(), app.message.as_str()),
            ("INFO", "hello")
        );
        assert_eq!(app.fields["answer"], 42);
    }
}
