//! A real browser against `catup dev`: Debian's Chromium, driven by playwright-core from
//! tests/browser/e2e.mjs, uploads a PNG and a JPEG through the site's file input and checks
//! that the gallery renders them from presigned URLs, then the readable errors for a text file,
//! for an upload past `--max-images` and for a missing configuration. Everything runs on loopback (moto_server as AWS).
//!
//! Needs /usr/bin/chromium, Node.js 20+ and tests/browser/node_modules; `./scripts/test`
//! installs the missing ones. The screenshot of the gallery lands in target/browser/.

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use catup_testkit::unique_name;
use serde_json::Value;

/// Starting moto_server and deploying the stack into it.
const READY_TIMEOUT: Duration = Duration::from_secs(180);
/// The browser steps take a few seconds; each waits at most 30 s.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(240);
/// From SIGTERM to catup's exit, moto_server stopped.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// The gallery's cap given to dev: the page's two uploads fit, the fourth is refused.
const MAX_IMAGES: &str = "3";

const INSTALL_HINT: &str = "run ./scripts/test once (it installs what is missing), or by hand: \
     apt-get install -y chromium; Node.js 20+; npm ci --prefix tests/browser";

#[test]
fn browser_uploads_and_gallery_against_catup_dev() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = chromium_path();
    let script = repo.join("tests/browser/e2e.mjs");
    check_prerequisites(repo, &chromium);

    let work = std::env::temp_dir().join(unique_name("catup-browser"));
    std::fs::create_dir_all(&work).unwrap();
    let stack = unique_name("br");
    let mut dev = Dev::start(&stack, &work);
    let ready = dev.wait_ready();
    eprintln!("catup dev is ready: {ready}");

    let field = |name: &str| -> String {
        ready[name]
            .as_str()
            .unwrap_or_else(|| panic!("catup dev's JSON has no string {name:?}: {ready}"))
            .to_owned()
    };
    let website_url = field("website_url");
    let function_url = field("function_url");
    let endpoint_url = field("endpoint_url");
    assert_eq!(field("stack"), stack, "the JSON names another stack");
    assert!(
        website_url.starts_with("http://localhost:") && website_url.ends_with('/'),
        "website_url must be http://localhost:PORT/ (the origin CORS allows): {website_url}"
    );
    assert!(
        function_url.starts_with("http://localhost:"),
        "{function_url}"
    );
    assert!(
        endpoint_url.starts_with("http://127.0.0.1:"),
        "{endpoint_url}"
    );

    // target/browser/gallery.png, next to target/tmp (CARGO_TARGET_TMPDIR), wherever target is.
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory")
        .join("browser/gallery.png");
    let _ = std::fs::remove_file(&screenshot);
    let mut node = Command::new("node");
    node.arg(&script)
        .current_dir(repo)
        .env("CATUP_WEBSITE_URL", &website_url)
        .env("CATUP_FUNCTION_URL", &function_url)
        .env("CATUP_ENDPOINT_URL", &endpoint_url)
        .env("CATUP_SCREENSHOT", &screenshot)
        .env("CATUP_MAX_IMAGES", MAX_IMAGES)
        .env("CATUP_CHROMIUM", &chromium)
        .env("TMPDIR", &work);
    let browser = run_with_timeout(node, BROWSER_TIMEOUT);
    let output = browser.output();
    println!("{output}");
    if !browser.status.is_some_and(|s| s.success()) {
        panic!(
            "the browser test (tests/browser/e2e.mjs) failed ({}), its output is above; \
             catup dev's stderr:\n{}",
            browser
                .status
                .map_or(format!("killed after {BROWSER_TIMEOUT:?}"), |s| s
                    .to_string()),
            dev.stderr()
        );
    }
    assert!(
        screenshot.is_file(),
        "no screenshot at {}",
        screenshot.display()
    );
    println!("screenshot of the gallery: {}", screenshot.display());

    // SIGTERM: catup stops the servers and moto_server it started, then exits 0.
    let status = dev.terminate();
    assert!(
        status.is_some_and(|s| s.success()),
        "catup dev did not exit 0 within {STOP_TIMEOUT:?} of SIGTERM ({status:?}); stderr:\n{}",
        dev.stderr()
    );
    let extra = dev.extra_stdout();
    assert!(
        extra.is_empty(),
        "catup dev --json printed more than one line on stdout: {extra:?}"
    );
    for url in [&website_url, &function_url, &endpoint_url] {
        assert!(
            port_closes(url, Duration::from_secs(5)),
            "{url} still answers after catup dev exited (not stopped)"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}

fn chromium_path() -> PathBuf {
    std::env::var_os("CATUP_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Fails (no silent skip) with what to install when the browser test cannot run.
fn check_prerequisites(repo: &Path, chromium: &Path) {
    assert!(
        chromium.is_file(),
        "Chromium is missing at {}: {INSTALL_HINT}",
        chromium.display()
    );
    let node = Command::new("node").arg("--version").output();
    let version = match node {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => panic!("node is not on PATH: {INSTALL_HINT}"),
    };
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= 20,
        "Node.js {version} is too old for playwright-core (20+ needed): {INSTALL_HINT}"
    );
    assert!(
        repo.join("tests/browser/node_modules/playwright-core/package.json")
            .is_file(),
        "tests/browser/node_modules is missing: {INSTALL_HINT}"
    );
}

/// A running `catup --stack NAME dev --port 0 --json`, stopped with SIGTERM (then SIGKILL) if
/// the test ends early.
struct Dev {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stdout_lines: Vec<String>,
    exited: Option<ExitStatus>,
}

impl Dev {
    fn start(stack: &str, work: &Path) -> Dev {
        let mut command = Command::new(env!("CARGO_BIN_EXE_catup"));
        command
            .args(["--stack", stack, "dev", "--port", "0", "--json"])
            .args(["--max-images", MAX_IMAGES])
            .current_dir(work)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A clean AWS environment: no real credentials, profiles or instance metadata, and no
        // endpoint (dev starts its own emulator).
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command
            .env("HOME", work)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", work.join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                work.join("no-aws-credentials"),
            );
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", env!("CARGO_BIN_EXE_catup")));

        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut pipe = child.stderr.take().unwrap();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Dev {
            child,
            lines,
            stderr,
            stdout_lines: Vec::new(),
            exited: None,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The one JSON line printed once everything answers.
    fn wait_ready(&mut self) -> Value {
        let line = match self.lines.recv_timeout(READY_TIMEOUT) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "catup dev printed nothing on stdout within {READY_TIMEOUT:?}; stderr:\n{}",
                self.stderr()
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().ok();
                thread::sleep(Duration::from_millis(200)); // the rest of stderr
                panic!(
                    "catup dev exited ({status:?}) before it was ready; stderr:\n{}",
                    self.stderr()
                )
            }
        };
        serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "catup dev's first stdout line is not JSON ({e}): {line:?}; stderr:\n{}",
                self.stderr()
            )
        })
    }

    /// SIGTERM, then the exit status if catup exits within STOP_TIMEOUT (None: still running).
    fn terminate(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.exited {
            return Some(status);
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exited = Some(status);
                return Some(status);
            }
            thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Whatever catup printed on stdout after the JSON line (it has exited: the pipe is closed).
    fn extra_stdout(&mut self) -> Vec<String> {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.stdout_lines.push(line);
        }
        self.stdout_lines.clone()
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if self.terminate().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

struct Finished {
    /// None: killed after the timeout.
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn output(&self) -> String {
        match self.stderr.trim() {
            "" => self.stdout.clone(),
            stderr => format!("{}{stderr}", self.stdout),
        }
    }
}

/// Runs `command` to its end, or kills it after `timeout`; collects stdout and stderr.
fn run_with_timeout(mut command: Command, timeout: Duration) -> Finished {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let collect = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = collect(Box::new(child.stdout.take().unwrap()));
    let stderr = collect(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(100));
    };
    Finished {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// Whether nothing listens any more on the URL's loopback port (polling up to `within`).
fn port_closes(url: &str, within: Duration) -> bool {
    let port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"));
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + within;
    loop {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(100));
    }
}
