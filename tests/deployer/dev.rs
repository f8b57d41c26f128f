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
        let dir = std::env::temp_dir().join(format!("catup-dev-{stack}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_catup"))
            .args(["--stack", stack, "dev", "--port", "0", "--json"])
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
        match serde_json::from_str(&line) {
            Ok(ready) => Ok(Dev { child, ready, dir }),
            Err(_) => {
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
        let env = [
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ENDPOINT_URL", self.url("endpoint_url").to_owned()),
        ];
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

fn checks(report: &Value) -> Vec<(String, bool)> {
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
    assert_eq!(checks(&report).len(), 7, "{report:#}");

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
    assert!(
        err.lines().filter(|l| l.starts_with("error")).count() == 1,
        "{err}"
    );
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
    // Wait until catup has started moto_server (its child), then interrupt at once.
    let pid = child.id().to_string();
    let mut children = Vec::new();
    for _ in 0..100 {
        let out = Command::new("pgrep").args(["-P", &pid]).output().unwrap();
        children = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if !children.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!children.is_empty(), "catup started no emulator");
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    std::thread::sleep(Duration::from_millis(300));
    for moto in children {
        let alive = std::path::Path::new(&format!("/proc/{moto}")).exists()
            && !std::fs::read_to_string(format!("/proc/{moto}/stat"))
                .unwrap_or_default()
                .contains(") Z ");
        assert!(!alive, "moto_server {moto} outlived catup dev");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
