//! catup killed at every point of a deploy or a teardown (SIGKILL when its k-th AWS call
//! reaches a proxy, for every k), then run again: the stack always converges to exactly
//! what an uninterrupted run gives.

use catup_testkit::proxy::{FaultProxy, Policy};
use catup_testkit::unique_name;

use crate::common::World;
use crate::snapshot::{is_gone, snapshot};

/// Runs `args` via a proxy that kills catup at its k-th call; true when it was killed.
async fn killed_at(w: &World, k: usize, stack: &str, args: &[&str]) -> bool {
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::KillAt { nth: k }).await;
    let mut child = w.spawn_catup_via(&proxy.endpoint(), stack, args);
    proxy.kill_target(child.id());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    if status.success() {
        assert!(
            proxy.requests() < k,
            "completed although call {k} was dropped"
        );
        false
    } else {
        assert!(
            proxy.requests() >= k,
            "failed before its {k}th call: {status}"
        );
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_killed_at_every_call_converges_to_the_fresh_deploy() {
    let w = World::new();
    let bootstrap = w.bootstrap.to_str().unwrap().to_owned();
    let deploy = ["deploy", "--bootstrap", bootstrap.as_str()];
    let reference_stack = unique_name("r");
    w.catup_as(&reference_stack, &deploy).ok();
    let reference = snapshot(&w, &reference_stack).await;
    assert!(!reference["function"].is_null(), "{reference:#}");

    let mut kills = 0;
    for k in 1.. {
        let stack = unique_name("k");
        if !killed_at(&w, k, &stack, &deploy).await {
            break;
        }
        kills += 1;
        let rerun = w.catup_as(&stack, &deploy);
        assert_eq!(
            rerun.code, 0,
            "deploy after a kill at call {k} failed:\n{}",
            rerun.stderr
        );
        let converged = snapshot(&w, &stack).await;
        assert_eq!(
            converged, reference,
            "killed at call {k}: not the fresh-deploy result"
        );
        w.moto.start_recording().await;
        w.catup_as(&stack, &deploy).ok();
        let mutations = w.moto.recorded_mutations().await;
        assert!(
            mutations.is_empty(),
            "killed at call {k}: the deploy after converging mutated {mutations:#?}"
        );
    }
    assert!(
        kills >= 25,
        "a fresh deploy makes ~30 calls; only {kills} kill points were tried"
    );
}

/// Every other stack has custom bucket names: the rerun, with no flags, still finds them
/// (the function that remembered them may be gone) and finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_killed_at_every_call_finishes_on_the_next_run() {
    let w = World::new();
    let bootstrap = w.bootstrap.to_str().unwrap().to_owned();
    let mut kills = 0;
    for k in 1.. {
        let stack = unique_name("v");
        let custom = [format!("{stack}-gallery"), format!("{stack}-www")];
        let (images, flags) = match k % 2 {
            1 => (
                custom[0].clone(),
                vec!["--images-bucket", &custom[0], "--site-bucket", &custom[1]],
            ),
            _ => (w.bucket_of(&stack, "images"), vec![]),
        };
        let deploy = [&["deploy", "--bootstrap", bootstrap.as_str()][..], &flags].concat();
        w.catup_as(&stack, &deploy).ok();
        // Objects in the images bucket, so teardown has emptying to be killed in.
        let s3 = w.s3().await;
        for i in 0..3 {
            s3.put_object()
                .bucket(&images)
                .key(format!("images/{i}.png"))
                .body(aws_sdk_s3::primitives::ByteStream::from_static(b"cat"))
                .send()
                .await
                .unwrap();
        }
        if !killed_at(&w, k, &stack, &["teardown", "--yes"]).await {
            is_gone(&w, &stack).await.unwrap();
            break;
        }
        kills += 1;
        let rerun = w.catup_as(&stack, &["teardown", "--yes"]);
        assert_eq!(
            rerun.code, 0,
            "teardown after a kill at call {k} failed:\n{}",
            rerun.stderr
        );
        if let Err(left) = is_gone(&w, &stack).await {
            panic!("killed at call {k}: {left}");
        }
        for bucket in &custom {
            let left = s3.head_bucket().bucket(bucket).send().await.is_ok();
            assert!(!left, "killed at call {k}: bucket {bucket} left behind");
        }
    }
    assert!(
        kills >= 20,
        "a teardown makes ~35 calls; only {kills} kill points were tried"
    );
}

/// A deploy killed at any point can also be torn down: teardown removes whatever it left
/// (including a bucket created but not yet tagged).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_after_a_deploy_killed_at_every_call_leaves_nothing() {
    let w = World::new();
    let bootstrap = w.bootstrap.to_str().unwrap().to_owned();
    let deploy = ["deploy", "--bootstrap", bootstrap.as_str()];
    let mut kills = 0;
    for k in 1.. {
        let stack = unique_name("x");
        let killed = killed_at(&w, k, &stack, &deploy).await;
        let teardown = w.catup_as(&stack, &["teardown", "--yes"]);
        assert_eq!(
            teardown.code, 0,
            "teardown after a deploy killed at call {k}:\n{}",
            teardown.stderr
        );
        if let Err(left) = is_gone(&w, &stack).await {
            panic!("deploy killed at call {k}, then teardown: {left}");
        }
        if !killed {
            break;
        }
        kills += 1;
    }
    assert!(kills >= 25, "only {kills} kill points were tried");
}
