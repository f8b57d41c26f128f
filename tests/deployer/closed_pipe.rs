//! A closed stdout (`catup status | head -1`, a script that stopped reading) ends a command
//! quietly: exit 0 (or 141, SIGPIPE's convention), never a panic nor `error: Broken pipe`.

use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

use crate::common::{catup_command, World};
use crate::logs::fixture::put_recent;

/// Runs `catup --stack STACK ARGS` with its stdout a pipe nobody reads (closed before catup
/// writes a byte); stderr too when `with_stderr` (`2>&1 | head -1`). Its exit code, and its
/// stderr when that was kept apart.
fn with_reader_gone(w: &World, args: &[&str], with_stderr: bool) -> (Option<i32>, String) {
    let writer = pipe_without_reader();
    let mut command = catup_command(
        &w.dir,
        &w.env_via(&w.moto.endpoint()),
        &[&["--stack", w.stack.as_str()], args].concat(),
    );
    command.stdout(writer.try_clone().unwrap());
    match with_stderr {
        true => command.stderr(Stdio::from(writer)),
        false => command.stderr(Stdio::piped()),
    };
    let out = command.output().expect("run catup");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The write end of a pipe whose reader has gone: the stdin of a `true` that has exited.
fn pipe_without_reader() -> OwnedFd {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("run true");
    let writer = OwnedFd::from(reader.stdin.take().unwrap());
    reader.wait().unwrap();
    writer
}

#[tokio::test]
async fn a_closed_stdout_ends_every_command_quietly() {
    let w = World::new();
    w.deploy();
    put_recent(&w, "an event").await;
    let bootstrap = w.bootstrap.to_str().unwrap().to_owned();
    let cases: [(&[&str], bool); 6] = [
        (&["status"], false),
        (&["--json", "status"], false),
        (&["plan", "--bootstrap", &bootstrap], false),
        (&["logs"], false),
        (&["-v", "status"], true),
        (&["-v", "--json", "logs"], true),
    ];
    for (args, with_stderr) in cases {
        let (code, stderr) = with_reader_gone(&w, args, with_stderr);
        assert!(
            matches!(code, Some(0) | Some(141)),
            "{args:?}: exit {code:?}\n{stderr}"
        );
        for never in ["panicked", "Broken pipe", "error"] {
            assert!(!stderr.contains(never), "{args:?}: {never:?} in\n{stderr}");
        }
    }
}
