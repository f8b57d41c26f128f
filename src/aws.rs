//! One `SdkConfig` from the standard chain, the clients built from it, and the error helpers
//! every resource uses (one-line reasons, "not found" as a value).

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::call_log::CallLog;
pub use crate::connect::ConnectOptions;
use crate::region::Region;

/// A service's client from the shared configuration, with -v's log of every call.
macro_rules! logged_client {
    ($sdk:ident, $config:expr) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from($config)
                .interceptor(CallLog)
                .build(),
        )
    };
}

/// Clients for every service the stack uses, all from one configuration.
#[derive(Debug, Clone)]
pub struct Aws {
    pub s3: aws_sdk_s3::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// Account-level settings (Block Public Access).
    pub s3control: aws_sdk_s3control::Client,
    /// Resources by tag (GetResources): the stack's buckets without the function's memory.
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// AWS Budgets (global: the account's cost budgets).
    pub budgets: aws_sdk_budgets::Client,
    pub region: Region,
    /// The endpoint override (an emulator), if any.
    pub endpoint_url: Option<String>,
    /// What the clients were built from: the same credentials serve other regions.
    config: SdkConfig,
    /// The credentials' account, once STS said it (shared with the other regions' clients).
    account: Arc<tokio::sync::OnceCell<String>>,
}

impl Aws {
    /// Loads the configuration, checks the endpoint, region and credentials (one-line errors
    /// that say how to fix them), and builds the clients. Makes no AWS call.
    pub async fn connect(options: &ConnectOptions) -> anyhow::Result<Aws> {
        let (config, region) = crate::connect::load(options).await?;
        Ok(Aws::from_config(&config, region))
    }

    pub fn from_config(config: &SdkConfig, region: Region) -> Aws {
        let endpoint_url = config.endpoint_url().map(str::to_owned);
        // Emulators serve buckets under the path, not as virtual hosts.
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(endpoint_url.is_some())
            .interceptor(CallLog)
            .build();
        Aws {
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            lambda: logged_client!(aws_sdk_lambda, config),
            iam: logged_client!(aws_sdk_iam, config),
            sts: logged_client!(aws_sdk_sts, config),
            logs: logged_client!(aws_sdk_cloudwatchlogs, config),
            s3control: s3control_client(config, endpoint_url.as_deref()),
            tagging: logged_client!(aws_sdk_resourcegroupstagging, config),
            budgets: logged_client!(aws_sdk_budgets, config),
            region,
            endpoint_url,
            config: config.clone(),
            account: Arc::default(),
        }
    }

    /// The same credentials and endpoint, in another region (no AWS call).
    pub fn in_region(&self, region: &Region) -> Aws {
        let config = self
            .config
            .to_builder()
            .region(aws_config::Region::new(region.as_str().to_owned()))
            .build();
        Aws {
            account: self.account.clone(),
            ..Aws::from_config(&config, region.clone())
        }
    }

    /// The account id of the caller (STS GetCallerIdentity, asked once); also the first call,
    /// that proves the endpoint answers as AWS does and the credentials are accepted. It gets
    /// short timeouts: an endpoint that accepts connections and never answers (a stopped
    /// emulator, a hung proxy) is reported in seconds, by its URL.
    pub async fn account_id(&self) -> anyhow::Result<String> {
        let asked = self.account.get_or_try_init(|| self.caller_account());
        asked.await.cloned()
    }

    async fn caller_account(&self) -> anyhow::Result<String> {
        let quick = aws_sdk_sts::config::Builder::default()
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(FIRST_CALL_ATTEMPT)
                    .operation_timeout(FIRST_CALL_LIMIT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3));
        let identity = self
            .sts
            .get_caller_identity()
            .customize()
            .config_override(quick)
            .send()
            .await
            .map_err(|e| first_call_error(&e, self.endpoint_url.as_deref()))?;
        identity
            .account
            .context("sts GetCallerIdentity returned no account id")
    }
}

/// S3 Control's endpoint rules put the account id in front of the host
/// (`123456789012.127.0.0.1:5000`), which no emulator on loopback answers: with an endpoint
/// override, S3 Control is sent to that endpoint as it is.
fn s3control_client(config: &SdkConfig, endpoint_url: Option<&str>) -> aws_sdk_s3control::Client {
    let mut builder = aws_sdk_s3control::config::Builder::from(config).interceptor(CallLog);
    if let Some(url) = endpoint_url {
        builder = builder.endpoint_resolver(FixedEndpoint(url.to_owned()));
    }
    aws_sdk_s3control::Client::from_conf(builder.build())
}

#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        let endpoint = aws_sdk_s3control::config::endpoint::Endpoint::builder()
            .url(self.0.clone())
            .build();
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(endpoint))
    }
}

/// The first call may wait this long per attempt, and this long in all.
const FIRST_CALL_ATTEMPT: Duration = Duration::from_secs(8);
const FIRST_CALL_LIMIT: Duration = Duration::from_secs(20);

/// The first call's error, with the endpoint named where the endpoint is the likely cause.
fn first_call_error<E>(err: &SdkError<E, HttpResponse>, endpoint: Option<&str>) -> anyhow::Error
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    const WHAT: &str = "read the AWS account id (sts GetCallerIdentity)";
    let Some(url) = endpoint else {
        return anyhow!("{WHAT}: {}", reason(err));
    };
    const FIX: &str =
        "point --endpoint-url / AWS_ENDPOINT_URL at moto_server or another AWS emulator";
    match err {
        SdkError::TimeoutError(_) => anyhow!(
            "{WHAT}: the AWS endpoint {url} accepted the connection but did not answer within {} s \
             (a stopped or hung emulator or proxy?): restart it, or {FIX}",
            FIRST_CALL_LIMIT.as_secs()
        ),
        SdkError::DispatchFailure(_) => anyhow!("{WHAT}: {} at {url}: {FIX}", reason(err)),
        // An AWS error has a code; a web server that is not AWS answers without one.
        SdkError::ServiceError(service) if service.err().code().is_some() => {
            anyhow!("{WHAT}: {}", reason(err))
        }
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => anyhow!(
            "{WHAT}: the endpoint {url} answered, but not as AWS does ({}): it does not look like AWS or an emulator; {FIX}",
            response_summary(err)
        ),
        _ => anyhow!("{WHAT}: {}", reason(err)),
    }
}

/// "HTTP 404" or the parse failure, for a response that is not AWS's.
fn response_summary<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    match err.raw_response() {
        Some(raw) => format!("HTTP {}", raw.status().as_u16()),
        None => innermost(err),
    }
}

/// The deepest message of an error chain: the one that says what actually happened.
fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut current = err;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// How long to keep retrying while AWS catches up with an earlier change: the first wait,
/// the longest wait between two attempts (waits double), and the limit for all of them.
#[derive(Debug, Clone, Copy)]
pub struct Settling {
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub limit: Duration,
}

impl Settling {
    /// Waits from one second, doubling up to `max_delay`, for at most `limit`.
    pub const fn up_to(limit: Duration, max_delay: Duration) -> Settling {
        Settling {
            first_delay: Duration::from_secs(1),
            max_delay,
            limit,
        }
    }

    /// Every duration times `factor`.
    fn scaled(self, factor: f64) -> Settling {
        Settling {
            first_delay: self.first_delay.mul_f64(factor),
            max_delay: self.max_delay.mul_f64(factor),
            limit: self.limit.mul_f64(factor),
        }
    }
}

/// Tests shrink every wait by this factor (`CATUP_SETTLE_SCALE=0.01`: a 5-minute limit takes
/// 3 s) so that AWS's minutes of eventual consistency are proven without sleeping minutes.
pub const SETTLE_SCALE_ENV: &str = "CATUP_SETTLE_SCALE";

fn settle_scale() -> f64 {
    std::env::var(SETTLE_SCALE_ENV)
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|f| f.is_finite() && *f > 0.0 && *f <= 1.0)
        .unwrap_or(1.0)
}

/// Where a resource reports progress ("waiting for ...") without knowing about the terminal.
pub type Progress<'a> = &'a (dyn Fn(String) + Sync);

pub use crate::connect::CALL_ATTEMPT;

/// A slow uplink (a student's home or campus Wi-Fi): what an upload's attempt is sized by.
const SLOW_UPLINK_BYTES_PER_SECOND: u64 = 100 * 1024;

/// The timeouts of one call that sends `bytes` (code, site files): [`CALL_ATTEMPT`] plus
/// their time at a slow uplink.
pub fn upload_timeouts(bytes: usize) -> TimeoutConfig {
    let sending = Duration::from_secs(bytes as u64 / SLOW_UPLINK_BYTES_PER_SECOND);
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(CALL_ATTEMPT + sending)
        .build()
}

/// A wait as the progress lines print it: "4s", or "0.04s" when tests shrink the waits.
pub fn seconds(wait: Duration) -> String {
    if wait.subsec_millis() == 0 {
        format!("{}s", wait.as_secs())
    } else {
        format!("{:.2}s", wait.as_secs_f64())
    }
}

/// Calls `call` until it succeeds, or fails with an error that `is_settling` does not take for
/// AWS still catching up (IAM propagating a role, S3 applying a public access block), or until
/// `settling.limit` would pass. `announce(delay, attempt)` says each wait.
pub async fn retry_while_settling<T, E, Fut>(
    settling: Settling,
    is_settling: impl Fn(&E) -> bool,
    announce: impl Fn(Duration, u32),
    mut call: impl FnMut() -> Fut,
) -> Result<T, E>
where
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let settling = settling.scaled(settle_scale());
    let started = std::time::Instant::now();
    let mut delay = settling.first_delay;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if is_settling(&e) && started.elapsed() + delay < settling.limit => {
                announce(delay, attempt);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(settling.max_delay);
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// What to do about an error whose fix is not in AWS's own words: an organization's service
/// control policy (lab accounts allow only their regions) and expired session credentials
/// (lab sessions end after a few hours).
fn hint(code: Option<&str>, message: Option<&str>) -> Option<&'static str> {
    let message = message.unwrap_or_default().to_ascii_lowercase();
    match code {
        Some("AccessDenied" | "AccessDeniedException")
            if message.contains("service control policy") =>
        {
            Some("your organization denies this call here (AWS Academy labs allow only their own regions, usually us-east-1 and us-west-2): pass --region with a region your account may use")
        }
        Some("ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired") => {
            Some(EXPIRED)
        }
        _ if message.contains("security token included in the request is expired") => {
            Some(EXPIRED)
        }
        _ => None,
    }
}

const EXPIRED: &str = "your session's credentials have expired: renew them (AWS Academy: start the lab again, then copy the AWS CLI block of AWS Details into ~/.aws/credentials; SSO: aws sso login) and run the command again";

/// One line that says why an AWS call failed.
pub fn reason<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let said = match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => format!("HTTP {}", service.raw().status().as_u16()),
            };
            match hint(e.code(), e.message()) {
                Some(hint) => format!("{said}: {hint}"),
                None => said,
            }
        }
        SdkError::DispatchFailure(_) => {
            format!("cannot reach the AWS endpoint ({})", innermost(err))
        }
        SdkError::TimeoutError(_) => "timed out waiting for AWS".to_owned(),
        _ => DisplayErrorContext(err).to_string(),
    }
}

/// AWS said the thing does not exist: HTTP 404, or a not-found code (CloudWatch Logs answers
/// 400 with ResourceNotFoundException).
pub fn is_not_found<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::ServiceError(service) => {
            service.raw().status().as_u16() == 404
                || matches!(
                    service.err().code(),
                    // Budgets answers NotFoundException with HTTP 400.
                    Some(
                        "ResourceNotFoundException"
                            | "NoSuchEntity"
                            | "NotFound"
                            | "NotFoundException"
                    )
                )
        }
        _ => false,
    }
}

/// The error code of a service error, if any.
pub fn error_code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

pub trait SdkResultExt<T> {
    /// The error as "what: reason", on one line.
    fn or_fail(self, what: impl FnOnce() -> String) -> anyhow::Result<T>;
    /// `Ok(None)` when AWS says it does not exist; other errors as in `or_fail`.
    fn or_absent(self, what: impl FnOnce() -> String) -> anyhow::Result<Option<T>>;
    /// `Ok(None)` when AWS answers with one of `codes` (e.g. "it already exists": a create
    /// whose first answer was lost and that the SDK retried); other errors as in `or_fail`.
    fn or_code(self, codes: &[&str], what: impl FnOnce() -> String) -> anyhow::Result<Option<T>>;
}

impl<T, E> SdkResultExt<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    fn or_fail(self, what: impl FnOnce() -> String) -> anyhow::Result<T> {
        self.map_err(|e| anyhow!("{}: {}", what(), reason(&e)))
    }

    fn or_absent(self, what: impl FnOnce() -> String) -> anyhow::Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(anyhow!("{}: {}", what(), reason(&e))),
        }
    }

    fn or_code(self, codes: &[&str], what: impl FnOnce() -> String) -> anyhow::Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if error_code(&e).is_some_and(|c| codes.contains(&c)) => Ok(None),
            Err(e) => Err(anyhow!("{}: {}", what(), reason(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    const SHORT: Settling = Settling::up_to(Duration::from_millis(1500), Duration::from_secs(1));

    #[test]
    fn scp_denials_and_expired_sessions_say_what_to_do() {
        let scp = "User: arn:aws:sts::1:assumed-role/voclabs/u is not authorized to perform: s3:CreateBucket with an explicit deny in a service control policy";
        assert!(hint(Some("AccessDenied"), Some(scp))
            .unwrap()
            .contains("--region"));
        assert_eq!(hint(Some("AccessDenied"), Some("Access Denied")), None);
        let expired = "The security token included in the request is expired";
        assert!(hint(Some("ExpiredToken"), Some(expired))
            .unwrap()
            .contains("AWS Academy"));
        assert!(hint(Some("UnrecognizedClientException"), Some(expired)).is_some());
        assert_eq!(hint(Some("NoSuchBucket"), None), None);
    }

    async fn run(results: &[Result<u8, &'static str>]) -> (Result<u8, &'static str>, u32, u32) {
        let (calls, waits) = (Cell::new(0), Cell::new(0));
        let result = retry_while_settling(
            SHORT,
            |e: &&str| *e == "not yet",
            |_, _| waits.set(waits.get() + 1),
            || {
                let i = calls.get();
                calls.set(i + 1);
                let r = results[(i as usize).min(results.len() - 1)];
                async move { r }
            },
        )
        .await;
        (result, calls.get(), waits.get())
    }

    #[tokio::test]
    async fn settling_errors_are_retried_until_success() {
        assert_eq!(run(&[Err("not yet"), Ok(7)]).await, (Ok(7), 2, 1));
    }

    #[tokio::test]
    async fn other_errors_are_returned_at_once() {
        assert_eq!(run(&[Err("denied"), Ok(7)]).await, (Err("denied"), 1, 0));
    }

    #[tokio::test]
    async fn retrying_stops_at_the_limit() {
        // Waits 1 s, then a second wait of 1 s would pass the 1.5 s limit.
        assert_eq!(run(&[Err("not yet")]).await, (Err("not yet"), 2, 1));
    }
}
