//! `catup check`: a student's app checked from its website URL alone, with no AWS
//! configuration at all, against `catup dev` (its site and Function URL on loopback); a
//! class at once, dead and hanging sites included; and (`pitfalls`) each of the lecture's
//! mistakes on a served copy of the app.

mod pitfalls;
mod served;

use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::Run;
use crate::dev::Dev;

/// `catup ARGS` with no AWS configuration at all: no AWS variable but those of `env`, and a
/// HOME without ~/.aws.
pub fn catup_bare(home: &Path, env: &[(&str, String)], args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_catup"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .output()
        .expect("run catup");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// An empty HOME of its own.
pub fn empty_home(name: &str) -> PathBuf {
    let home = std::env::temp_dir().join(catup_testkit::unique_name(name));
    std::fs::create_dir_all(&home).unwrap();
    home
}

/// The results of one site of a `check --json` report, by check id.
pub fn results(site: &Value) -> Vec<(String, String)> {
    let checks = site["checks"].as_array().expect("checks");
    let field = |c: &Value, f: &str| c[f].as_str().unwrap().to_owned();
    checks
        .iter()
        .map(|c| (field(c, "id"), field(c, "result")))
        .collect()
}

/// A port where something listens and counts connections, answering none: what any AWS
/// call (credentials, STS, instance metadata) would reach through the variables it sets.
struct Tripwire {
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl Tripwire {
    fn start() -> Tripwire {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = (&stream).read(&mut [0; 1024]);
            }
        });
        Tripwire { port, connections }
    }

    /// Every AWS endpoint variable pointed here.
    fn env(&self) -> Vec<(&'static str, String)> {
        let url = format!("http://127.0.0.1:{}", self.port);
        vec![
            ("AWS_ENDPOINT_URL", url.clone()),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", url.clone()),
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                format!("{url}/credentials"),
            ),
            ("AWS_REGION", "us-east-1".to_owned()),
        ]
    }
}

#[tokio::test]
async fn a_dev_app_passes_every_check_with_no_aws_configuration_and_names_its_test_image() {
    let dev = Dev::start(&catup_testkit::unique_name("c"), None).unwrap();
    let home = empty_home("catup-check-home");
    let run = catup_bare(&home, &[], &["check", dev.url("website_url")]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let passed = lines.iter().filter(|l| l.starts_with("  pass  ")).count();
    // catup dev makes thumbnails: the test image's appears.
    assert_eq!(passed, 11, "{}", run.stdout);
    assert!(
        run.stdout.contains("passed: 11 of 11 checks"),
        "{}",
        run.stdout
    );
    let thumbnails = "  pass  its thumbnail appears (stacks that make them)";
    assert!(run.stdout.contains(thumbnails), "{}", run.stdout);
    let key = lines
        .iter()
        .find_map(|l| l.strip_prefix("test image left in the gallery: "))
        .unwrap_or_else(|| panic!("no test image named:\n{}", run.stdout));

    // The key named is what was written, and the only thing.
    let config = catup_testkit::sdk_config_at(dev.url("endpoint_url"), "us-east-1").await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let listed = s3
        .list_objects_v2()
        .bucket(dev.url("images_bucket"))
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    let thumbnail = format!("thumbs/{}", key.strip_prefix("images/").unwrap());
    assert_eq!(keys, [key, thumbnail.as_str()]);
    let _ = std::fs::remove_dir_all(&home);
}

/// 30 students: most with a working app, some whose URL is dead, one whose site accepts the
/// connection and never answers. Every one is a row; the run ends by the deadline.
#[test]
fn a_class_of_30_with_dead_and_hanging_sites_is_a_row_each_within_the_deadline() {
    let dev = Dev::start(&catup_testkit::unique_name("c"), None).unwrap();
    let home = empty_home("catup-check-class");
    // Connections wait in its backlog, never accepted, never answered.
    let hanging = TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging_port = hanging.local_addr().unwrap().port();
    let mut class = String::from("# the class of 2026\n");
    for n in 0..24 {
        class.push_str(&format!("Student {n:02} {}\n", dev.url("website_url")));
    }
    for n in 0..5 {
        let dead = catup_testkit::free_port();
        class.push_str(&format!("Dead {n}, http://127.0.0.1:{dead}/\n"));
    }
    class.push_str(&format!("Hanging http://127.0.0.1:{hanging_port}/\n"));
    let file = home.join("class.txt");
    std::fs::write(&file, class).unwrap();
    let csv = home.join("grades.csv");
    let tripwire = Tripwire::start();

    let started = Instant::now();
    let args = [
        "check",
        "--class",
        file.to_str().unwrap(),
        "--deadline",
        "6",
        "--jobs",
        "8",
        "--json",
        "--csv",
        csv.to_str().unwrap(),
    ];
    let run = catup_bare(&home, &tripwire.env(), &args);
    let took = started.elapsed();

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let report = run.json();
    let sites = report["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 30, "{report:#}");
    for (n, site) in sites.iter().enumerate() {
        let results = results(site);
        assert_eq!(results.len(), 11, "{site:#}");
        let student = site["student"].as_str().unwrap();
        if n < 24 {
            assert_eq!(student, format!("Student {n:02}"));
            assert_eq!(site["score"], 11, "{site:#}");
            assert!(site["test_image"].as_str().unwrap().starts_with("images/"));
        } else {
            assert_eq!(
                results[0],
                ("site".to_owned(), "fail".to_owned()),
                "{site:#}"
            );
            assert!(results[1..].iter().all(|(_, r)| r == "skip"), "{site:#}");
            assert_eq!(site["score"], 0, "{site:#}");
        }
    }
    assert_eq!(sites[29]["student"], "Hanging");
    let hung = sites[29]["checks"][0]["detail"].as_str().unwrap();
    assert!(
        hung.contains("timed out") || hung.contains("deadline"),
        "{hung}"
    );

    let csv = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 31, "{csv}");
    assert!(rows[0].starts_with("student,website_url,function_url,site,cache,config,"));
    assert!(rows[1].starts_with("Student 00,"), "{}", rows[1]);
    assert!(rows[25].starts_with("Dead 0,"), "{}", rows[25]);
    assert_eq!(
        tripwire.connections.load(Ordering::SeqCst),
        0,
        "check called something of AWS's"
    );
    drop(hanging);
    let _ = std::fs::remove_dir_all(&home);
}
