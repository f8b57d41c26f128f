//! No silent waits: a call AWS does not answer is named on stderr after a few seconds, is
//! retried after an attempt timeout sized to the call (seconds, not minutes), and a command
//! past its deadline ends with one line naming the call it was waiting for.

use std::time::{Duration, Instant};

use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};

use crate::common::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_never_answers_is_named_and_ends_the_command_at_its_deadline() {
    let w = World::new();
    w.deploy();
    let site = w.site_bucket();
    let hold = Scripted::new(On::s3("GET", &site, "website"), usize::MAX, Answer::Hold);
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(vec![hold])).await;

    let started = Instant::now();
    let run = w
        .catup_via(&proxy.endpoint(), &w.stack, &["--timeout", "8", "status"])
        .fails_with(1, "gave up after 8 s (--timeout)");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "ended after {took:?}");
    let call = format!("S3.GetBucketWebsite /{site}");
    let waiting = format!("waiting for AWS: {call} has not answered for");
    assert!(
        run.stderr.contains(&waiting),
        "no progress line:\n{}",
        run.stderr
    );
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: gave up") && last.contains(&call),
        "the last line names the call:\n{}",
        run.stderr
    );
}

/// One attempt that hangs is cut at the attempt timeout (20 s, not 90) and retried; the wait
/// is said meanwhile, and the command then succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_attempt_is_retried_after_seconds_and_said_meanwhile() {
    let w = World::new();
    w.deploy();
    let site = w.site_bucket();
    let hold = Scripted::new(On::s3("GET", &site, "website"), 1, Answer::Hold);
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(vec![hold])).await;

    let started = Instant::now();
    let run = w.catup_via(&proxy.endpoint(), &w.stack, &["status"]).ok();
    let took = started.elapsed();
    assert_eq!(proxy.answered(0), 1);
    assert!(
        took >= Duration::from_secs(20),
        "{took:?}: the hold was not waited out"
    );
    assert!(
        took < Duration::from_secs(45),
        "{took:?}: attempts are not cut at 20 s"
    );
    let waiting = format!("waiting for AWS: S3.GetBucketWebsite /{site} has not answered for");
    assert!(run.stderr.contains(&waiting), "{}", run.stderr);
}
