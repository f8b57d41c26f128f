//! `catup logs` under CloudWatch Logs' hard quota: FilterLogEvents allows 5 calls a second per
//! account and region, answers ThrottlingException past it, and may answer empty pages that
//! carry a next token. The proxy answers as AWS does; the pace is measured at the proxy.

use std::time::{Duration, SystemTime};

use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};
use serde_json::json;

use super::fixture::{now_ms, put_recent, stream_name};
use super::messages;
use crate::common::{run_catup, World};

const QUOTA_PER_SECOND: usize = 5;

/// The most calls labelled `call` that started within any one second.
fn most_in_one_second(proxy: &FaultProxy, call: &str) -> usize {
    let starts: Vec<SystemTime> = proxy
        .spans()
        .into_iter()
        .filter(|s| s.call == call)
        .map(|s| s.start)
        .collect();
    starts
        .iter()
        .map(|from| {
            let until = *from + Duration::from_secs(1);
            starts.iter().filter(|s| *s >= from && **s < until).count()
        })
        .max()
        .unwrap_or(0)
}

/// Throttled six times in a row (more than the SDK's own five attempts): logs waits it out
/// and prints every event, saying that it waits.
#[tokio::test(flavor = "multi_thread")]
async fn throttling_is_waited_out() {
    let world = World::new();
    world.deploy();
    put_recent(&world, "after the throttling").await;
    let throttled = Scripted::new(
        On::logs("FilterLogEvents"),
        6,
        Answer::error(400, "ThrottlingException", "Rate exceeded"),
    );
    let proxy = FaultProxy::start(&world.moto.endpoint(), Policy::Script(vec![throttled])).await;
    // Waits a tenth as long: the 2 minutes catup would wait take 12 s, its pace unchanged.
    let mut env = world.env_via(&proxy.endpoint());
    env.push(("CATUP_SETTLE_SCALE", "0.1".into()));
    let run = run_catup(&world.dir, &env, &["--stack", &world.stack, "logs"]).ok();
    assert_eq!(proxy.answered(0), 6);
    assert_eq!(messages(&run), ["after the throttling"], "{}", run.stderr);
    assert!(
        run.stderr
            .contains("ThrottlingException: Rate exceeded, retrying in"),
        "{}",
        run.stderr
    );
    assert!(
        most_in_one_second(&proxy, "logs FilterLogEvents") <= QUOTA_PER_SECOND,
        "{:?}",
        proxy.spans()
    );
}

/// Twelve empty pages, each with a next token, then the page with the event: every page is
/// read, and never more than the quota's calls in a second.
#[tokio::test(flavor = "multi_thread")]
async fn empty_pages_are_followed_under_five_calls_a_second() {
    const EMPTY: usize = 12;
    let world = World::new();
    world.deploy();
    let at = now_ms() - 1_000;
    let page = |token: Option<String>, events: serde_json::Value| {
        let mut page = json!({"events": events, "searchedLogStreams": []});
        if let Some(token) = token {
            page["nextToken"] = json!(token);
        }
        Answer::Json(page)
    };
    let token = |n: usize| format!("empty-page-{n}");
    let mut script: Vec<Scripted> = (1..=EMPTY)
        .map(|n| {
            let next = match n {
                EMPTY => page(
                    None,
                    json!([{"logStreamName": stream_name('a'), "timestamp": at,
                            "message": "found past the empty pages\n", "ingestionTime": at,
                            "eventId": "1"}]),
                ),
                _ => page(Some(token(n + 1)), json!([])),
            };
            let asked =
                On::logs("FilterLogEvents").with_body(format!("\"nextToken\":\"{}\"", token(n)));
            Scripted::new(asked, 1, next)
        })
        .collect();
    script.push(Scripted::new(
        On::logs("FilterLogEvents"),
        1,
        page(Some(token(1)), json!([])),
    ));
    let proxy = FaultProxy::start(&world.moto.endpoint(), Policy::Script(script)).await;
    let run = world
        .catup_via(&proxy.endpoint(), &world.stack, &["logs"])
        .ok();
    assert_eq!(
        messages(&run),
        ["found past the empty pages"],
        "{}",
        run.stderr
    );
    for entry in 0..=EMPTY {
        assert_eq!(proxy.answered(entry), 1, "entry {entry}");
    }
    let most = most_in_one_second(&proxy, "logs FilterLogEvents");
    assert!(most <= QUOTA_PER_SECOND, "{most} calls in one second");
}
