//! AWS misbehaving: a proxy answers a share of calls with 500, 503 SlowDown, 429/Throttling or
//! a dropped connection (seeded, so a failure can be replayed with the same seed).

use std::time::{Duration, Instant};

use catup_testkit::proxy::{FaultProxy, Policy};

use crate::common::{assert_all, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_faults_deploy_status_and_teardown_still_converge() {
    let w = World::new();
    let bootstrap = w.bootstrap.to_str().unwrap().to_owned();
    for seed in [7, 1234, 99_991] {
        let proxy = FaultProxy::start(
            &w.moto.endpoint(),
            Policy::Faults {
                seed,
                per_mille: 100,
            },
        )
        .await;
        let via = proxy.endpoint();
        let stack = catup_testkit::unique_name("f");
        let run = |args: &[&str]| w.catup_via(&via, &stack, args);

        let deploy = run(&["-v", "deploy", "--json", "--bootstrap", &bootstrap]);
        assert_eq!(
            deploy.code, 0,
            "seed {seed}: deploy failed:\n{}",
            deploy.stderr
        );
        assert_all(&deploy.json(), "created");
        let status = run(&["status", "--json"]);
        assert_eq!(status.code, 0, "seed {seed}: {}", status.stderr);
        assert_all(&status.json(), "ok");
        let again = run(&["deploy", "--json", "--bootstrap", &bootstrap]);
        assert_eq!(again.code, 0, "seed {seed}: {}", again.stderr);
        assert_all(&again.json(), "unchanged");
        let teardown = run(&["-v", "teardown", "--yes"]);
        assert_eq!(
            teardown.code, 0,
            "seed {seed}: teardown failed:\n{}",
            teardown.stderr
        );
        crate::snapshot::is_gone(&w, &stack).await.unwrap();

        let faults = proxy.faults();
        let share = faults as f64 / proxy.requests() as f64;
        assert!(
            faults > 0 && (0.03..0.25).contains(&share),
            "seed {seed}: {faults} faults in {} calls",
            proxy.requests()
        );
        let verbose = format!("{}{}", deploy.stderr, teardown.stderr);
        assert!(
            verbose.contains("(retrying after"),
            "seed {seed}: -v shows no retries:\n{verbose}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_failing_fails_fast_with_a_clear_error() {
    let w = World::new();
    let proxy = FaultProxy::start(
        &w.moto.endpoint(),
        Policy::Faults {
            seed: 3,
            per_mille: 1000,
        },
    )
    .await;
    for args in [
        &["status"][..],
        &["teardown", "--yes"],
        &["deploy", "--bootstrap", w.bootstrap.to_str().unwrap()],
    ] {
        let started = Instant::now();
        let run = w.catup_via(&proxy.endpoint(), &w.stack, args);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(30), "{args:?} took {took:?}");
        run.fails_with(1, "read the AWS account id");
    }
    assert!(
        proxy.requests() >= 3 * 2,
        "the SDK retried: {} calls",
        proxy.requests()
    );
}
