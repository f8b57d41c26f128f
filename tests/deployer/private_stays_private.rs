//! The frontend folder is published to the world: only its own regular files go up, and
//! anything else (a link out of it, a FIFO, a name that is not UTF-8, a private key) is refused
//! by name before any AWS call, so nothing private becomes public and nothing hangs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{catup_command, Run, World};

/// Runs catup, killing it if it has not finished within `limit` (a FIFO used to hang it).
fn catup_within(w: &World, limit: Duration, args: &[&str]) -> Run {
    let env = w.env_via(&w.moto.endpoint());
    let args = [&["--stack", w.stack.as_str()], args].concat();
    let mut child = catup_command(&w.dir, &env, &args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start catup");
    let started = Instant::now();
    while child.try_wait().expect("wait for catup").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("catup {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("read catup's output");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn deploy_from<'a>(w: &'a World, frontend: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let base = [
        "deploy",
        "--json",
        "--bootstrap",
        w.bootstrap.to_str().unwrap(),
        "--frontend",
        frontend.to_str().unwrap(),
    ];
    [&base[..], extra].concat()
}

/// Deploy from `frontend` is refused naming `needle`, before any AWS call: no bucket exists.
async fn refused_before_any_aws_call(w: &World, frontend: &Path, needle: &str) -> Run {
    w.moto.start_recording().await;
    let run = catup_within(w, Duration::from_secs(60), &deploy_from(w, frontend, &[]))
        .fails_with(1, needle);
    let calls = w.moto.recorded_calls().await;
    assert!(calls.is_empty(), "AWS was called: {calls:?}");
    let buckets = w.s3().await.list_buckets().send().await.unwrap();
    assert!(buckets.buckets().is_empty(), "{buckets:?}");
    run
}

/// The keys of the site bucket.
pub async fn site_keys(w: &World) -> Vec<String> {
    let listed = w
        .s3()
        .await
        .list_objects_v2()
        .bucket(w.site_bucket())
        .send()
        .await
        .unwrap();
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

#[cfg(unix)]
#[tokio::test]
async fn links_out_of_the_frontend_are_never_followed() {
    use std::os::unix::fs::symlink;
    let w = World::new();
    let frontend = w.frontend_copy();
    let private = w.dir.join("private.txt");
    std::fs::write(&private, "not for the world").unwrap();
    let outside: [(PathBuf, &str); 4] = [
        (private.clone(), "passwords.txt"),
        (PathBuf::from("/etc/passwd"), "passwd"),
        (PathBuf::from("/dev/zero"), "zero.bin"),
        (w.dir.clone(), "elsewhere"),
    ];
    for (target, name) in outside {
        let link = frontend.join(name);
        symlink(&target, &link).unwrap();
        let run = refused_before_any_aws_call(&w, &frontend, "outside the frontend folder").await;
        assert!(run.stderr.contains(name), "{}", run.stderr);
        std::fs::remove_file(&link).unwrap();
    }

    // A link to a file inside the folder is that file; the deploy publishes only the folder.
    symlink(frontend.join("index.html"), frontend.join("home.html")).unwrap();
    w.catup(&deploy_from(&w, &frontend, &[])).ok();
    let mut keys = site_keys(&w).await;
    keys.sort();
    assert_eq!(
        keys,
        [
            "app.js",
            "config.js",
            "home.html",
            "index.html",
            "styles.css"
        ]
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_fifo_is_refused_at_once_by_deploy_status_and_dev() {
    let w = World::new();
    let frontend = w.frontend_copy();
    let fifo = frontend.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    refused_before_any_aws_call(&w, &frontend, "FIFO").await;
    let dir = frontend.to_str().unwrap();
    for args in [
        &["status", "--frontend", dir][..],
        &["dev", "--port", "0", "--frontend", dir][..],
    ] {
        let started = Instant::now();
        catup_within(&w, Duration::from_secs(60), args).fails_with(1, "pipe");
        assert!(started.elapsed() < Duration::from_secs(20), "{args:?}");
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_name_that_is_not_utf8_is_refused_naming_the_file() {
    use std::os::unix::ffi::OsStrExt;
    let w = World::new();
    let frontend = w.frontend_copy();
    // Two names a lossy conversion turns into the same key ("cat\u{FFFD}.png").
    for raw in [&b"cat\xff.png"[..], b"cat\xfe.png"] {
        let name = std::ffi::OsStr::from_bytes(raw);
        std::fs::write(frontend.join(name), "x").unwrap();
    }
    let run = refused_before_any_aws_call(&w, &frontend, "not valid UTF-8").await;
    assert!(run.stderr.contains("cat"), "{}", run.stderr);
}

#[tokio::test]
async fn secret_looking_files_are_published_only_with_the_flag() {
    let w = World::new();
    let frontend = w.frontend_copy();
    std::fs::write(
        frontend.join("id_rsa"),
        "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    std::fs::create_dir_all(frontend.join("certs")).unwrap();
    std::fs::write(frontend.join("certs/server.pem"), "x").unwrap();
    let run = refused_before_any_aws_call(&w, &frontend, "looks like a secret").await;
    assert!(
        run.stderr.contains("id_rsa")
            && run.stderr.contains("certs/server.pem")
            && run.stderr.contains("--allow-secret-looking-files"),
        "{}",
        run.stderr
    );

    w.catup(&deploy_from(
        &w,
        &frontend,
        &["--allow-secret-looking-files"],
    ))
    .ok();
    let keys = site_keys(&w).await;
    assert!(
        keys.contains(&"id_rsa".to_owned()) && keys.contains(&"certs/server.pem".to_owned()),
        "{keys:?}"
    );
}

#[tokio::test]
async fn hidden_files_are_left_out_and_listed() {
    let w = World::new();
    let frontend = w.frontend_copy();
    std::fs::write(frontend.join(".env"), "API_KEY=secret").unwrap();
    std::fs::create_dir_all(frontend.join(".git")).unwrap();
    std::fs::write(frontend.join(".git/config"), "[core]").unwrap();
    let run = w.catup(&deploy_from(&w, &frontend, &[])).ok();
    assert!(
        run.stderr.contains("not published (hidden): .env, .git/"),
        "{}",
        run.stderr
    );
    let keys = site_keys(&w).await;
    assert!(keys.iter().all(|k| !k.starts_with('.')), "{keys:?}");
}
