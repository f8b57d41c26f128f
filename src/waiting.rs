//! No silent waits: every AWS call in flight is known by name (the SDK interceptor in
//! `call_log` registers it), a call that takes more than a few seconds gets a progress line
//! naming it, and a command that runs past its deadline ends with one line naming the call
//! it was still waiting for. Time spent building the function or at a prompt does not count.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// After this long a call gets its first progress line; then one every [`REPEAT`].
const FIRST_WORD: Duration = Duration::from_secs(5);
const REPEAT: Duration = Duration::from_secs(15);
const TICK: Duration = Duration::from_millis(500);

struct Call {
    label: String,
    started: Instant,
    announced: Option<Instant>,
}

static CALLS: Mutex<BTreeMap<u64, Call>> = Mutex::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
/// Time not counted against the deadline (builds, prompts), and since when it is paused.
static PAUSED: Mutex<(Duration, Option<Instant>)> = Mutex::new((Duration::ZERO, None));

/// Registers a call as in flight; `leave` with the id it returns when it has answered.
pub fn enter(label: String) -> u64 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let call = Call {
        label,
        started: Instant::now(),
        announced: None,
    };
    CALLS.lock().unwrap().insert(id, call);
    id
}

pub fn leave(id: u64) {
    CALLS.lock().unwrap().remove(&id);
}

/// The call waited on longest, and for how long.
fn longest_wait() -> Option<(String, Duration)> {
    let calls = CALLS.lock().unwrap();
    calls
        .values()
        .min_by_key(|c| c.started)
        .map(|c| (c.label.clone(), c.started.elapsed()))
}

/// The calls due a progress line now (marked as announced).
fn due_announcements(now: Instant) -> Vec<(String, Duration)> {
    let mut calls = CALLS.lock().unwrap();
    let mut due = Vec::new();
    for call in calls.values_mut() {
        let waited = now.duration_since(call.started);
        let due_now = match call.announced {
            None => waited >= FIRST_WORD,
            Some(at) => now.duration_since(at) >= REPEAT,
        };
        if due_now {
            call.announced = Some(now);
            due.push((call.label.clone(), waited));
        }
    }
    due
}

/// Runs `work` with the deadline's clock stopped (a build, a question to the user).
pub async fn paused<T>(work: impl std::future::Future<Output = T>) -> T {
    PAUSED.lock().unwrap().1 = Some(Instant::now());
    let out = work.await;
    let mut paused = PAUSED.lock().unwrap();
    if let Some(since) = paused.1.take() {
        paused.0 += since.elapsed();
    }
    out
}

fn paused_for() -> Duration {
    let paused = PAUSED.lock().unwrap();
    paused.0 + paused.1.map(|since| since.elapsed()).unwrap_or_default()
}

/// Says which calls are slow, forever; ends (with the error the command ends with) once
/// `deadline` has passed, not counting paused time. Raced against the command in main.
pub async fn watch(deadline: Option<Duration>) -> anyhow::Error {
    let started = Instant::now();
    loop {
        tokio::time::sleep(TICK).await;
        for (label, waited) in due_announcements(Instant::now()) {
            crate::console::progress(format!(
                "waiting for AWS: {label} has not answered for {}",
                whole_seconds(waited)
            ));
        }
        let Some(deadline) = deadline else { continue };
        let used = started.elapsed().saturating_sub(paused_for());
        if used >= deadline {
            return deadline_error(deadline, longest_wait());
        }
    }
}

fn whole_seconds(d: Duration) -> String {
    format!("{} s", d.as_secs())
}

fn deadline_error(deadline: Duration, waiting: Option<(String, Duration)>) -> anyhow::Error {
    let gave_up = format!("gave up after {} (--timeout)", whole_seconds(deadline));
    match waiting {
        Some((label, waited)) => anyhow::anyhow!(
            "{gave_up}: {label} has not answered for {}: check your network (or AWS's health page), then run the command again; it picks up where this one stopped",
            whole_seconds(waited)
        ),
        None => anyhow::anyhow!(
            "{gave_up}: run the command again, or with a longer --timeout"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_call_is_announced_after_a_few_seconds_then_every_fifteen() {
        let call = enter("S3.GetBucketWebsite /b".into());
        let started = CALLS.lock().unwrap()[&call].started;
        let mine = |due: Vec<(String, Duration)>| due.iter().any(|(l, _)| l.contains("/b"));
        assert!(!mine(due_announcements(started + Duration::from_secs(4))));
        assert!(mine(due_announcements(started + Duration::from_secs(5))));
        assert!(!mine(due_announcements(started + Duration::from_secs(10))));
        assert!(mine(due_announcements(started + Duration::from_secs(21))));
        leave(call);
        assert!(!mine(due_announcements(started + Duration::from_secs(60))));
    }

    #[tokio::test]
    async fn time_spent_paused_is_not_counted() {
        let before = paused_for();
        paused(tokio::time::sleep(Duration::from_millis(50))).await;
        assert!(paused_for() >= before + Duration::from_millis(50));
    }

    #[test]
    fn the_deadline_error_names_the_call_it_waited_for() {
        let error = deadline_error(
            Duration::from_secs(600),
            Some((
                "S3.PutObject /b/index.html".into(),
                Duration::from_secs(420),
            )),
        )
        .to_string();
        assert!(
            error.contains("S3.PutObject /b/index.html") && error.contains("--timeout"),
            "{error}"
        );
    }
}
