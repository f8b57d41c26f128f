//! Waiting on AWS's eventual consistency: IAM propagating a new role to Lambda, and Lambda
//! finishing a create or an update before the next call (no ResourceConflictException).

use std::time::Duration;

use aws_sdk_lambda::types::{LastUpdateStatus, State};

use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};

use crate::aws::{
    error_code, reason, retry_while_settling, seconds, Aws, Progress, SdkResultExt, Settling,
};

/// Who made the function's role, which says how long IAM may still be propagating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleOrigin {
    /// Created by this deploy.
    CreatedNow,
    /// Catup's, created earlier (perhaps by a deploy killed right after).
    CreatedEarlier,
    /// Given with --role-arn: not new, so "cannot be assumed" is final.
    Given,
}

/// How long IAM may take to let Lambda assume the function's role: up to 5 minutes for a role
/// catup has just created (what Terraform allows for IAM propagation), 2 for an older one of
/// catup's, none for a role catup did not create.
pub(super) fn role_propagation(origin: RoleOrigin) -> Settling {
    let minutes = match origin {
        RoleOrigin::CreatedNow => 5,
        RoleOrigin::CreatedEarlier => 2,
        RoleOrigin::Given => 0,
    };
    Settling::up_to(Duration::from_secs(minutes * 60), Duration::from_secs(10))
}

/// How long Lambda may take to finish a create or an update.
const LAMBDA_BUSY: Settling = Settling {
    first_delay: Duration::from_millis(100),
    max_delay: Duration::from_secs(2),
    limit: Duration::from_secs(300),
};

/// Lambda refuses a role that IAM has not yet propagated, for up to minutes after it was
/// created, in two forms: the role "cannot be assumed", or (with environment variables) the
/// KMS grant for them names "not a valid principal". `message` is the error's one-line reason.
pub(super) fn role_not_yet_assumable(code: Option<&str>, message: &str) -> bool {
    code == Some("InvalidParameterValueException")
        && (message.contains("cannot be assumed")
            || message.contains("role defined for the function")
            || (message.contains("KMS") && message.contains("not refer to a valid principal")))
}

/// Where Lambda left the function once it is no longer busy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Settled {
    Ready,
    /// State `Failed` or LastUpdateStatus `Failed`, with Lambda's reason.
    Failed(String),
}

enum Wait {
    Busy,
    Error(anyhow::Error),
}

/// The failure Lambda reports for a function's state or its last update, if any.
pub(super) fn failure(
    state: Option<&State>,
    update: Option<&LastUpdateStatus>,
    state_reason: Option<&str>,
    update_reason: Option<&str>,
) -> Option<String> {
    let reason = match (state, update) {
        (_, Some(LastUpdateStatus::Failed)) => update_reason.or(state_reason),
        (Some(State::Failed), _) => state_reason.or(update_reason),
        _ => return None,
    };
    Some(reason.unwrap_or("no reason given").to_owned())
}

/// Waits until the function is no longer Pending or InProgress, and says how it ended.
pub(super) async fn wait_until_settled(
    aws: &Aws,
    name: &str,
    progress: Progress<'_>,
) -> anyhow::Result<Settled> {
    let settled = retry_while_settling(
        LAMBDA_BUSY,
        |w| matches!(w, Wait::Busy),
        |_, attempt| {
            if attempt == 1 {
                progress(format!("function {name}: waiting for Lambda to finish"));
            }
        },
        || async {
            let config = aws
                .lambda
                .get_function_configuration()
                .function_name(name)
                .send()
                .await
                .or_fail(|| format!("read state of function {name}"))
                .map_err(Wait::Error)?;
            let (state, update) = (config.state(), config.last_update_status());
            if matches!(state, Some(State::Pending))
                || matches!(update, Some(LastUpdateStatus::InProgress))
            {
                return Err(Wait::Busy);
            }
            Ok(
                match failure(
                    state,
                    update,
                    config.state_reason(),
                    config.last_update_status_reason(),
                ) {
                    Some(reason) => Settled::Failed(reason),
                    None => Settled::Ready,
                },
            )
        },
    )
    .await;
    match settled {
        Ok(settled) => Ok(settled),
        Err(Wait::Busy) => anyhow::bail!(
            "function {name} is still not ready after {}: run deploy again later",
            crate::aws::seconds(LAMBDA_BUSY.limit)
        ),
        Err(Wait::Error(e)) => Err(e),
    }
}

/// Waits for Lambda to finish catup's own change; a failure of that change is an error that
/// names Lambda's reason (the next deploy tries the change again).
pub(super) async fn wait_until_applied(
    aws: &Aws,
    name: &str,
    progress: Progress<'_>,
) -> anyhow::Result<()> {
    match wait_until_settled(aws, name, progress).await? {
        Settled::Ready => Ok(()),
        Settled::Failed(reason) => anyhow::bail!(
            "function {name}: Lambda could not apply the change ({reason}): fix the cause and run deploy again"
        ),
    }
}

/// Retries a call while Lambda says the function's role cannot be assumed yet.
pub(super) struct RolePropagation<'a> {
    pub(super) origin: RoleOrigin,
    pub(super) name: &'a str,
    pub(super) progress: Progress<'a>,
}

impl RolePropagation<'_> {
    pub(super) async fn retry<T, E, Fut>(
        &self,
        call: impl FnMut() -> Fut,
    ) -> Result<T, SdkError<E, HttpResponse>>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    {
        let name = self.name;
        retry_while_settling(
            role_propagation(self.origin),
            |e| role_not_yet_assumable(error_code(e), &reason(e)),
            |delay, attempt| {
                (self.progress)(format!(
                    "function {name}: IAM role not assumable yet, retrying in {} (attempt {attempt}): IAM has not propagated it to Lambda",
                    seconds(delay)
                ))
            },
            call,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_propagation_error_is_retried() {
        let msg = "The role defined for the function cannot be assumed by Lambda.";
        assert!(role_not_yet_assumable(
            Some("InvalidParameterValueException"),
            msg
        ));
        assert!(!role_not_yet_assumable(Some("AccessDeniedException"), msg));
        assert!(!role_not_yet_assumable(
            Some("InvalidParameterValueException"),
            "Unzipped size must be smaller than 262144000 bytes"
        ));
    }

    /// AWS's message when the role's KMS grant for the environment variables is refused.
    pub const KMS_NOT_YET: &str = "Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant. Please check your KMS key settings. KMS Exception: InvalidArnException KMS Message: ARN does not refer to a valid principal: arn:aws:iam::123456789012:role/cats-api-role";

    #[test]
    fn the_kms_grant_form_of_iam_propagation_is_retried_too() {
        let code = Some("InvalidParameterValueException");
        assert!(role_not_yet_assumable(code, KMS_NOT_YET));
        assert!(!role_not_yet_assumable(
            code,
            "Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant. KMS Exception: DisabledException"
        ));
    }

    #[test]
    fn a_just_created_role_gets_five_minutes_an_older_one_two_a_given_one_none() {
        use std::time::Duration;
        let limit = |origin| role_propagation(origin).limit;
        assert_eq!(limit(RoleOrigin::CreatedNow), Duration::from_secs(300));
        assert_eq!(limit(RoleOrigin::CreatedEarlier), Duration::from_secs(120));
        assert_eq!(limit(RoleOrigin::Given), Duration::ZERO);
    }
}
