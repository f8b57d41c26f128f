//! README.md's set-up, run as a user would: `./scripts/dev` from the checkout, on a PATH and
//! HOME of its own, then every path the README names is looked for. The build is the one the
//! tests already made (the same target folder and cargo home: cargo finds it fresh), moto_server
//! is on that PATH (nothing is downloaded), and `--help` makes `catup dev` answer and exit.
//! The set-up scripts' heartbeat is run here too, with a one-second beat.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use catup_testkit::unique_name;

use crate::build_kit::toolchain_env;

/// Paths the README names that no set-up line makes, and what makes them.
const MADE_ELSEWHERE: [(&str, &str); 3] = [
    ("target/browser/gallery.png", "the browser test"),
    (
        "target/lambda-fn/",
        "the first build of the function (a deploy, or the tests')",
    ),
    (
        "~/.cargo/bin",
        "rustup (`cargo install` puts catup there; not run: a release build)",
    ),
];

#[test]
fn scripts_dev_sets_up_every_path_the_readme_names() {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    let home = scratch("home");
    let out = scripts_dev(checkout, &home, &["--help"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Usage: catup dev"), "{stdout}\n{stderr}");
    // Nothing installed, nothing compiled: the tools on PATH and the tests' own build serve.
    for unsaid in ["installing", "creating .venv", "Compiling", "a few minutes"] {
        let said = format!("{stdout}{stderr}");
        assert!(!said.contains(unsaid), "{unsaid:?} in:\n{said}");
    }
    assert!(stdout.contains("==> building catup: cargo build -p catup (rebuilds what changed"));

    let readme = std::fs::read_to_string(checkout.join("README.md")).unwrap();
    let named = paths_named(&readme);
    assert!(
        named.len() >= 6,
        "too few paths found in README.md: {named:?}"
    );
    let target = target_dir();
    for path in named {
        if let Some((_, by)) = MADE_ELSEWHERE.iter().find(|(p, _)| *p == path) {
            eprintln!("{path}: made by {by}");
            continue;
        }
        let on_disk = match path.strip_prefix("target/") {
            Some(inside) => target.join(inside),
            None => checkout.join(path.trim_start_matches("./")),
        };
        eprintln!("{path}: {}", on_disk.display());
        assert!(
            on_disk.exists(),
            "README.md names {path}, absent after ./scripts/dev ({})",
            on_disk.display()
        );
    }
}

/// The paths a set-up reader meets: every path in the Set-up section, every `.venv/bin/...`
/// anywhere (what scripts/dev installs or links there) and `target/debug/catup` (what it
/// builds). `.venv/bin/pip` is the README's own `python3 -m venv` line's, not the scripts'.
fn paths_named(readme: &str) -> Vec<String> {
    let start = readme.find("\n## Set-up").expect("a Set-up section");
    let end = readme[start + 1..]
        .find("\n## ")
        .map_or(readme.len(), |e| start + 1 + e);
    let mut paths: Vec<String> = words(&readme[start..end])
        .filter(|w| w.contains('/') && !w.contains("://"))
        .collect();
    let anywhere = words(readme).filter(|w| {
        (w.starts_with(".venv/bin/") && *w != ".venv/bin/pip") || *w == "target/debug/catup"
    });
    paths.extend(anywhere);
    paths.sort();
    paths.dedup();
    paths
}

/// Backticked words and the words of code blocks, split where a shell would.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(['`', ' ', '\n', '(', ')', '&', ';', '=', '"', '\''])
        .map(|w| w.trim_end_matches([',', '.', ':']))
        .filter(|w| !w.is_empty() && !w.starts_with('-') && !w.starts_with("http"))
        .filter(|w| w.starts_with(['.', '~']) || w.starts_with("target/") || is_in_tree(w))
        .map(str::to_owned)
}

/// A relative path whose first folder is one of the checkout's (scripts/, tests/, ...).
fn is_in_tree(word: &str) -> bool {
    let Some((first, _)) = word.split_once('/') else {
        return false;
    };
    !first.is_empty() && Path::new(env!("CARGO_MANIFEST_DIR")).join(first).is_dir()
}

/// `./scripts/dev ARGS` with PATH = cargo's, moto_server's and the system's folders only,
/// HOME = `home`, and the tests' target folder and cargo home.
fn scripts_dev(checkout: &Path, home: &Path, args: &[&str]) -> Output {
    let folders = ["cargo", "moto_server"].map(folder_of);
    let path = std::env::join_paths(
        folders
            .iter()
            .map(PathBuf::as_path)
            .chain([Path::new("/usr/bin"), Path::new("/bin")]),
    )
    .unwrap();
    Command::new(checkout.join("scripts/dev"))
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .envs(toolchain_env())
        .env("CARGO_TARGET_DIR", target_dir())
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/dev")
}

/// The folder on this PATH that holds `tool`.
fn folder_of(tool: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join(tool).is_file())
        .unwrap_or_else(|| panic!("{tool} is not on PATH"))
}

/// The target folder the tests were built in: catup is `<target>/debug/catup`.
fn target_dir() -> PathBuf {
    let catup = Path::new(env!("CARGO_BIN_EXE_catup"));
    catup.parent().and_then(Path::parent).unwrap().to_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("catup-test-{}", unique_name(name)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn texts(out: &Output) -> (String, String) {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (text(&out.stdout), text(&out.stderr))
}

/// `bash -c SCRIPT` with scripts/lib/heartbeat.sh sourced and a one-second beat.
fn with_heartbeat_lib(script: &str) -> Command {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lib/heartbeat.sh");
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(format!(
            "set -euo pipefail; . '{}'; {script}",
            lib.display()
        ))
        .env("CATUP_HEARTBEAT_SECONDS", "1")
        .stdin(Stdio::null());
    command
}

#[test]
fn a_long_step_beats_until_it_ends_and_keeps_its_status() {
    let out = with_heartbeat_lib(
        "with_heartbeat 'waiting' sleep 3.5; echo waited; echo 'step over' >&2; sleep 2.5; \
         with_heartbeat 'failing' sh -c 'sleep 0.5; exit 3' || echo \"failed with $?\"; \
         with_heartbeat 'piping' bash -c 'sleep 0.5 | false'; echo never",
    )
    .output()
    .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(stdout, "waited\nfailed with 3\n", "{stderr}");
    assert_eq!(out.status.code(), Some(1), "pipefail's status, and set -e");
    // A beat a second while the step ran, each saying what runs and for how long.
    let (during, after) = stderr.split_once("step over\n").expect("the marker");
    let beats: Vec<&str> = during.lines().collect();
    assert!((2..=4).contains(&beats.len()), "{stderr}");
    for beat in beats {
        let seconds = beat
            .strip_prefix("... still waiting (")
            .and_then(|b| b.strip_suffix("s so far)"));
        let seconds = seconds.and_then(|s| s.parse::<u32>().ok());
        assert!(seconds.is_some_and(|s| (1..=4).contains(&s)), "{beat:?}");
    }
    // Stopped with its step: nothing said while the script slept on its own for 2.5 s.
    assert!(!after.contains("waiting"), "{stderr}");
}

#[test]
fn the_heartbeat_ends_with_a_script_killed_by_ctrl_c_or_sigkill() {
    use std::os::unix::process::CommandExt as _;
    // The step's command keeps no handle on stderr, so stderr ends when the heartbeat does.
    let step = "with_heartbeat 'waiting' sh -c 'exec sleep 60 >/dev/null 2>&1'";
    for (signal, whole_group) in [("INT", true), ("KILL", false)] {
        let mut script = with_heartbeat_lib(step)
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = script.stderr.take().unwrap();
        let mut first_beat = [0u8; 3];
        stderr.read_exact(&mut first_beat).unwrap();
        let pid = script.id();
        // Ctrl-C reaches the terminal's whole process group; SIGKILL the script alone.
        let to = if whole_group {
            format!("-{pid}")
        } else {
            pid.to_string()
        };
        assert!(kill(signal, &to), "kill -{signal} {to}");
        script.wait().unwrap();
        let killed = Instant::now();
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        let waited = killed.elapsed();
        // What is left of the group (the SIGKILLed script's step), if anything.
        let _ = kill("KILL", &format!("-{pid}"));
        assert!(
            waited < Duration::from_secs(5),
            "the heartbeat outlived its script by {waited:?} (signal {signal}): {rest}"
        );
    }
}

/// kill(1): SIGNAL to a process, or to a process group as `-PGID`; whether it reached one.
fn kill(signal: &str, to: &str) -> bool {
    Command::new("kill")
        .args([format!("-{signal}").as_str(), "--", to])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
