//! `catup logs`: the function's log events from CloudWatch Logs (FilterLogEvents over every
//! stream of `/aws/lambda/<stack>-api`, all pages, ordered by time), as text or JSON lines;
//! `--follow` keeps polling with back-off until Ctrl-C.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use jiff::Timestamp;

use super::{exit, Context, EXIT_NOT_DEPLOYED};
use crate::aws::{Aws, SdkResultExt};
use crate::cli::{GlobalArgs, LogsArgs};
use crate::logs::follow::{Backoff, Seen, LATE_WINDOW};
use crate::logs::{Line, LogEvent, Printer};
use crate::output::command_for;

/// Polls: one second apart while events arrive, up to five while none do. FilterLogEvents
/// allows 5 calls a second per account and region, shared with everyone else.
const POLL_MIN: Duration = Duration::from_secs(1);
const POLL_MAX: Duration = Duration::from_secs(5);

pub async fn run(global: &GlobalArgs, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::open(global).await?;
    let stack = &ctx.stack;
    let function = &stack.function_name;
    let deployed = ctx
        .aws
        .lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .or_absent(|| format!("read function {function}"))?
        .is_some();
    if !deployed {
        let name = stack.name.as_str();
        eprintln!(
            "stack '{name}' is not deployed in {} (no function {function}): run `{}`",
            stack.region,
            command_for(name, "deploy")
        );
        return Ok(exit(EXIT_NOT_DEPLOYED));
    }

    let printer = Printer::new(global.json, io::stdout().is_terminal());
    let mut seen = Seen::new(args.since.start_millis(Timestamp::now()), LATE_WINDOW);
    let group = &stack.log_group;
    let stop = tokio::signal::ctrl_c();
    let shown = async {
        let first = fetch(&ctx.aws, group, seen.start_millis()).await?;
        if first.is_none() {
            let waiting = if args.follow { "; waiting for it" } else { "" };
            eprintln!("no logs yet: log group {group} does not exist (the function has not run since it was deployed){waiting}");
        }
        if !show(&printer, seen.fresh(first.unwrap_or_default()))? || !args.follow {
            return anyhow::Ok(());
        }
        let mut backoff = Backoff::new(POLL_MIN, POLL_MAX);
        let mut wait = POLL_MIN;
        loop {
            tokio::time::sleep(wait).await;
            let events = fetch(&ctx.aws, group, seen.start_millis()).await?;
            let fresh = seen.fresh(events.unwrap_or_default());
            wait = backoff.next(!fresh.is_empty());
            if !show(&printer, fresh)? {
                return Ok(());
            }
        }
    };
    tokio::select! {
        shown = shown => shown?,
        _ = stop => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Every event of the log group from `start_ms` on, oldest first (ties in CloudWatch's order);
/// `None` when the log group does not exist.
async fn fetch(aws: &Aws, group: &str, start_ms: i64) -> anyhow::Result<Option<Vec<LogEvent>>> {
    let mut pages = aws
        .logs
        .filter_log_events()
        .log_group_name(group)
        .start_time(start_ms)
        .into_paginator()
        .send();
    let mut events = Vec::new();
    while let Some(page) = pages.next().await {
        let Some(page) = page.or_absent(|| format!("read the events of log group {group}"))? else {
            return Ok(None);
        };
        events.extend(page.events().iter().filter_map(log_event));
    }
    events.sort_by_key(|e| e.time);
    Ok(Some(events))
}

fn log_event(event: &FilteredLogEvent) -> Option<LogEvent> {
    Some(LogEvent {
        time: Timestamp::from_millisecond(event.timestamp()?).ok()?,
        stream: event.log_stream_name().map(str::to_owned),
        id: event.event_id().map(str::to_owned),
        line: Line::parse(event.message().unwrap_or_default()),
    })
}

/// Prints the events; `false` once stdout is closed (`catup logs | head`): time to stop.
fn show(printer: &Printer, events: Vec<LogEvent>) -> anyhow::Result<bool> {
    let mut out = io::stdout().lock();
    let written = events
        .iter()
        .try_for_each(|event| printer.print(&mut out, event))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(anyhow::Error::new(e).context("write the logs to stdout")),
    }
}
