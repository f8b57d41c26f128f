//! `catup logs` given what an adversary or a slip of the keyboard gives it: a `--since` before
//! 1970, log lines with terminal escape sequences, a function of the stack's name that is not
//! the stack's, and a log group with no events.

use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};

use super::fixture::{now_ms, put, put_recent, stream_name};
use super::{group_of, logs, messages, said};
use crate::common::World;

/// `--since 99999999999w` and a date in 1900 mean "from the beginning": startTime 0. AWS
/// refuses a negative startTime, as the proxy does here.
#[tokio::test(flavor = "multi_thread")]
async fn a_since_before_1970_reads_from_the_beginning() {
    let world = World::new();
    world.deploy();
    let group = group_of(&world.stack);
    let two_days_ago = now_ms() - 2 * 86_400_000;
    put(
        &world,
        &group,
        &stream_name('a'),
        &[(two_days_ago, "old news\n".into())],
    )
    .await;
    let negative = On::logs("FilterLogEvents").with_body("\"startTime\":-");
    let refused = Answer::error(
        400,
        "InvalidParameterException",
        "1 validation error detected: Value at 'startTime' failed to satisfy constraint: Member must have value greater than or equal to 0",
    );
    let proxy = FaultProxy::start(
        &world.moto.endpoint(),
        Policy::Script(vec![Scripted::new(negative, usize::MAX, refused)]),
    )
    .await;
    for since in ["99999999999w", "1900-01-01T00:00:00Z"] {
        let run = world
            .catup_via(&proxy.endpoint(), &world.stack, &["logs", "--since", since])
            .ok();
        assert_eq!(messages(&run), ["old news"], "{since}: {}", run.stderr);
    }
    assert_eq!(proxy.answered(0), 0, "a negative startTime was sent");
}

/// A log line is whatever a request made the function write: in text its control characters
/// are shown escaped, never sent to the terminal; JSON carries them exactly (escaped by JSON).
#[tokio::test]
async fn escape_sequences_in_messages_are_shown_escaped() {
    let world = World::new();
    world.deploy();
    let hostile = "\u{1b}]0;owned\u{7}\u{1b}[2Jcleared\rback\ttab";
    put_recent(&world, hostile).await;
    let text = logs(&world, &world.stack, &[]).ok();
    assert!(
        !text.stdout.contains(['\u{1b}', '\u{7}', '\r']),
        "{:?}",
        text.stdout
    );
    assert_eq!(
        messages(&text),
        ["\\x1b]0;owned\\x07\\x1b[2Jcleared\\x0dback\ttab"]
    );
    let json = logs(&world, &world.stack, &["--json"]).ok();
    let event: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(event["message"], hostile);
}

/// A function named `<stack>-api` that someone made by hand (no catup:stack tag) logs their
/// requests, not the stack's: logs refuses it as deploy and teardown do, and prints none.
#[tokio::test]
async fn a_foreign_function_s_events_are_not_shown() {
    let world = World::new();
    let role = world.lab_role().await;
    crate::teardown::hand_made_function(&world, &role).await;
    put_recent(&world, "someone else's request").await;
    let run = logs(&world, &world.stack, &[]).fails_with(
        1,
        &format!(
            "function {} exists but does not belong to stack '{}' (it has no catup:stack tag)",
            world.function(),
            world.stack
        ),
    );
    assert_eq!(run.stdout, "");
}

/// No events is said in one line: since when, for which log group and function, and how to
/// make some; the exit code is 0.
#[tokio::test]
async fn no_events_says_so_and_how_to_make_some() {
    let world = World::new();
    world.deploy();
    let group = group_of(&world.stack);
    // The log group exists, with an event older than the default ten minutes.
    put(
        &world,
        &group,
        &stream_name('a'),
        &[(now_ms() - 3_600_000, "an hour ago\n".into())],
    )
    .await;
    let run = logs(&world, &world.stack, &[]).ok();
    assert_eq!(run.stdout, "");
    let said = said(&run);
    assert_eq!(said.len(), 1, "{}", run.stderr);
    let line = said[0];
    for part in [
        "no events since ",
        &format!("in log group {group} (function {}-api)", world.stack),
        "upload a picture",
        &format!("catup --stack {} verify", world.stack),
    ] {
        assert!(line.contains(part), "{part:?} not in {line}");
    }
}
