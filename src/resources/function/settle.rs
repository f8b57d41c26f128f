//! Waiting on AWS's eventual consistency: IAM propagating a new role to Lambda, and Lambda
//! finishing a create or an update before the next call (no ResourceConflictException).

use std::time::{Duration, Instant};

use anyhow::bail;
use aws_sdk_lambda::types::{LastUpdateStatus, State};

use crate::aws::{Aws, SdkResultExt, Settling};
use crate::output::Reporter;

/// How long IAM may take to let Lambda assume a new role.
pub(super) const ROLE_PROPAGATION: Settling = Settling {
    limit: Duration::from_secs(120),
    max_delay: Duration::from_secs(10),
};
/// How long Lambda may take to finish a create or an update.
const SETTLE_LIMIT: Duration = Duration::from_secs(300);

/// Lambda refuses a role that IAM has not yet propagated, for up to a few seconds after it
/// was created. `message` is the error's one-line reason.
pub(super) fn role_not_yet_assumable(code: Option<&str>, message: &str) -> bool {
    code == Some("InvalidParameterValueException")
        && (message.contains("cannot be assumed")
            || message.contains("role defined for the function"))
}

/// Waits until the function is Active and its last update is not in progress.
pub(super) async fn wait_until_settled(
    aws: &Aws,
    name: &str,
    reporter: &Reporter,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(100);
    let mut announced = false;
    loop {
        let config = aws
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .or_fail(|| format!("read state of function {name}"))?;
        let state = config.state().cloned();
        let update = config.last_update_status().cloned();
        match (&state, &update) {
            (Some(State::Failed), _) | (_, Some(LastUpdateStatus::Failed)) => bail!(
                "function {name} failed: {}",
                config
                    .last_update_status_reason()
                    .or(config.state_reason())
                    .unwrap_or("no reason given")
            ),
            (Some(State::Pending), _) | (_, Some(LastUpdateStatus::InProgress)) => {}
            _ => return Ok(()),
        }
        if started.elapsed() > SETTLE_LIMIT {
            bail!(
                "function {name} is still not ready after {SETTLE_LIMIT:?}: run deploy again later"
            );
        }
        if !announced {
            reporter.note(format!("function {name}: waiting for Lambda to finish"));
            announced = true;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}
