//! One log event of the function, parsed from its message: Lambda's own START / END / REPORT /
//! INIT_START lines, the JSON lines of lambda-fn's tracing subscriber, or any other text (a
//! panic, a platform message) as it was written. Pure: no I/O.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

/// An event as `catup logs --json` prints it (one object per line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEvent {
    /// When the function wrote it (CloudWatch's event timestamp), RFC 3339 in UTC.
    pub time: Timestamp,
    /// The log stream: one per function instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// CloudWatch's id of the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Which of the stack's functions wrote it (`api`, `thumbs`), when logs shows both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<&'static str>,
    #[serde(flatten)]
    pub line: Line,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Line {
    /// A cold start: `INIT_START Runtime Version: provided:al2023.v75\tRuntime Version ARN: ...`.
    InitStart {
        runtime: String,
    },
    /// `START RequestId: <id> Version: $LATEST`.
    Start {
        request_id: String,
        version: String,
    },
    /// `END RequestId: <id>`.
    End {
        request_id: String,
    },
    Report(Report),
    /// A JSON line of the function's tracing subscriber.
    App(AppLine),
    /// Anything else, as written (without the trailing newline).
    Text {
        message: String,
    },
}

/// `REPORT RequestId: <id>\tDuration: 2.83 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t
/// Max Memory Used: 13 MB\tInit Duration: 31.37 ms\t`: Init Duration on cold starts only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub request_id: String,
    pub duration_ms: f64,
    pub billed_duration_ms: f64,
    pub memory_size_mb: u64,
    pub max_memory_used_mb: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_duration_ms: Option<f64>,
    /// `Status: timeout` and the like, when the invocation did not end normally.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppLine {
    pub level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub message: String,
    /// The event's other fields (method, status, key, latency_ms, code, error, ...).
    pub fields: Map<String, Value>,
}

impl Line {
    pub fn parse(message: &str) -> Line {
        let message = message.trim_end();
        parse_platform(message)
            .or_else(|| parse_app(message))
            .unwrap_or_else(|| Line::Text {
                message: message.to_owned(),
            })
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            Line::Start { request_id, .. } | Line::End { request_id } => Some(request_id),
            Line::Report(report) => Some(&report.request_id),
            Line::App(app) => app.request_id.as_deref(),
            Line::InitStart { .. } | Line::Text { .. } => None,
        }
    }
}

fn parse_platform(message: &str) -> Option<Line> {
    if let Some(rest) = message.strip_prefix("START RequestId: ") {
        let (request_id, version) = match rest.split_once(" Version: ") {
            Some((id, version)) => (id, version),
            None => (rest, ""),
        };
        return Some(Line::Start {
            request_id: request_id.trim().to_owned(),
            version: version.trim().to_owned(),
        });
    }
    if let Some(rest) = message.strip_prefix("END RequestId: ") {
        return Some(Line::End {
            request_id: rest.trim().to_owned(),
        });
    }
    if let Some(rest) = message.strip_prefix("REPORT ") {
        return parse_report(rest).map(Line::Report);
    }
    if let Some(rest) = message.strip_prefix("INIT_START ") {
        let runtime = labelled(rest)
            .find(|(label, _)| *label == "Runtime Version")
            .map_or(rest, |(_, value)| value);
        return Some(Line::InitStart {
            runtime: runtime.to_owned(),
        });
    }
    None
}

/// The tab-separated `Label: value` pairs of a platform line.
fn labelled(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split('\t')
        .filter_map(|pair| pair.split_once(": "))
        .map(|(label, value)| (label.trim(), value.trim()))
}

fn parse_report(rest: &str) -> Option<Report> {
    let mut report = Report {
        request_id: String::new(),
        duration_ms: 0.0,
        billed_duration_ms: 0.0,
        memory_size_mb: 0,
        max_memory_used_mb: 0,
        init_duration_ms: None,
        status: None,
    };
    for (label, value) in labelled(rest) {
        let number = value.split(' ').next().unwrap_or("");
        match label {
            "RequestId" => report.request_id = value.to_owned(),
            "Duration" => report.duration_ms = number.parse().ok()?,
            "Billed Duration" => report.billed_duration_ms = number.parse().ok()?,
            "Memory Size" => report.memory_size_mb = number.parse().ok()?,
            "Max Memory Used" => report.max_memory_used_mb = number.parse().ok()?,
            "Init Duration" => report.init_duration_ms = Some(number.parse().ok()?),
            "Status" => report.status = Some(value.to_owned()),
            _ => {}
        }
    }
    (!report.request_id.is_empty()).then_some(report)
}

/// `{"timestamp", "level", "fields": {"message", ...}, "spans": [{"requestId", ...}]}`: the
/// request id is the function's own field, else the one of Lambda's invoke span.
fn parse_app(message: &str) -> Option<Line> {
    if !message.starts_with('{') {
        return None;
    }
    let Value::Object(mut line) = serde_json::from_str(message).ok()? else {
        return None;
    };
    let level = line.get("level")?.as_str()?.to_owned();
    let mut fields = match line.remove("fields") {
        Some(Value::Object(fields)) => fields,
        _ => Map::new(),
    };
    let text = |value: Option<Value>| match value {
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
        None => None,
    };
    let message = text(fields.remove("message")).unwrap_or_default();
    let span_request_id = line
        .get("spans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .rev()
        .find_map(|span| span.get("requestId")?.as_str())
        .map(str::to_owned);
    let request_id = text(fields.remove("request_id")).or(span_request_id);
    Some(Line::App(AppLine {
        level,
        request_id,
        message,
        fields,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ID: &str = "8f507cfc-8e1b-4697-b07a-ac58fc914c95";

    #[test]
    fn start_end_and_report_lines_in_aws_s_format() {
        assert_eq!(
            Line::parse(&format!("START RequestId: {ID} Version: $LATEST\n")),
            Line::Start {
                request_id: ID.into(),
                version: "$LATEST".into()
            }
        );
        assert_eq!(
            Line::parse(&format!("END RequestId: {ID}\n")),
            Line::End {
                request_id: ID.into()
            }
        );
        let cold = format!(
            "REPORT RequestId: {ID}\tDuration: 2.83 ms\tBilled Duration: 35 ms\tMemory Size: 128 MB\tMax Memory Used: 13 MB\tInit Duration: 31.37 ms\t\n"
        );
        assert_eq!(
            Line::parse(&cold),
            Line::Report(Report {
                request_id: ID.into(),
                duration_ms: 2.83,
                billed_duration_ms: 35.0,
                memory_size_mb: 128,
                max_memory_used_mb: 13,
                init_duration_ms: Some(31.37),
                status: None,
            })
        );
        let warm_timeout = format!(
            "REPORT RequestId: {ID}\tDuration: 10000.00 ms\tBilled Duration: 10000 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tStatus: timeout\n"
        );
        let Line::Report(report) = Line::parse(&warm_timeout) else {
            panic!("not a report")
        };
        assert_eq!(report.init_duration_ms, None);
        assert_eq!(report.status.as_deref(), Some("timeout"));
    }

    #[test]
    fn init_start_keeps_the_runtime_version() {
        assert_eq!(
            Line::parse("INIT_START Runtime Version: provided:al2023.v75\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc\n"),
            Line::InitStart { runtime: "provided:al2023.v75".into() }
        );
    }

    #[test]
    fn json_lines_take_the_request_id_from_the_invoke_span() {
        let line = json!({
            "timestamp": "2026-11-24T10:00:00.123456Z", "level": "INFO",
            "fields": {"message": "request", "method": "POST", "status": 200,
                       "key": "images/1-a.png", "latency_ms": 1.5},
            "spans": [{"requestId": ID, "name": "Lambda runtime invoke"}]
        });
        let Line::App(app) = Line::parse(&format!("{line}\n")) else {
            panic!("not an app line")
        };
        assert_eq!(app.level, "INFO");
        assert_eq!(app.message, "request");
        assert_eq!(app.request_id.as_deref(), Some(ID));
        assert_eq!(
            Value::Object(app.fields),
            json!({"method": "POST", "status": 200, "key": "images/1-a.png", "latency_ms": 1.5})
        );
    }

    #[test]
    fn the_function_s_own_request_id_field_wins_over_the_span() {
        let line = json!({"level": "ERROR", "fields": {"message": "boom", "request_id": "own"},
                          "spans": [{"requestId": ID}]});
        assert_eq!(Line::parse(&line.to_string()).request_id(), Some("own"));
    }

    #[test]
    fn anything_else_is_text_as_written() {
        for message in [
            "thread 'main' panicked at src/main.rs:1:1",
            "{not json",
            "{\"no\": \"level\"}",
            "REPORT without a request id",
            "",
        ] {
            assert_eq!(
                Line::parse(&format!("{message}\n")),
                Line::Text {
                    message: message.into()
                }
            );
        }
    }

    #[test]
    fn json_output_is_flat_with_a_kind() {
        let event = LogEvent {
            function: None,
            time: "2026-11-24T10:00:00.5Z".parse().unwrap(),
            stream: Some("s".into()),
            id: Some("1".into()),
            line: Line::End {
                request_id: ID.into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"time": "2026-11-24T10:00:00.5Z", "stream": "s", "id": "1",
                   "kind": "end", "request_id": ID})
        );
    }
}
