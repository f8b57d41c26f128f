//! Reading a log group's events from CloudWatch: every page of FilterLogEvents, the calls
//! paced under the API's quota of 5 a second, throttling and transient failures waited out,
//! and empty pages (FilterLogEvents may answer one with a next token while it searches)
//! followed like any other.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::{
    FilterLogEventsError, FilterLogEventsOutput,
};
use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use jiff::Timestamp;

use crate::aws::{error_code, reason, retry_while_settling, seconds, Aws, SdkResultExt, Settling};
use crate::logs::pace::{Pace, FILTER_LOG_EVENTS_INTERVAL};
use crate::logs::{Line, LogEvent};
use crate::output::progress;

/// How long a throttled (or failing) call is retried: throttling clears within seconds.
const RIDE_OUT: Settling = Settling {
    first_delay: Duration::from_millis(500),
    max_delay: Duration::from_secs(8),
    limit: Duration::from_secs(120),
};

type Failure = SdkError<FilterLogEventsError, HttpResponse>;

/// One log group's reader; its calls share one pace, pages and polls alike.
pub struct Reader<'a> {
    aws: &'a Aws,
    group: &'a str,
    pace: Mutex<Pace>,
}

impl<'a> Reader<'a> {
    pub fn new(aws: &'a Aws, group: &'a str) -> Reader<'a> {
        Reader {
            aws,
            group,
            pace: Mutex::new(Pace::new(FILTER_LOG_EVENTS_INTERVAL)),
        }
    }

    /// Every event of the log group from `start_ms` on, oldest first (ties in CloudWatch's
    /// order); `None` when the log group does not exist.
    pub async fn events_since(&self, start_ms: i64) -> anyhow::Result<Option<Vec<LogEvent>>> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let Some(page) = self.page(start_ms, token.as_deref()).await? else {
                return Ok(None);
            };
            events.extend(page.events().iter().filter_map(log_event));
            match page.next_token {
                // The same token again would ask for the same page forever.
                Some(next) if !next.is_empty() && token.as_deref() != Some(&next) => {
                    token = Some(next)
                }
                _ => break,
            }
        }
        events.sort_by_key(|e| e.time);
        Ok(Some(events))
    }

    /// One page; `None` when the log group does not exist.
    async fn page(
        &self,
        start_ms: i64,
        token: Option<&str>,
    ) -> anyhow::Result<Option<FilterLogEventsOutput>> {
        let group = self.group;
        let last = Mutex::new(String::new());
        // catup waits out throttling itself, at its pace: the SDK's own retries would send
        // the next attempts regardless of it.
        let one_attempt = &aws_sdk_cloudwatchlogs::config::Builder::default()
            .retry_config(RetryConfig::standard().with_max_attempts(1));
        let page = retry_while_settling(
            RIDE_OUT,
            |e: &Failure| {
                let passing = is_passing(e);
                if passing {
                    *last.lock().expect("last answer") = reason(e);
                }
                passing
            },
            |delay, attempt| {
                progress(format!(
                    "reading log group {group}: {}, retrying in {} (attempt {attempt})",
                    last.lock().expect("last answer"),
                    seconds(delay)
                ))
            },
            || async move {
                self.paced().await;
                self.aws
                    .logs
                    .filter_log_events()
                    .log_group_name(group)
                    .start_time(start_ms)
                    .set_next_token(token.map(str::to_owned))
                    .customize()
                    .config_override(one_attempt.clone())
                    .send()
                    .await
            },
        )
        .await;
        page.or_absent(|| format!("read the events of log group {group}"))
    }

    /// Waits for this call's turn under the quota.
    async fn paced(&self) {
        let at = self.pace.lock().expect("pace").slot(Instant::now());
        tokio::time::sleep_until(at.into()).await;
    }
}

/// What passes if asked again: throttling (FilterLogEvents' quota is per account and region,
/// shared with everyone), a failure on AWS's side, a connection that failed or timed out.
fn is_passing(e: &Failure) -> bool {
    const THROTTLED: [&str; 3] = [
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
    ];
    match e {
        SdkError::ServiceError(service) => {
            error_code(e).is_some_and(|code| THROTTLED.contains(&code))
                || service.raw().status().is_server_error()
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        _ => false,
    }
}

fn log_event(event: &FilteredLogEvent) -> Option<LogEvent> {
    Some(LogEvent {
        function: None,
        time: Timestamp::from_millisecond(event.timestamp()?).ok()?,
        stream: event.log_stream_name().map(str::to_owned),
        id: event.event_id().map(str::to_owned),
        line: Line::parse(event.message().unwrap_or_default()),
    })
}
