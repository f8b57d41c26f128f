//! A stack asked about in a region that holds nothing of it: status, plan, logs and teardown
//! say where it is and the command to run there, changing nothing; asked in its own region,
//! status also says the images it holds and what it costs, with no look elsewhere.

use aws_sdk_s3::primitives::ByteStream;
use catup_testkit::MOTO_ACCOUNT_ID;

use crate::common::World;

const AWAY: &str = "eu-west-1";

#[tokio::test]
async fn commands_in_the_wrong_region_name_the_stack_s_region_and_command() {
    let w = World::new();
    w.deploy_as(&w.stack, &["--region", AWAY]);
    let config = w.moto.sdk_config_in(AWAY).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let images = format!("{}-images-{MOTO_ACCOUNT_ID}-{AWAY}", w.stack);
    s3.put_object()
        .bucket(&images)
        .key("images/cat.jpg")
        .body(ByteStream::from(vec![b'x'; 300]))
        .send()
        .await
        .unwrap();

    let there = |sub: &str| format!("catup --region {AWAY} --stack {} {sub}", w.stack);
    let status = w.catup(&["status", "--json"]);
    assert_eq!(status.code, 3, "{}", status.stderr);
    assert!(
        status.stderr.contains(&there("status")),
        "{}",
        status.stderr
    );
    assert_eq!(status.json()["found_in_regions"], serde_json::json!([AWAY]));
    let logs = w.catup(&["logs"]);
    assert_eq!(logs.code, 3, "{}", logs.stderr);
    assert!(logs.stderr.contains(&there("logs")), "{}", logs.stderr);
    let bootstrap = w.bootstrap.to_str().unwrap();
    let plan = w.catup(&["plan", "--bootstrap", bootstrap]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(plan.stderr.contains(&there("plan")), "{}", plan.stderr);
    w.moto.start_recording().await;
    let teardown = w.catup(&["teardown", "--yes"]);
    assert_eq!(teardown.code, 3, "{}", teardown.stderr);
    assert!(
        teardown.stderr.contains(&there("teardown")),
        "{}",
        teardown.stderr
    );
    assert_eq!(w.recorded_mutation_lines().await, Vec::<String>::new());

    // In its own region: no look elsewhere, and what it holds and costs.
    w.moto.start_recording().await;
    let here = w.catup(&["--region", AWAY, "status", "--json"]).ok().json();
    let calls = w.moto.recorded_calls().await;
    let looked = calls.iter().filter(|c| {
        let op = c.operation.as_deref().unwrap_or_default();
        op.contains("GetResources") || op.contains("ListRoles")
    });
    assert_eq!(looked.count(), 0, "{calls:#?}");
    assert_eq!(here["images"]["count"], 1);
    assert_eq!(here["images"]["bytes"], 300);
    assert!(here["monthly_usd"].as_f64().unwrap() > 0.0, "{here}");
    assert!(here.get("found_in_regions").is_none(), "{here}");
    let text = w.catup(&["--region", AWAY, "status"]).ok().stdout;
    assert!(text.contains("Images:       1 image (300 B)"), "{text}");
    assert!(text.contains("Est. cost:    < $0.01 a month"), "{text}");
}
