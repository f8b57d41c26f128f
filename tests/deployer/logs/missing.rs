//! `catup logs` where there is nothing to read: a deployed stack whose log group is gone, and
//! a stack that was never deployed.

use super::{group_of, logs, said};
use crate::common::World;

#[tokio::test]
async fn a_deployed_stack_without_a_log_group_says_so() {
    let world = World::new();
    world.deploy();
    let group = group_of(&world.stack);
    let logs_client = world.logs().await;
    logs_client
        .delete_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    let run = logs(&world, &world.stack, &[]).ok();
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains(&format!("no logs yet: log group {group} does not exist")),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_stack_that_is_not_deployed_exits_3_with_one_line() {
    let world = World::new();
    let run = logs(&world, &world.stack, &[]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    // The test environment points the SDK at missing config files: it warns about them.
    assert_eq!(
        said(&run),
        [format!(
            "stack '{0}' is not deployed in us-east-1 (no function {0}-api): run `catup --stack {0} deploy`",
            world.stack
        )]
    );
}

#[tokio::test]
async fn a_stack_that_is_not_deployed_is_a_json_error_under_json() {
    let world = World::new();
    let run = logs(&world, &world.stack, &["--json"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let error = run.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.starts_with(&format!("stack '{}' is not deployed", world.stack)),
        "{error}"
    );
}
