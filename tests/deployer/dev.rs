//! `catup dev` as a user runs it, and `catup verify` against it: the whole app on loopback.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{run_catup, Run};

/// A running `catup dev --json --port 0`, stopped with SIGTERM on drop.
pub struct Dev {
    child: Child,
    ready: Value,
    dir: std::path::PathBuf,
}

impl Dev {
    pub fn start(stack: &str, path: Option<&str>) -> Result<Dev, String> {
        Dev::start_with(stack, path, &[])
    }

    /// With global options before `dev` (`--endpoint-url` of an emulator already running).
    pub fn start_with(stack: &str, path: Option<&str>, global: &[&str]) -> Result<Dev, String> {
        let dir = std::env::temp_dir().join(format!("catup-dev-{stack}-{}", global.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_catup"))
            .args(["--stack", stack])
            .args(global)
            .args(["dev", "--port", "0", "--json"])
            .env_clear()
            .env(
                "PATH",
                path.map(str::to_owned)
                    .unwrap_or_else(|| std::env::var("PATH").unwrap()),
            )
            .env("HOME", &dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // With --json, a failure is also a JSON line: {"error": ...}.
        match serde_json::from_str::<Value>(&line) {
            Ok(ready) if ready.get("error").is_none() => Ok(Dev { child, ready, dir }),
            _ => {
                let out = child.wait_with_output().unwrap();
                Err(format!(
                    "{:?}\n{}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        }
    }

    /// Its stderr (progress and the function's log lines), to read as it goes.
    pub fn take_stderr(&mut self) -> std::process::ChildStderr {
        self.child.stderr.take().expect("stderr not taken yet")
    }

    pub fn url(&self, field: &str) -> &str {
        self.ready[field].as_str().unwrap()
    }

    /// `catup verify` against this dev stack, with moto's test credentials.
    pub fn verify(&self) -> Run {
        self.verify_with(&[])
    }

    /// `catup verify` with extra environment variables.
    pub fn verify_with(&self, extra: &[(&'static str, String)]) -> Run {
        let mut env = vec![
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ENDPOINT_URL", self.url("endpoint_url").to_owned()),
        ];
        env.extend_from_slice(extra);
        let args = [
            "--stack",
            self.url("stack"),
            "verify",
            "--json",
            "--function-url",
            self.url("function_url"),
            "--website-url",
            self.url("website_url"),
        ];
        run_catup(&self.dir, &env, &args)
    }

    /// SIGTERM, then the exit code.
    pub fn stop(mut self) -> Option<i32> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Dev {
    /// SIGTERM, so that catup stops the moto_server it started (SIGKILL would orphan it);
    /// SIGKILL only if it does not exit.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            for _ in 0..50 {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn checks(report: &Value) -> Vec<(String, bool)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["passed"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn verify_passes_against_catup_dev_and_dev_stops_on_sigterm() {
    let dev = Dev::start(&catup_testkit::unique_name("d"), None).unwrap();
    assert!(dev.url("website_url").starts_with("http://localhost:"));
    let run = dev.verify().ok();
    let report = run.json();
    assert_eq!(report["passed"], true, "{report:#}");
    // The browser's seven, dev's thumbnail of the test image, and the clean-up.
    assert_eq!(checks(&report).len(), 9, "{report:#}");
    let thumbnail = (
        "its thumbnail appears (stacks that make them)".to_owned(),
        true,
    );
    assert!(checks(&report).contains(&thumbnail), "{report:#}");

    let endpoint = dev.url("endpoint_url").to_owned();
    assert_eq!(dev.stop(), Some(0));
    let moto_gone = reqwest::get(format!("{endpoint}/moto-api/")).await.is_err();
    assert!(moto_gone, "dev stopped the emulator it started");
}

/// verify can fail: a config.js that points elsewhere (the lecture's stale-config pitfall)
/// fails its check and the exit code, and the test object is still cleaned up.
#[tokio::test]
async fn verify_fails_on_a_stale_config_js() {
    let dev = Dev::start(&catup_testkit::unique_name("d"), None).unwrap();
    let s3 = {
        let config = catup_testkit::sdk_config_at(dev.url("endpoint_url"), "us-east-1").await;
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        )
    };
    s3.put_object()
        .bucket(dev.url("site_bucket"))
        .key("config.js")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            b"window.CAT_UPLOAD_CONFIG = { apiBaseUrl: \"https://old.lambda-url.us-east-1.on.aws/\" };\n",
        ))
        .send()
        .await
        .unwrap();
    let run = dev.verify();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["passed"], false);
    let results = checks(&report);
    assert!(
        results.contains(&("config.js holds the Function URL".to_owned(), false)),
        "{results:?}"
    );
    assert!(
        results.contains(&("delete the test object".to_owned(), true)),
        "{results:?}"
    );
    let left = s3
        .list_objects_v2()
        .bucket(dev.url("images_bucket"))
        .send()
        .await
        .unwrap();
    assert_eq!(left.key_count(), Some(0), "verify deleted its object");
}

#[tokio::test]
async fn dev_without_moto_server_says_how_to_install_it() {
    // A PATH with no moto_server on it.
    let err = Dev::start(&catup_testkit::unique_name("d"), Some("/usr/bin:/bin"))
        .err()
        .expect("dev must fail");
    assert!(err.contains("pip install 'moto[server]'"), "{err}");
    assert!(err.contains("./scripts/dev"), "{err}");
    assert!(
        err.lines().filter(|l| l.starts_with("error")).count() == 1,
        "{err}"
    );
}

/// The processes below `pid` (children, grandchildren...).
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        let out = Command::new("pgrep")
            .args(["-P", &parent.to_string()])
            .output()
            .unwrap();
        for child in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let child: u32 = child.parse().unwrap();
            found.push(child);
            frontier.push(child);
        }
    }
    found
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

/// Sends `signal` to a ready `catup dev` and checks that everything it started is gone soon
/// after, moto_server included.
fn nothing_outlives_dev_after(signal: &str) {
    let dev = Dev::start(&catup_testkit::unique_name("d"), None).unwrap();
    let pid = dev.child.id();
    let started = descendants(pid);
    assert!(
        started.len() >= 2,
        "dev runs moto_server under its watchdog: {started:?}"
    );
    Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    let left = still_alive_after_a_while(started);
    assert!(
        left.is_empty(),
        "outlived catup dev after {signal}: {left:?}"
    );
}

/// Those of `pids` still running after up to 10 s (at once when all are gone).
fn still_alive_after_a_while(pids: Vec<u32>) -> Vec<u32> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(*p)) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    pids.into_iter().filter(|p| alive(*p)).collect()
}

/// Closing the terminal sends SIGHUP.
#[test]
fn sighup_leaves_no_moto_server() {
    nothing_outlives_dev_after("-HUP");
}

/// Even a SIGKILL, which catup cannot catch: the watchdog sees its pipe close.
#[test]
fn sigkill_leaves_no_moto_server() {
    nothing_outlives_dev_after("-KILL");
}

/// The verify command dev prints runs as printed, from a shell whose PATH has no catup.
#[test]
fn the_printed_verify_command_runs_as_printed() {
    let dev = Dev::start(&catup_testkit::unique_name("d"), None).unwrap();
    let command = dev.url("verify_command").to_owned();
    let out = Command::new("sh")
        .args(["-c", &command])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &dev.dir)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{command}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("verified"));
}

/// A page opened on 127.0.0.1 would upload from an origin CORS refuses: it is sent to the
/// localhost origin, which uploads (verify's checks pass for it).
#[tokio::test]
async fn the_site_on_127_0_0_1_is_sent_to_localhost() {
    let dev = Dev::start(&catup_testkit::unique_name("d"), None).unwrap();
    let website = dev.url("website_url").to_owned();
    let numeric = website.replace("localhost", "127.0.0.1");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = client.get(format!("{numeric}app.js")).send().await.unwrap();
    assert_eq!(answer.status(), 308);
    assert_eq!(
        answer.headers()["location"].to_str().unwrap(),
        format!("{website}app.js")
    );
    let followed = reqwest::get(&numeric).await.unwrap();
    assert_eq!(followed.url().as_str(), website);
    assert!(followed.text().await.unwrap().contains("<html"));
    // The origin the page then has is the one the function's CORS allows.
    let origin = website.trim_end_matches('/');
    let preflight = client
        .request(reqwest::Method::OPTIONS, dev.url("function_url"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight.headers()["access-control-allow-origin"]
            .to_str()
            .unwrap(),
        origin
    );
    assert!(dev.url("function_url").starts_with("http://localhost:"));
}

/// SIGTERM during start-up, before the ready line, still stops the emulator dev started.
#[tokio::test]
async fn sigterm_during_start_up_leaves_nothing_running() {
    let dir = std::env::temp_dir().join(catup_testkit::unique_name("catup-dev-early"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_catup"))
        .args([
            "--stack",
            &catup_testkit::unique_name("d"),
            "dev",
            "--port",
            "0",
            "--json",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", &dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until catup has started moto_server (under its watchdog), then interrupt at once.
    let pid = child.id();
    let mut started = Vec::new();
    for _ in 0..200 {
        started = descendants(pid);
        if started.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(started.len() >= 2, "catup started no emulator: {started:?}");
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let left = still_alive_after_a_while(started);
    assert!(left.is_empty(), "outlived catup dev: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A second `catup dev` of the same stack on the same emulator would silently take over the
/// first one's config.js and CORS: it stops, naming the one already serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_dev_of_the_same_stack_on_the_same_emulator_is_refused() {
    let moto = catup_testkit::Moto::start();
    let stack = catup_testkit::unique_name("d");
    let endpoint = moto.endpoint();
    let first = Dev::start_with(&stack, None, &["--endpoint-url", &endpoint]).unwrap();
    let origin = first.url("website_url").trim_end_matches('/').to_owned();
    // What the first dev's page relies on: its config.js and the images bucket's CORS (moto
    // answers unsigned reads).
    let images = format!("{stack}-images-123456789012-us-east-1");
    let read = |url: String| async move {
        let response = reqwest::get(&url).await.unwrap();
        assert!(
            response.status().is_success(),
            "GET {url}: {}",
            response.status()
        );
        response.text().await.unwrap()
    };
    let config_js = || read(format!("{origin}/config.js"));
    let cors = || read(format!("{endpoint}/{images}?cors"));
    let (config_before, cors_before) = (config_js().await, cors().await);
    assert!(cors_before.contains(&origin), "{cors_before}");
    let second = Dev::start_with(&stack, None, &["--endpoint-url", &endpoint, "-v"]);
    let error = second.err().expect("the second dev started");
    assert!(
        error.contains(&format!("served by another catup dev at {origin}/")),
        "{error}"
    );
    assert_eq!(config_js().await, config_before);
    assert_eq!(cors().await, cors_before);
    first.stop();
}
