//! Speed where users feel it: the proxy's latency mode the deploy benchmark measures with,
//! big sites (bounded, streaming uploads) and big buckets (pipelined emptying).

use std::time::{Duration, Instant};

use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};

use crate::common::World;

#[tokio::test(flavor = "multi_thread")]
async fn the_proxy_holds_every_call_for_its_delay_and_counts_the_peak_in_flight() {
    let w = World::new();
    let delay = Duration::from_millis(300);
    let proxy = FaultProxy::start_delayed(&w.moto.endpoint(), Policy::Pass, delay).await;
    let config = catup_testkit::sdk_config_at(&proxy.endpoint(), &w.region).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );

    // Two calls in a row take two delays.
    let start = Instant::now();
    for _ in 0..2 {
        s3.list_buckets().send().await.expect("list buckets");
    }
    assert!(start.elapsed() >= 2 * delay, "{:?}", start.elapsed());
    assert_eq!(proxy.peak_in_flight(), 1);

    // Four side by side take about one, and are all in flight at once.
    let start = Instant::now();
    let calls = (0..4).map(|_| s3.list_buckets().send());
    for result in futures_join_all(calls).await {
        result.expect("list buckets");
    }
    let elapsed = start.elapsed();
    assert!(elapsed >= delay && elapsed < 2 * delay, "{elapsed:?}");
    assert_eq!(proxy.peak_in_flight(), 4);
    assert_eq!(proxy.peak_in_flight_of("s3", "GET"), 4);
    assert_eq!(proxy.peak_in_flight_of("s3", "PUT"), 0);
    assert_eq!(proxy.requests(), 6);
}

/// Awaits every future side by side (tokio tasks; no futures crate needed).
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

/// A site of `count` files (index.html and count-1 small pages), in the world's folder.
fn site_of(w: &World, count: usize) -> std::path::PathBuf {
    let dir = w.dir.join(format!("site{count}"));
    std::fs::create_dir_all(dir.join("pages")).unwrap();
    std::fs::write(dir.join("index.html"), "<html>cats</html>").unwrap();
    for i in 1..count {
        std::fs::write(
            dir.join(format!("pages/{i:04}.txt")),
            format!("page {i}\n").repeat(40),
        )
        .unwrap();
    }
    dir
}

/// `catup --stack <stack> ARGS` via moto, started by `sh -c '<prelude>; exec catup ARGS'`, so
/// that the prelude (a `ulimit`) applies to catup alone.
fn catup_under_shell(w: &World, prelude: &str, args: &[&str]) -> crate::common::Run {
    let catup = crate::common::catup_command(
        &w.dir,
        &w.env_via(&w.moto.endpoint()),
        &[&["--stack", w.stack.as_str()], args].concat(),
    );
    let mut shell = std::process::Command::new("sh");
    shell
        .arg("-c")
        .arg(format!("{prelude}; exec \"$0\" \"$@\""))
        .arg(catup.get_program())
        .args(catup.get_args())
        .env_clear()
        .stdin(std::process::Stdio::null());
    for (key, value) in catup.get_envs() {
        if let Some(value) = value {
            shell.env(key, value);
        }
    }
    let out = shell.output().expect("run sh");
    crate::common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// PutObject calls (a PUT of a key, not of a bucket or its settings) to `bucket` since
/// recording started.
async fn put_objects(w: &World, bucket: &str) -> usize {
    let prefix = format!("/{bucket}/");
    w.moto
        .recorded_calls()
        .await
        .iter()
        .filter(|c| c.method == "PUT")
        .filter_map(|c| c.url.split_once(&prefix).map(|(_, rest)| rest.to_owned()))
        .filter(|key| !key.is_empty() && !key.starts_with('?'))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_500_file_site_deploys_under_ulimit_256_and_a_no_op_uploads_nothing() {
    let w = World::new();
    let site = site_of(&w, 500);
    let args = [
        "deploy",
        "--json",
        "--bootstrap",
        w.bootstrap.to_str().unwrap(),
        "--frontend",
        site.to_str().unwrap(),
    ];
    w.moto.start_recording().await;
    catup_under_shell(&w, "ulimit -n 256", &args).ok();
    // 499 pages and index.html, then config.js.
    assert_eq!(put_objects(&w, &w.site_bucket()).await, 501);

    w.moto.start_recording().await;
    let report = catup_under_shell(&w, "ulimit -n 256", &args).ok().json();
    assert_eq!(put_objects(&w, &w.site_bucket()).await, 0);
    assert_eq!(
        crate::common::detail_of(&report, "site_files").0,
        "unchanged"
    );
}

/// Gives every page of the site new content, so that a deploy uploads them all again.
fn touch_pages(site: &std::path::Path, round: usize) {
    for entry in std::fs::read_dir(site.join("pages")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::write(&path, format!("round {round}\n")).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn site_uploads_run_side_by_side_up_to_their_limit_and_never_beyond() {
    let w = World::new();
    let site = site_of(&w, 80);
    let args = [
        "--stack",
        w.stack.as_str(),
        "deploy",
        "--bootstrap",
        w.bootstrap.to_str().unwrap(),
        "--frontend",
        site.to_str().unwrap(),
    ];
    w.catup(&args[2..]).ok();
    // Redeploys that change only the pages: every S3 PUT is a PutObject, each held 30 ms.
    for (round, limit) in [(1, Some(4)), (2, None)] {
        touch_pages(&site, round);
        let proxy =
            FaultProxy::start_delayed(&w.moto.endpoint(), Policy::Pass, Duration::from_millis(30))
                .await;
        let mut env = w.env_via(&proxy.endpoint());
        if let Some(limit) = limit {
            env.push(("CATUP_UPLOAD_CONCURRENCY", limit.to_string()));
        }
        crate::common::run_catup(&w.dir, &env, &args).ok();
        let expected = limit.unwrap_or(16);
        assert_eq!(
            proxy.peak_in_flight_of("s3", "PUT"),
            expected,
            "round {round}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_site_file_that_fails_to_upload_is_named() {
    let w = World::new();
    let site = site_of(&w, 30);
    let failing = On {
        path: Some(format!("/{}/pages/0007.txt", w.site_bucket())),
        ..On::s3("PUT", &w.site_bucket(), "")
    };
    let proxy = FaultProxy::start(
        &w.moto.endpoint(),
        Policy::Script(vec![Scripted::new(
            failing,
            usize::MAX,
            Answer::error(403, "AccessDenied", "Access Denied"),
        )]),
    )
    .await;
    let run = w.catup_via(
        &proxy.endpoint(),
        &w.stack,
        &[
            "deploy",
            "--bootstrap",
            w.bootstrap.to_str().unwrap(),
            "--frontend",
            site.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("upload pages/0007.txt to bucket")
            && run.stderr.contains("AccessDenied"),
        "{}",
        run.stderr
    );
    assert_eq!(proxy.answered(0), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn teardown_empties_2500_versions_and_markers_with_one_delete_objects_per_1000() {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    let w = World::new();
    w.deploy();
    let (s3, images) = (w.s3().await, w.images_bucket());
    s3.put_bucket_versioning()
        .bucket(&images)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("enable versioning");
    // 1,000 keys written twice (2,000 versions), 500 of them deleted (500 delete markers).
    let keys: Vec<String> = (0..1000).map(|i| format!("images/{i:04}.png")).collect();
    for chunk in keys.chunks(50) {
        let mut writes = tokio::task::JoinSet::new();
        for (n, key) in chunk.iter().enumerate() {
            let (s3, images, key) = (s3.clone(), images.clone(), key.clone());
            let delete = n % 2 == 0;
            writes.spawn(async move {
                for round in 0..2 {
                    s3.put_object()
                        .bucket(&images)
                        .key(&key)
                        .body(format!("{n} {round}").into_bytes().into())
                        .send()
                        .await
                        .expect("put a version");
                }
                if delete {
                    s3.delete_object()
                        .bucket(&images)
                        .key(&key)
                        .send()
                        .await
                        .expect("delete");
                }
            });
        }
        while let Some(done) = writes.join_next().await {
            done.unwrap();
        }
    }
    let entries: usize = 2500;

    w.moto.start_recording().await;
    let run = w.catup(&["teardown", "--yes"]).ok();
    assert!(
        run.stderr
            .contains(&format!("deleted {entries} object versions")),
        "{}",
        run.stderr
    );
    let calls = w.moto.recorded_calls().await;
    let delete_objects = calls
        .iter()
        .filter(|c| {
            c.method == "POST" && c.url.contains(&format!("/{images}")) && c.url.contains("?delete")
        })
        .count();
    assert_eq!(delete_objects, entries.div_ceil(1000), "{calls:#?}");
    assert!(
        s3.head_bucket().bucket(&images).send().await.is_err(),
        "the images bucket is gone"
    );
}
