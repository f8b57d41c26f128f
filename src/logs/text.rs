//! The text form of a log event: one line with the local time, the request id (its first 8
//! characters), a level or Lambda's line kind, and the message with the fields that matter.
//! Pure: colours only when asked.

use std::borrow::Cow;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use jiff::tz::TimeZone;
use serde_json::{Map, Value};

use super::event::{AppLine, Line, LogEvent, Report};

/// The fields shown first and in this order; others follow as `name=value`.
const KNOWN_FIELDS: [&str; 4] = ["method", "status", "key", "latency_ms"];
const SHORT_ID: usize = 8;

#[derive(Debug, Clone)]
pub struct TextFormat {
    pub time_zone: TimeZone,
    pub colour: bool,
}

impl TextFormat {
    pub fn line(&self, event: &LogEvent) -> String {
        let time = self
            .time_zone
            .to_datetime(event.time)
            .strftime("%Y-%m-%d %H:%M:%S%.3f")
            .to_string();
        let id = visible(event.line.request_id().map_or("", short_id));
        let (tag, tag_style) = tag(&event.line);
        let tag = visible(tag);
        let mut out = String::new();
        self.paint(&mut out, &time, dim());
        out.push(' ');
        if let Some(function) = event.function {
            self.paint(&mut out, &format!("{function:<6}"), dim());
            out.push(' ');
        }
        self.paint(&mut out, &format!("{id:<SHORT_ID$}"), Style::new());
        out.push(' ');
        self.paint(&mut out, &format!("{tag:<6}"), tag_style);
        out.push(' ');
        out.push_str(&visible(&body(&event.line)));
        out.truncate(out.trim_end().len());
        out
    }

    fn paint(&self, out: &mut String, text: &str, style: Style) {
        if self.colour && style != Style::new() {
            let _ = write!(out, "{style}{text}{style:#}");
        } else {
            out.push_str(text);
        }
    }
}

fn short_id(id: &str) -> &str {
    id.get(..SHORT_ID).unwrap_or(id)
}

/// The text with control characters (ESC and the other C0 codes, DEL, C1) written as `\x1b`:
/// a log line is whatever a request made the function write, and must not drive the terminal.
/// Tabs stay, and so do newlines (a panic's backtrace is one event of many lines).
pub fn visible(text: &str) -> Cow<'_, str> {
    let escaped = |c: char| c.is_control() && c != '\t' && c != '\n';
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn dim() -> Style {
    Style::new().dimmed()
}

fn tag(line: &Line) -> (&str, Style) {
    let colour = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
    match line {
        Line::InitStart { .. } => ("INIT", dim()),
        Line::Start { .. } => ("START", dim()),
        Line::End { .. } => ("END", dim()),
        Line::Report(_) => ("REPORT", colour(AnsiColor::Magenta)),
        Line::App(app) => {
            let style = match app.level.as_str() {
                "ERROR" => colour(AnsiColor::Red).bold(),
                "WARN" => colour(AnsiColor::Yellow),
                "INFO" => colour(AnsiColor::Green),
                _ => colour(AnsiColor::Blue),
            };
            (&app.level, style)
        }
        Line::Text { .. } => ("", Style::new()),
    }
}

fn body(line: &Line) -> String {
    match line {
        Line::InitStart { runtime } => runtime.clone(),
        Line::Start { version, .. } if version != "$LATEST" => format!("version {version}"),
        Line::Start { .. } | Line::End { .. } => String::new(),
        Line::Report(report) => report_body(report),
        Line::App(app) => app_body(app),
        Line::Text { message } => message.clone(),
    }
}

/// `2.83 ms (billed 35 ms), 13 of 128 MB, init 31.37 ms`.
fn report_body(report: &Report) -> String {
    let mut out = format!(
        "{} ms (billed {} ms), {} of {} MB",
        report.duration_ms,
        report.billed_duration_ms,
        report.max_memory_used_mb,
        report.memory_size_mb
    );
    if let Some(init) = report.init_duration_ms {
        let _ = write!(out, ", init {init} ms");
    }
    if let Some(status) = &report.status {
        let _ = write!(out, ", {status}");
    }
    out
}

/// `request POST 200 images/1-a.png 1.5 ms code=...`.
fn app_body(app: &AppLine) -> String {
    let mut parts = vec![app.message.clone()];
    for name in KNOWN_FIELDS {
        match (name, app.fields.get(name)) {
            (_, None) => {}
            ("latency_ms", Some(value)) => parts.push(format!("{} ms", plain(value))),
            (_, Some(value)) => parts.push(plain(value)),
        }
    }
    parts.extend(other_fields(&app.fields));
    parts.retain(|p| !p.is_empty());
    parts.join(" ")
}

fn other_fields(fields: &Map<String, Value>) -> impl Iterator<Item = String> + '_ {
    fields
        .iter()
        .filter(|(name, _)| !KNOWN_FIELDS.contains(&name.as_str()))
        .map(|(name, value)| format!("{name}={}", plain(value)))
}

/// Strings without quotes, anything else as JSON.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ID: &str = "8f507cfc-8e1b-4697-b07a-ac58fc914c95";

    fn event(message: &str) -> LogEvent {
        LogEvent {
            function: None,
            time: "2026-11-24T10:00:00.123Z".parse().unwrap(),
            stream: None,
            id: None,
            line: Line::parse(message),
        }
    }

    fn plain_format(tz: &str) -> TextFormat {
        TextFormat {
            time_zone: TimeZone::posix(tz).unwrap(),
            colour: false,
        }
    }

    #[test]
    fn lines_read_in_local_time_with_a_short_request_id() {
        let line = json!({"level": "INFO",
            "fields": {"message": "request", "method": "POST", "status": 200,
                       "key": "images/1-a.png", "latency_ms": 1.5},
            "spans": [{"requestId": ID}]});
        let utc = plain_format("UTC0");
        assert_eq!(
            utc.line(&event(&line.to_string())),
            "2026-11-24 10:00:00.123 8f507cfc INFO   request POST 200 images/1-a.png 1.5 ms"
        );
        // India is 5:30 ahead of UTC: the same instant, local digits.
        assert!(plain_format("IST-5:30")
            .line(&event(&line.to_string()))
            .starts_with("2026-11-24 15:30:00.123 8f507cfc"));
    }

    #[test]
    fn lambda_s_lines_are_condensed() {
        let utc = plain_format("UTC0");
        let cases = [
            (format!("START RequestId: {ID} Version: $LATEST\n"), "8f507cfc START"),
            (format!("END RequestId: {ID}\n"), "8f507cfc END"),
            (
                format!("REPORT RequestId: {ID}\tDuration: 2.83 ms\tBilled Duration: 35 ms\tMemory Size: 128 MB\tMax Memory Used: 13 MB\tInit Duration: 31.37 ms\t\n"),
                "8f507cfc REPORT 2.83 ms (billed 35 ms), 13 of 128 MB, init 31.37 ms",
            ),
            (
                format!("REPORT RequestId: {ID}\tDuration: 1.05 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 14 MB\t\n"),
                "8f507cfc REPORT 1.05 ms (billed 2 ms), 14 of 128 MB",
            ),
            (
                "INIT_START Runtime Version: provided:al2023.v75\tRuntime Version ARN: arn:x\n".into(),
                "         INIT   provided:al2023.v75",
            ),
            ("thread 'main' panicked\n".into(), "                thread 'main' panicked"),
        ];
        for (message, expected) in cases {
            assert_eq!(
                utc.line(&event(&message)),
                format!("2026-11-24 10:00:00.123 {expected}"),
                "{message:?}"
            );
        }
    }

    #[test]
    fn other_fields_follow_as_name_value() {
        let line = json!({"level": "ERROR",
            "fields": {"message": "request", "method": "GET", "status": 502,
                       "code": "storage_unavailable", "latency_ms": 3.0}});
        assert_eq!(
            plain_format("UTC0").line(&event(&line.to_string())),
            "2026-11-24 10:00:00.123          ERROR  request GET 502 3.0 ms code=storage_unavailable"
        );
    }

    #[test]
    fn control_characters_are_shown_escaped_not_sent_to_the_terminal() {
        let utc = plain_format("UTC0");
        let text = utc.line(&event(
            "\u{1b}]0;owned\u{7}\u{1b}[2J\tcleared\rover\u{9b}31m\u{7f}",
        ));
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\t'),
            "{text:?}"
        );
        assert!(
            text.ends_with("\\x1b]0;owned\\x07\\x1b[2J\tcleared\\x0dover\\x9b31m\\x7f"),
            "{text:?}"
        );
        let line =
            json!({"level": "WARN\u{1b}[8m", "fields": {"message": "a\u{0}b", "key": "k\u{1b}"}});
        let text = utc.line(&event(&line.to_string()));
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{0}'),
            "{text:?}"
        );
        assert!(
            text.contains("a\\x00b") && text.contains("k\\x1b"),
            "{text:?}"
        );
        assert_eq!(
            visible("plain\ttext\nsecond line"),
            "plain\ttext\nsecond line"
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let line = json!({"level": "ERROR", "fields": {"message": "boom"}}).to_string();
        let mut format = plain_format("UTC0");
        assert!(!format.line(&event(&line)).contains('\u{1b}'));
        format.colour = true;
        let coloured = format.line(&event(&line));
        assert!(coloured.contains("\u{1b}[31m"), "{coloured:?}");
        assert!(coloured.ends_with("boom"), "{coloured:?}");
    }
}
