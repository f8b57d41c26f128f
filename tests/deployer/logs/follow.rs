//! `catup logs --follow`: events written after it started are shown once each, a late event
//! from another instance too; Ctrl-C (SIGINT) stops it.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::fixture::{around, now_ms, put, stream_name, Function};
use super::{columns, group_of, lines_of, wait_for_line, TZ};
use crate::common::{catup_command, World};

/// A running `catup logs --follow`, its stdout read line by line on a thread.
struct Follower {
    child: Child,
    lines: mpsc::Receiver<String>,
    received: Vec<String>,
}

impl Follower {
    fn start(world: &World) -> Follower {
        let mut env = world.env_via(&world.moto.endpoint());
        env.push(("TZ", TZ.to_owned()));
        let mut child = catup_command(
            &world.dir,
            &env,
            &["--stack", &world.stack, "logs", "--follow"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start catup logs --follow");
        let lines = lines_of(child.stdout.take().unwrap());
        Follower {
            child,
            lines,
            received: Vec::new(),
        }
    }

    /// Waits until a line whose message is `message` has arrived.
    #[track_caller]
    fn wait_for(&mut self, message: &str) {
        wait_for_line(&self.lines, &mut self.received, |l| columns(l).1 == message);
    }

    /// SIGINT, then the exit code (None: still running after 5 s) and every line printed.
    fn interrupt(mut self) -> (Option<i32>, Vec<String>) {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        let mut code = None;
        for _ in 0..50 {
            if let Some(status) = self.child.try_wait().unwrap() {
                code = status.code();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // The reader thread ends with stdout; take what it still had.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.received.push(line);
        }
        (code, std::mem::take(&mut self.received))
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn follow_shows_new_events_once_late_ones_too_and_stops_on_sigint() {
    let world = World::new();
    world.deploy();
    let group = group_of(&world.stack);
    let (a, b) = (stream_name('a'), stream_name('b'));
    put(
        &world,
        &group,
        &a,
        &[(now_ms() - 5_000, "before start\n".into())],
    )
    .await;
    let mut follower = Follower::start(&world);
    follower.wait_for("before start");

    // A real invocation on instance A after start: START, the function's line, END, REPORT.
    let upload = Function::of(&world)
        .await
        .invoke("post-upload-png.json")
        .await;
    let at = now_ms();
    put(&world, &group, &a, &around(&upload, at, None)).await;
    follower.wait_for("3.21 ms (billed 41 ms), 19 of 128 MB");
    // Instance B's event, 20 s older than the newest shown, arrives only now.
    put(
        &world,
        &group,
        &b,
        &[(at - 20_000, "late from instance b\n".into())],
    )
    .await;
    follower.wait_for("late from instance b");
    // Polls that find nothing new print nothing (idle back-off: 1 + 2 + 4 s).
    std::thread::sleep(Duration::from_secs(7));

    let (code, lines) = follower.interrupt();
    assert_eq!(
        code,
        Some(0),
        "SIGINT stops it, exit 0:\n{}",
        lines.join("\n")
    );
    let key = upload.body["key"].as_str().unwrap();
    let expected = [
        "before start".to_owned(),
        String::new(),
        format!("request POST 200 {key}"),
        String::new(),
        "3.21 ms (billed 41 ms), 19 of 128 MB".to_owned(),
        "late from instance b".to_owned(),
    ];
    assert_eq!(
        lines.len(),
        expected.len(),
        "each event once:\n{}",
        lines.join("\n")
    );
    for (line, message) in lines.iter().zip(&expected) {
        assert!(
            columns(line).1.starts_with(message.as_str()),
            "{line:?} vs {message:?}"
        );
    }
}
