//! What is checked is what is uploaded (issue 22): a frontend file rewritten with a private
//! key, or swapped for a link to a file outside the folder, while deploy runs (an editor, a
//! sync tool) is never what gets published; the bytes checked when the folder was loaded are.

use std::process::Stdio;
use std::time::{Duration, Instant};

use catup_testkit::proxy::{FaultProxy, Policy};

use crate::common::{catup_command, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_changed_after_its_check_is_never_what_gets_published() {
    let w = World::new();
    let frontend = w.frontend_copy();
    std::fs::write(frontend.join("notes.txt"), "notes").unwrap();
    let index = std::fs::read(frontend.join("index.html")).unwrap();
    let outside = w.dir.join("outside.txt");
    std::fs::write(&outside, "outside the folder").unwrap();

    // Every call is held: the site is uploaded several round trips after deploy's first call,
    // and that call comes only once the folder is loaded and checked.
    let delay = Duration::from_millis(200);
    let proxy = FaultProxy::start_delayed(&w.moto.endpoint(), Policy::Pass, delay).await;
    let args = [
        "--stack",
        w.stack.as_str(),
        "deploy",
        "--bootstrap",
        w.bootstrap.to_str().unwrap(),
        "--frontend",
        frontend.to_str().unwrap(),
    ];
    let deploy = catup_command(&w.dir, &w.env_via(&proxy.endpoint()), &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start catup");
    let start = Instant::now();
    while proxy.requests() == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "deploy never called AWS"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    std::fs::write(
        frontend.join("notes.txt"),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    std::fs::remove_file(frontend.join("index.html")).unwrap();
    std::os::unix::fs::symlink(&outside, frontend.join("index.html")).unwrap();
    let changed_at = std::time::SystemTime::now();

    let out = tokio::task::spawn_blocking(move || deploy.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "deploy failed:\n{stderr}");
    // The files were changed before their uploads went out.
    let site = format!("s3 PUT /{}/", w.site_bucket());
    let uploads: Vec<_> = proxy
        .spans()
        .into_iter()
        .filter(|s| s.call.starts_with(&site))
        .collect();
    assert!(!uploads.is_empty(), "{:#?}", proxy.spans());
    assert!(uploads.iter().all(|s| s.start > changed_at), "{uploads:#?}");

    let s3 = w.s3().await;
    for (key, loaded) in [("notes.txt", &b"notes"[..]), ("index.html", &index)] {
        let object = s3
            .get_object()
            .bucket(w.site_bucket())
            .key(key)
            .send()
            .await
            .unwrap();
        let published = object.body.collect().await.unwrap().into_bytes();
        assert_eq!(
            published.as_ref(),
            loaded,
            "{key} as published: {:?}",
            String::from_utf8_lossy(&published)
        );
    }
}
