//! Load benchmark of `catup dev`'s local Function URL, next to the course lecture's design
//! (a Python boto3 handler, `benches/load/boto3_handler.py`) doing the same work against the
//! same moto_server and the same images bucket, in the same run. A benchmark, not a test.
//!
//! Run with `scripts/bench-load`, which builds the release catup first. Environment:
//! - `CATUP_BIN`: the catup binary (default: `catup` in this bench's own profile directory);
//! - `REQUESTS` (default 2000) POSTs per target, `GET_REQUESTS` (default REQUESTS / 4) GETs
//!   per target (each GET lists in moto, ~50x the work of a POST), `CONCURRENCY` (default 32)
//!   workers;
//! - `PHASE_SECS` (default 60): a hard time bound per phase; a phase that hits it stops;
//! - `PYTHON` (default python3) with boto3 installed.
//!
//! Steps: `catup dev --port 0 --json` (which starts its own moto_server); seed the images
//! bucket with 50 images through the function's presigned PUTs; then per target a warm-up
//! and two timed phases, POST (a presigned PUT) and GET ?limit=50 (ListObjectsV2 + 50
//! presigned GETs). Every request goes to 127.0.0.1 only. Prints requests, errors, wall
//! time, throughput and p50/p99/max latency per phase, then catup/boto3 ratios. Exits
//! non-zero on any error or a phase cut short by its time bound.

use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// Images put in the bucket before the phases; GET asks for a page of exactly this many.
const SEED_IMAGES: usize = 50;
const SEED_BYTES: usize = 1024;
const GET_LIMIT: usize = 50;
const POST_BODY: &str = r#"{"contentType":"image/png","size":123456}"#;
const START_TIMEOUT: Duration = Duration::from_secs(120);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
const MAX_ERRORS_SHOWN: usize = 3;
/// Warm-ups are small; this only stops a hung target (PHASE_SECS bounds the timed phases).
const WARMUP_LIMIT: Duration = Duration::from_secs(60);

struct Settings {
    catup: PathBuf,
    python: String,
    requests: usize,
    get_requests: usize,
    concurrency: usize,
    phase_limit: Duration,
}

impl Settings {
    fn from_env() -> anyhow::Result<Settings> {
        let catup = match std::env::var_os("CATUP_BIN") {
            Some(path) => PathBuf::from(path),
            None => {
                // target/<profile>/deps/load-<hash> -> target/<profile>/catup
                let exe = std::env::current_exe().context("locate this bench's executable")?;
                exe.parent()
                    .and_then(|deps| deps.parent())
                    .map(|profile| profile.join("catup"))
                    .context("no profile directory above this bench's executable")?
            }
        };
        ensure!(
            catup.is_file(),
            "no catup binary at {}: build it (cargo build --release -p catup) or set CATUP_BIN",
            catup.display()
        );
        let requests = env_number("REQUESTS", 2000)? as usize;
        Ok(Settings {
            catup,
            python: std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()),
            requests,
            get_requests: env_number("GET_REQUESTS", (requests as u64 / 4).max(1))? as usize,
            concurrency: env_number("CONCURRENCY", 32)? as usize,
            phase_limit: Duration::from_secs(env_number("PHASE_SECS", 60)?),
        })
    }
}

fn env_number(name: &str, default: u64) -> anyhow::Result<u64> {
    let Ok(value) = std::env::var(name) else {
        return Ok(default);
    };
    value
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .with_context(|| format!("{name} must be a whole number above 0, got {value:?}"))
}

fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("load bench: {e:#}");
            return ExitCode::from(2);
        }
    };
    // One thread for the load tool: on a small machine it leaves the other cores to the
    // servers under test and moto_server, the same for both targets.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build a tokio runtime");
    match runtime.block_on(run(&settings)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("load bench failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs everything; `Ok(false)` when a phase had errors or hit its time bound.
async fn run(settings: &Settings) -> anyhow::Result<bool> {
    let stack = catup_testkit::unique_name("load");
    eprintln!(
        "starting {} --stack {stack} dev --port 0 --json",
        settings.catup.display()
    );
    let mut dev = CatupDev::start(&settings.catup, &stack).await?;
    let outcome = async {
        let ready = dev.ready.clone();
        let catup = Target {
            name: "catup",
            url: ready.function_url.clone(),
            origin: ready.origin(),
        };
        seed(&catup, &ready).await?;
        let mut results = measure(settings, &catup).await?;

        let mut python = Boto3Handler::start(&settings.python, &ready).await?;
        let boto3 = Target {
            name: "boto3",
            url: python.url.clone(),
            origin: ready.origin(),
        };
        let measured = measure(settings, &boto3).await;
        python.stop().await;
        results.extend(measured?);
        anyhow::Ok(results)
    }
    .await;
    let stopped = dev.stop().await;
    let results = outcome?;
    stopped?;
    Ok(report(settings, &results))
}

/// What `catup dev --json` prints once it serves.
#[derive(Clone)]
struct Ready {
    website_url: String,
    function_url: String,
    endpoint_url: String,
    images_bucket: String,
}

impl Ready {
    fn parse(line: &str) -> Option<Ready> {
        let value: Value = serde_json::from_str(line).ok()?;
        let field = |name: &str| value.get(name)?.as_str().map(str::to_owned);
        Some(Ready {
            website_url: field("website_url")?,
            function_url: field("function_url")?,
            endpoint_url: field("endpoint_url")?,
            images_bucket: field("images_bucket")?,
        })
    }

    /// The site's origin, which the function's CORS allows.
    fn origin(&self) -> String {
        self.website_url.trim_end_matches('/').to_owned()
    }
}

fn is_loopback(url: &str) -> bool {
    url.starts_with("http://127.0.0.1:") || url.starts_with("http://localhost:")
}

/// `catup dev` as a child process; stopped with SIGTERM (so that it stops its moto_server
/// too), also when dropped.
struct CatupDev {
    child: Child,
    ready: Ready,
    stderr: Arc<Mutex<String>>,
}

impl CatupDev {
    async fn start(catup: &PathBuf, stack: &str) -> anyhow::Result<CatupDev> {
        let mut child = Command::new(catup)
            .args(["--stack", stack, "dev", "--port", "0", "--json"])
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("start {}", catup.display()))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let collected = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                let mut log = collected.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut out_lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let ready = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = out_lines.next_line().await? {
                if let Some(ready) = Ready::parse(&line) {
                    return anyhow::Ok(Some(ready));
                }
            }
            Ok(None)
        })
        .await;
        let mut dev = CatupDev {
            child,
            ready: Ready {
                website_url: String::new(),
                function_url: String::new(),
                endpoint_url: String::new(),
                images_bucket: String::new(),
            },
            stderr,
        };
        match ready {
            Ok(Ok(Some(ready))) => dev.ready = ready,
            Ok(Ok(None)) | Ok(Err(_)) => {
                let status = dev.child.wait().await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
                bail!(
                    "catup dev exited ({status}) before it was ready:\n{}",
                    dev.stderr_text()
                );
            }
            Err(_) => bail!(
                "catup dev was not ready within {START_TIMEOUT:?}:\n{}",
                dev.stderr_text()
            ),
        }
        ensure!(
            is_loopback(&dev.ready.function_url) && is_loopback(&dev.ready.endpoint_url),
            "catup dev is not on loopback: {} / {}",
            dev.ready.function_url,
            dev.ready.endpoint_url
        );
        // Nothing more is read from stdout; keep the pipe open and drained.
        tokio::spawn(async move { while let Ok(Some(_)) = out_lines.next_line().await {} });
        Ok(dev)
    }

    fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn terminate(&self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }

    /// SIGTERM, then waits for a clean exit (catup stops moto_server on the way out).
    async fn stop(&mut self) -> anyhow::Result<()> {
        self.terminate();
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                ensure!(
                    status.success(),
                    "catup dev exited with {status} on SIGTERM:\n{}",
                    self.stderr_text()
                );
                Ok(())
            }
            Err(_) => {
                let _ = self.child.kill().await;
                bail!("catup dev did not stop within {STOP_TIMEOUT:?} of SIGTERM; killed")
            }
        }
    }
}

impl Drop for CatupDev {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.terminate();
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.start_kill();
        }
    }
}

/// The lecture's Python/boto3 handler on a free loopback port, against catup dev's moto
/// and images bucket; killed when dropped.
struct Boto3Handler {
    child: Child,
    url: String,
}

impl Boto3Handler {
    async fn start(python: &str, ready: &Ready) -> anyhow::Result<Boto3Handler> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/load/boto3_handler.py");
        let mut child = Command::new(python)
            .args([script, "0"])
            .env("AWS_ENDPOINT_URL", &ready.endpoint_url)
            .env("IMAGES_BUCKET", &ready.images_bucket)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {python} {script}"))?;
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let line = tokio::time::timeout(START_TIMEOUT, lines.next_line())
            .await
            .context("the boto3 handler did not print ready")??
            .context("the boto3 handler exited before it was ready (is boto3 installed?)")?;
        let port: u16 = line
            .strip_prefix("ready ")
            .and_then(|p| p.trim().parse().ok())
            .with_context(|| format!("unexpected first line from the boto3 handler: {line:?}"))?;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Boto3Handler {
            child,
            url: format!("http://127.0.0.1:{port}/"),
        })
    }

    async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}

fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build an HTTP client")
}

/// Puts SEED_IMAGES images through catup's presigned PUTs, so GET lists and presigns real
/// objects (both targets read the same bucket).
async fn seed(catup: &Target, ready: &Ready) -> anyhow::Result<()> {
    let http = client(1);
    let body = format!(r#"{{"contentType":"image/png","size":{SEED_BYTES}}}"#);
    for _ in 0..SEED_IMAGES {
        let answer = http
            .post(&catup.url)
            .header("origin", &catup.origin)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?;
        let status = answer.status();
        let answer: Value = serde_json::from_slice(&answer.bytes().await?)?;
        ensure!(status == 200, "seed POST answered {status}: {answer}");
        let url = answer["uploadUrl"].as_str().context("no uploadUrl")?;
        ensure!(
            url.starts_with(&ready.endpoint_url),
            "presigned URL {url} is not on the emulator"
        );
        let mut put = http.put(url).body(vec![0x89u8; SEED_BYTES]);
        for (name, value) in answer["headers"].as_object().context("no headers")? {
            put = put.header(name.as_str(), value.as_str().unwrap_or_default());
        }
        let put = put.send().await?;
        ensure!(
            put.status().is_success(),
            "seed PUT answered {}",
            put.status()
        );
    }
    eprintln!(
        "seeded {SEED_IMAGES} images of {SEED_BYTES} bytes in {}",
        ready.images_bucket
    );
    Ok(())
}

struct Target {
    name: &'static str,
    url: String,
    origin: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Post,
    Get,
}

impl Phase {
    fn label(self) -> String {
        match self {
            Phase::Post => "POST".into(),
            Phase::Get => format!("GET ?limit={GET_LIMIT}"),
        }
    }
}

/// One request; the latency is taken once the whole body is in, before it is checked.
async fn request(
    http: &reqwest::Client,
    target: &Target,
    phase: Phase,
) -> Result<Duration, String> {
    let started = Instant::now();
    let builder = match phase {
        Phase::Post => http
            .post(&target.url)
            .header("content-type", "application/json")
            .body(POST_BODY),
        Phase::Get => http.get(format!("{}?limit={GET_LIMIT}", target.url)),
    };
    let response = builder
        .header("origin", &target.origin)
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    let latency = started.elapsed();
    if status != 200 {
        let text = String::from_utf8_lossy(&body);
        return Err(format!(
            "HTTP {status}: {}",
            text.chars().take(200).collect::<String>()
        ));
    }
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| format!("answer is not JSON: {e}"))?;
    let ok = match phase {
        Phase::Post => value["uploadUrl"].as_str().is_some_and(is_loopback),
        Phase::Get => value["images"].as_array().is_some_and(|images| {
            images.len() == GET_LIMIT && images.iter().all(|i| i["url"].as_str().is_some())
        }),
    };
    if !ok {
        return Err(format!(
            "unexpected answer: {}",
            value.to_string().chars().take(200).collect::<String>()
        ));
    }
    Ok(latency)
}

struct PhaseResult {
    target: &'static str,
    phase: Phase,
    requested: usize,
    latencies: Vec<Duration>,
    errors: usize,
    error_samples: Vec<String>,
    wall: Duration,
    cut_short: bool,
}

impl PhaseResult {
    fn done(&self) -> usize {
        self.latencies.len() + self.errors
    }

    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    /// Nearest-rank percentile of the sorted latencies, in ms.
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies.len()) - 1;
        self.latencies[index].as_secs_f64() * 1e3
    }
}

#[derive(Default)]
struct WorkerOut {
    latencies: Vec<Duration>,
    errors: usize,
    error_samples: Vec<String>,
    cut_short: bool,
}

/// `total` requests by `concurrency` workers, stopped at `limit` if not done by then.
async fn phase(
    http: &reqwest::Client,
    target: &Arc<Target>,
    phase: Phase,
    total: usize,
    concurrency: usize,
    limit: Duration,
) -> PhaseResult {
    let next = Arc::new(AtomicUsize::new(0));
    let started = tokio::time::Instant::now();
    let deadline = started + limit;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(total) {
        let (http, target, next) = (http.clone(), target.clone(), next.clone());
        workers.spawn(async move {
            let mut out = WorkerOut::default();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                match tokio::time::timeout_at(deadline, request(&http, &target, phase)).await {
                    Err(_) => {
                        out.cut_short = true;
                        break;
                    }
                    Ok(Ok(latency)) => out.latencies.push(latency),
                    Ok(Err(e)) => {
                        out.errors += 1;
                        if out.error_samples.len() < MAX_ERRORS_SHOWN {
                            out.error_samples.push(e);
                        }
                    }
                }
            }
            out
        });
    }
    let mut result = PhaseResult {
        target: target.name,
        phase,
        requested: total,
        latencies: Vec::with_capacity(total),
        errors: 0,
        error_samples: Vec::new(),
        wall: Duration::ZERO,
        cut_short: false,
    };
    while let Some(out) = workers.join_next().await {
        let out = out.expect("a load worker panicked");
        result.latencies.extend(out.latencies);
        result.errors += out.errors;
        result.cut_short |= out.cut_short;
        for e in out.error_samples {
            if result.error_samples.len() < MAX_ERRORS_SHOWN {
                result.error_samples.push(e);
            }
        }
    }
    result.wall = started.elapsed();
    result.latencies.sort_unstable();
    result
}

/// Warm-up (connections opened, code paths hot), then the timed POST and GET phases.
async fn measure(settings: &Settings, target: &Target) -> anyhow::Result<Vec<PhaseResult>> {
    let target = Arc::new(Target {
        name: target.name,
        url: target.url.clone(),
        origin: target.origin.clone(),
    });
    let http = client(settings.concurrency);
    let warmup = (settings.concurrency * 2).max(20);
    for kind in [Phase::Post, Phase::Get] {
        let warm = phase(
            &http,
            &target,
            kind,
            warmup,
            settings.concurrency,
            WARMUP_LIMIT,
        )
        .await;
        ensure!(
            warm.errors == 0 && !warm.cut_short,
            "{} {} warm-up failed ({} errors{}): {}",
            target.name,
            kind.label(),
            warm.errors,
            if warm.cut_short {
                ", time bound hit"
            } else {
                ""
            },
            warm.error_samples.join(" | ")
        );
    }
    let mut results = Vec::new();
    for kind in [Phase::Post, Phase::Get] {
        let total = match kind {
            Phase::Post => settings.requests,
            Phase::Get => settings.get_requests,
        };
        eprintln!("{} {}: {total} requests...", target.name, kind.label());
        results.push(
            phase(
                &http,
                &target,
                kind,
                total,
                settings.concurrency,
                settings.phase_limit,
            )
            .await,
        );
    }
    Ok(results)
}

/// Prints the table and the ratios; false when any phase had errors or was cut short.
fn report(settings: &Settings, results: &[PhaseResult]) -> bool {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!("load bench: catup dev's local Function URL vs the lecture's Python boto3 handler");
    println!(
        "  catup: {}; boto3 handler: benches/load/boto3_handler.py (ThreadingHTTPServer, HTTP/1.1 keep-alive)",
        settings.catup.display()
    );
    println!(
        "  {} POSTs and {} GETs per target, {} concurrent, {} s bound per phase, loopback only; both against one moto_server and one bucket of {SEED_IMAGES} images",
        settings.requests,
        settings.get_requests,
        settings.concurrency,
        settings.phase_limit.as_secs()
    );
    println!(
        "  {cores} cores shared by the load tool (1 thread), the server under test and moto_server"
    );
    println!();
    println!(
        "{:<7} {:<14} {:>8} {:>6} {:>8} {:>9} {:>8} {:>8} {:>8}",
        "target", "phase", "requests", "errors", "wall s", "req/s", "p50 ms", "p99 ms", "max ms"
    );
    let mut ok = true;
    for r in results {
        println!(
            "{:<7} {:<14} {:>8} {:>6} {:>8.2} {:>9.1} {:>8.2} {:>8.2} {:>8.2}",
            r.target,
            r.phase.label(),
            r.done(),
            r.errors,
            r.wall.as_secs_f64(),
            r.throughput(),
            r.percentile_ms(50.0),
            r.percentile_ms(99.0),
            r.percentile_ms(100.0),
        );
    }
    for r in results {
        if r.errors > 0 {
            ok = false;
            println!(
                "!!! {} {}: {} ERRORS of {} requests; first: {}",
                r.target,
                r.phase.label(),
                r.errors,
                r.done(),
                r.error_samples.join(" | ")
            );
        }
        if r.cut_short {
            ok = false;
            println!(
                "!!! {} {}: TIME BOUND of {} s HIT after {} of {} requests",
                r.target,
                r.phase.label(),
                settings.phase_limit.as_secs(),
                r.done(),
                r.requested
            );
        }
    }
    println!();
    println!("catup vs boto3, same run (throughput: higher is better; latency: lower is better)");
    println!(
        "{:<14} {:>16} {:>12} {:>12}",
        "phase", "req/s ratio", "p50 ratio", "p99 ratio"
    );
    for kind in [Phase::Post, Phase::Get] {
        let find = |name: &str| results.iter().find(|r| r.target == name && r.phase == kind);
        if let (Some(c), Some(b)) = (find("catup"), find("boto3")) {
            println!(
                "{:<14} {:>15.2}x {:>11.3}x {:>11.3}x",
                kind.label(),
                c.throughput() / b.throughput(),
                c.percentile_ms(50.0) / b.percentile_ms(50.0),
                c.percentile_ms(99.0) / b.percentile_ms(99.0),
            );
        }
    }
    println!();
    println!(
        "note: GET latency is dominated by moto_server's ListObjectsV2 (Python, one process) for both sides;"
    );
    println!(
        "      the difference there is the presigning of {GET_LIMIT} URLs and the serving. POST touches no AWS API."
    );
    if ok {
        println!("zero errors in every phase");
    } else {
        println!("!!! FAILED: see the lines marked !!! above");
    }
    ok
}
