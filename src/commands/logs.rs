//! `catup logs`: the function's log events from CloudWatch Logs (FilterLogEvents over every
//! stream of `/aws/lambda/<stack>-api`, all pages, ordered by time), as text or JSON lines;
//! `--follow` keeps polling with back-off until Ctrl-C.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use jiff::Timestamp;

mod fetch;
use fetch::Reader;

use super::{exit, Context, EXIT_NOT_DEPLOYED};
use crate::cli::{GlobalArgs, LogsArgs, StackFunction};
use crate::logs::follow::{Backoff, Seen, LATE_WINDOW};
use crate::logs::{LogEvent, Printer};
use crate::output::{command_for, say};
use crate::reconcile::{Kind, Ownership};
use crate::resource_support::thumbnails;
use crate::resources::function;
use crate::stack::Stack;

/// Polls: one second apart while events arrive, up to five while none do. FilterLogEvents
/// allows 5 calls a second per account and region, shared with everyone else.
const POLL_MIN: Duration = Duration::from_secs(1);
const POLL_MAX: Duration = Duration::from_secs(5);

pub async fn run(global: &GlobalArgs, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let mut ctx = Context::open(global).await?;
    let stack = &ctx.stack;
    let function = &stack.function_name;
    let read = ctx.function_read.take();
    let Some(actual) = function::describe_unless_read(&ctx.aws, function, read).await? else {
        let name = stack.name.as_str();
        let message = format!(
            "stack '{name}' is not deployed in {} (no function {function}): run `{}`",
            stack.region,
            command_for(name, "deploy")
        );
        say(&message);
        let elsewhere = super::finding::elsewhere(&ctx, "logs").await;
        if global.json {
            // A script reading stdout gets an object either way.
            let error = super::finding::not_here_json(&message, &elsewhere);
            let _ = writeln!(io::stdout(), "{error}");
        }
        return Ok(exit(EXIT_NOT_DEPLOYED));
    };
    // A function of this name that is not the stack's (made by hand in the console) logs
    // someone else's requests: deploy and teardown refuse it, and so does logs.
    Ownership::require_ours(
        actual.stack_tag.as_deref(),
        Kind::Function,
        function,
        stack.tag_value(),
    )?;

    let printer = Printer::new(global.json, io::stdout().is_terminal());
    let since = args.since.start_millis(Timestamp::now());
    let mut seen = Seen::new(since, LATE_WINDOW);
    let groups = groups(stack, args.function, thumbnails::remembered(Some(&actual)));
    let reader = Readers::new(&ctx.aws, &groups);
    let stop = tokio::signal::ctrl_c();
    let shown = async {
        let first = reader.events_since(seen.start_millis()).await?;
        let waiting = if args.follow { "; waiting for it" } else { "" };
        for (_, group) in &groups {
            if !first.found.contains(group) {
                say(format!("no logs yet: log group {group} does not exist (the function has not run since it was deployed){waiting}"));
            }
        }
        if !first.found.is_empty() && first.events.is_empty() {
            say(no_events(stack, since, args.follow));
        }
        if !show(&printer, seen.fresh(first.events))? || !args.follow {
            return anyhow::Ok(());
        }
        let mut backoff = Backoff::new(POLL_MIN, POLL_MAX);
        let mut wait = POLL_MIN;
        loop {
            tokio::time::sleep(wait).await;
            let events = reader.events_since(seen.start_millis()).await?.events;
            let fresh = seen.fresh(events);
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

/// The log groups `logs` reads, each with the name its lines carry (none when it reads one).
fn groups(
    stack: &Stack,
    only: Option<StackFunction>,
    makes_thumbnails: bool,
) -> Vec<(Option<&'static str>, String)> {
    let api = stack.log_group.clone();
    let thumbs = stack.thumbs.log_group.clone();
    match only {
        Some(StackFunction::Api) => vec![(None, api)],
        Some(StackFunction::Thumbs) => vec![(None, thumbs)],
        None if makes_thumbnails => vec![(Some("api"), api), (Some("thumbs"), thumbs)],
        None => vec![(None, api)],
    }
}

/// One reader per log group, their events merged in time order.
struct Readers<'a> {
    readers: Vec<(Option<&'static str>, &'a str, Reader<'a>)>,
}

/// What one read of every group found.
struct Read {
    events: Vec<LogEvent>,
    /// The groups that exist.
    found: Vec<String>,
}

impl<'a> Readers<'a> {
    fn new(aws: &'a crate::aws::Aws, groups: &'a [(Option<&'static str>, String)]) -> Readers<'a> {
        let readers = groups
            .iter()
            .map(|(label, group)| (*label, group.as_str(), Reader::new(aws, group)))
            .collect();
        Readers { readers }
    }

    /// Every group's events from `start_ms` on, in time order. One group after the other:
    /// two at most, each call paced under FilterLogEvents' quota.
    async fn events_since(&self, start_ms: i64) -> anyhow::Result<Read> {
        let mut read = Read {
            events: Vec::new(),
            found: Vec::new(),
        };
        for (label, group, reader) in &self.readers {
            if let Some(events) = reader.events_since(start_ms).await? {
                read.found.push((*group).to_owned());
                let labelled = events.into_iter().map(|e| LogEvent {
                    function: *label,
                    ..e
                });
                read.events.extend(labelled);
            }
        }
        // Stable: events of one group keep CloudWatch's order among equal times.
        read.events.sort_by_key(|e| e.time);
        Ok(read)
    }
}

/// "No events" in one line: since when, where, and how to make some.
fn no_events(stack: &Stack, since_ms: i64, follow: bool) -> String {
    let since = Timestamp::from_millisecond(since_ms)
        .map(|t| {
            jiff::tz::TimeZone::system()
                .to_datetime(t)
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default();
    let then = if follow { "; waiting for new ones" } else { "" };
    format!(
        "no events since {since} in log group {} (function {}){then}: open {} and upload a picture, or run `{}`, to make some; --since 1d looks further back",
        stack.log_group,
        stack.function_name,
        stack.website_url(),
        command_for(stack.name.as_str(), "verify")
    )
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
