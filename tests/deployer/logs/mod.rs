//! `catup logs`: the function's log events, written into moto as Lambda writes them (see
//! `fixture`), read back through the real binary.

mod edges;
pub(crate) mod fixture;
mod follow;
mod missing;
mod paced;

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jiff::tz::{Offset, TimeZone};
use serde_json::Value;

use crate::common::{run_catup, Run, World};
use crate::dev::Dev;
use fixture::{around, now_ms, put, stream_name, Function, Invocation, INIT_START};

/// The time zone the tests run catup in (no tz database needed): UTC+05:30.
const TZ: &str = "IST-5:30";

fn group_of(stack: &str) -> String {
    format!("/aws/lambda/{stack}-api")
}

/// `catup --stack STACK logs ARGS` in the TZ above.
fn logs(world: &World, stack: &str, args: &[&str]) -> Run {
    let mut env = world.env_via(&world.moto.endpoint());
    env.push(("TZ", TZ.to_owned()));
    run_catup(
        &world.dir,
        &env,
        &[&["--stack", stack, "logs"], args].concat(),
    )
}

/// The lines of a child's output, read on a thread as they come.
fn lines_of(output: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// Receives lines into `received` until one matches (at most 20 s); returns it.
#[track_caller]
fn wait_for_line(
    lines: &mpsc::Receiver<String>,
    received: &mut Vec<String>,
    matches: impl Fn(&str) -> bool,
) -> String {
    const WAIT: Duration = Duration::from_secs(20);
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(line) = received.iter().find(|l| matches(l)) {
            return line.clone();
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => received.push(line),
            Err(_) => panic!(
                "no such line within {WAIT:?}; got:\n{}",
                received.join("\n")
            ),
        }
    }
}

/// What `write_two_instances` wrote.
struct Written {
    base: i64,
    /// Every event, in time order.
    events: Vec<(i64, String)>,
    upload: Invocation,
    refused: Invocation,
    gallery: Invocation,
}

/// Two function instances (two streams) two minutes ago: instance A cold-starts for an
/// upload and later serves the gallery; instance B cold-starts for a refused upload in
/// between. Each stream is written in one PutLogEvents.
async fn write_two_instances(world: &World) -> Written {
    let function = Function::of(world).await;
    let upload = function.invoke("post-upload-png.json").await;
    let refused = function.invoke("post-text-plain.json").await;
    let gallery = function.invoke("get-gallery.json").await;
    let base = now_ms() - 120_000;
    let mut a = vec![(base, INIT_START.to_owned())];
    a.extend(around(&upload, base + 5, Some(37.52)));
    a.extend(around(&gallery, base + 40, None));
    let mut b = vec![(base + 15, INIT_START.to_owned())];
    b.extend(around(&refused, base + 20, Some(35.0)));
    let group = group_of(&world.stack);
    put(world, &group, &stream_name('a'), &a).await;
    put(world, &group, &stream_name('b'), &b).await;
    let mut events = [a, b].concat();
    events.sort_by_key(|(at, _)| *at);
    Written {
        base,
        events,
        upload,
        refused,
        gallery,
    }
}

/// The request id and tag columns of a text line ("8f507cfc START"), and its message.
fn columns(line: &str) -> (String, &str) {
    let head = line.get(24..39).or(line.get(24..)).unwrap_or_default();
    let head = head.split_whitespace().collect::<Vec<_>>().join(" ");
    (head, line.get(40..).unwrap_or_default())
}

/// What catup said on stderr, without the SDK's warning about the test's missing config files.
fn said(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| !l.contains("config file overridden"))
        .collect()
}

fn messages(run: &Run) -> Vec<&str> {
    run.stdout.lines().map(|l| columns(l).1).collect()
}

fn short(invocation: &Invocation) -> &str {
    &invocation.request_id[..8]
}

#[tokio::test]
async fn text_lines_interleave_both_streams_by_time_in_local_time() {
    let world = World::new();
    world.deploy();
    let w = write_two_instances(&world).await;
    let run = logs(&world, &world.stack, &[]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), w.events.len(), "{}", run.stdout);

    // The request id and tag columns, in time order across the two streams.
    let heads: Vec<String> = lines.iter().map(|l| columns(l).0).collect();
    let (u, r, g) = (short(&w.upload), short(&w.refused), short(&w.gallery));
    let expected = [
        "INIT".to_owned(),
        format!("{u} START"),
        format!("{u} INFO"),
        format!("{u} END"),
        format!("{u} REPORT"),
        "INIT".to_owned(),
        format!("{r} START"),
        format!("{r} WARN"),
        format!("{r} END"),
        format!("{r} REPORT"),
        format!("{g} START"),
        format!("{g} INFO"),
        format!("{g} END"),
        format!("{g} REPORT"),
    ];
    assert_eq!(heads, expected, "{}", run.stdout);

    // Local time (UTC+05:30) with milliseconds.
    let local = TimeZone::fixed(Offset::from_seconds(5 * 3600 + 1800).unwrap())
        .to_datetime(jiff::Timestamp::from_millisecond(w.base).unwrap())
        .strftime("%Y-%m-%d %H:%M:%S%.3f")
        .to_string();
    assert!(lines[0].starts_with(&local), "{} vs {local}", lines[0]);
    assert_eq!(columns(lines[0]).1, "provided:al2023.v75");

    // The function's lines: message, method, status, key, latency; the refusal's code.
    let key = w.upload.body["key"].as_str().unwrap();
    assert_eq!(w.upload.status, 200);
    let upload = lines[2];
    assert!(
        upload.contains(&format!("request POST 200 {key} ")) && upload.ends_with(" ms"),
        "{upload}"
    );
    assert!(
        lines[7].contains("request POST 415") && lines[7].contains("code=unsupported_media_type"),
        "{}",
        lines[7]
    );
    assert!(lines[11].contains("request GET 200 "), "{}", lines[11]);
    // REPORT condensed; Init Duration on the cold starts only.
    assert!(lines[4].ends_with("REPORT 3.21 ms (billed 41 ms), 19 of 128 MB, init 37.52 ms"));
    assert!(lines[9].ends_with("init 35 ms"), "{}", lines[9]);
    assert!(lines[13].ends_with("REPORT 3.21 ms (billed 41 ms), 19 of 128 MB"));
    assert!(!run.stdout.contains('\u{1b}'), "no colours off a terminal");
    eprintln!("catup logs, as printed:\n{}", run.stdout);
}

#[tokio::test]
async fn json_prints_one_object_per_event() {
    let world = World::new();
    world.deploy();
    let w = write_two_instances(&world).await;
    let run = logs(&world, &world.stack, &["--json"]).ok();
    let objects: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(objects.len(), w.events.len(), "{}", run.stdout);
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "init_start",
            "start",
            "app",
            "end",
            "report",
            "init_start",
            "start",
            "app",
            "end",
            "report",
            "start",
            "app",
            "end",
            "report"
        ]
    );
    let upload = &objects[2];
    assert_eq!(upload["request_id"], w.upload.request_id.as_str());
    assert_eq!(upload["level"], "INFO");
    assert_eq!(upload["message"], "request");
    assert_eq!(upload["fields"]["method"], "POST");
    assert_eq!(upload["fields"]["status"], 200);
    assert_eq!(upload["fields"]["key"], w.upload.body["key"]);
    assert!(upload["fields"]["latency_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(upload["stream"], stream_name('a').as_str());
    assert_eq!(objects[6]["stream"], stream_name('b').as_str());
    assert!(upload["id"].as_str().is_some_and(|id| !id.is_empty()));
    let report = &objects[4];
    assert_eq!(report["request_id"], w.upload.request_id.as_str());
    assert_eq!(report["duration_ms"], 3.21);
    assert_eq!(report["billed_duration_ms"], 41.0);
    assert_eq!(report["max_memory_used_mb"], 19);
    assert_eq!(report["init_duration_ms"], 37.52);
    assert!(objects[13].get("init_duration_ms").is_none());
    let first_ms = jiff::Timestamp::from_millisecond(w.base)
        .unwrap()
        .to_string();
    assert_eq!(objects[0]["time"], first_ms.as_str());
}

#[tokio::test]
async fn since_takes_a_duration_or_a_time() {
    let world = World::new();
    world.deploy();
    let now = now_ms();
    let group = group_of(&world.stack);
    let events = [
        (now - 2 * 3_600_000, "two hours ago\n".to_owned()),
        (now - 300_000, "five minutes ago\n".to_owned()),
    ];
    put(&world, &group, &stream_name('a'), &events).await;
    let shown = |args: &[&str]| -> Vec<String> {
        let run = logs(&world, &world.stack, args).ok();
        messages(&run).into_iter().map(str::to_owned).collect()
    };
    // The default is the last ten minutes.
    assert_eq!(shown(&[]), ["five minutes ago"]);
    assert_eq!(
        shown(&["--since", "3h"]),
        ["two hours ago", "five minutes ago"]
    );
    assert_eq!(shown(&["--since", "1m"]), Vec::<String>::new());
    let an_hour_ago = jiff::Timestamp::from_millisecond(now - 3_600_000).unwrap();
    assert_eq!(
        shown(&["--since", &an_hour_ago.to_string()]),
        ["five minutes ago"]
    );
    let run = logs(&world, &world.stack, &["--since", "yesterday"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("use 30s, 10m, 1h, 2d, 1w or a time like"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn another_stack_s_events_are_never_shown() {
    let world = World::new();
    world.deploy();
    // Stack "<stack>-api" has the log group "/aws/lambda/<stack>-api-api": ours is a prefix
    // of its name, so reading by prefix would mix them.
    let other = format!("{}-api", world.stack);
    world.deploy_as(&other, &[]);
    let now = now_ms();
    put(
        &world,
        &group_of(&world.stack),
        &stream_name('a'),
        &[(now - 1_000, "ours\n".into())],
    )
    .await;
    put(
        &world,
        &group_of(&other),
        &stream_name('a'),
        &[(now - 500, "theirs\n".into())],
    )
    .await;
    let ours = logs(&world, &world.stack, &[]).ok();
    assert_eq!(messages(&ours), ["ours"]);
    let theirs = logs(&world, &other, &[]).ok();
    assert_eq!(messages(&theirs), ["theirs"]);
}

#[tokio::test]
async fn dev_prints_the_function_s_lines_as_logs_does() {
    let mut dev = Dev::start(&catup_testkit::unique_name("d"), None).unwrap();
    let stderr = lines_of(dev.take_stderr());
    let response = reqwest::Client::new()
        .post(dev.url("function_url"))
        .header("content-type", "application/json")
        .body(r#"{"contentType": "image/png", "size": 68}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let key = body["key"].as_str().unwrap();
    let mut received = Vec::new();
    let line = wait_for_line(&stderr, &mut received, |l| {
        columns(l)
            .1
            .starts_with(&format!("request POST 200 {key} "))
    });
    // The same columns as `catup logs`: local time, a short request id, the level.
    let (head, message) = columns(&line);
    let (id, level) = head.split_once(' ').unwrap();
    assert!(
        jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S%.f", &line[..23]).is_ok(),
        "{line}"
    );
    assert!(
        id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{line}"
    );
    assert_eq!(level, "INFO", "{line}");
    assert!(message.ends_with(" ms"), "{line}");
}

#[tokio::test]
async fn every_page_is_read_and_ordered_across_streams() {
    let world = World::new();
    world.deploy();
    let group = group_of(&world.stack);
    // 12,000 events: more than one FilterLogEvents page (10,000 at most), the two streams'
    // events alternating in time.
    let start = now_ms() - 300_000;
    let events = |offset: i64| -> Vec<(i64, String)> {
        (0..6_000)
            .map(|i| {
                (
                    start + 2 * i + offset,
                    format!("event {}\n", 2 * i + offset),
                )
            })
            .collect()
    };
    put(&world, &group, &stream_name('a'), &events(0)).await;
    put(&world, &group, &stream_name('b'), &events(1)).await;
    let run = logs(&world, &world.stack, &[]).ok();
    let expected: Vec<String> = (0..12_000).map(|i| format!("event {i}")).collect();
    assert_eq!(messages(&run), expected);
}
