//! From the standard AWS chain (flags, environment, ~/.aws files) to one `SdkConfig`, with
//! one-line errors that say what to do: the endpoint, the profile, the region and the
//! credentials are each checked here, before any AWS call.

use std::borrow::Cow;
use std::time::Duration;

use anyhow::bail;
use aws_config::profile::{ProfileFileCredentialsProvider, ProfileSet};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_runtime::env_config::file::EnvConfigFiles as ProfileFiles;
use aws_types::os_shim_internal::{Env, Fs};

use crate::region::Region;

/// Where the AWS configuration comes from, beyond the standard chain.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// One attempt of an ordinary call: AWS answers these within a second or two, so a call
/// silent this long is a hung connection, retried (five attempts at most) instead of waited on.
pub const CALL_ATTEMPT: Duration = Duration::from_secs(20);

/// A credential_process or SSO refresh that hangs must not hang catup.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(15);
/// A loopback emulator accepts at once; a real endpoint within a few round trips.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

const CREDENTIALS_HOW: &str =
    "run `aws configure` (access keys) or `aws sso login`, set AWS_PROFILE, or pass --profile";
const ENDPOINT_HOW: &str =
    "start moto_server (or use `catup dev`), or fix --endpoint-url / AWS_ENDPOINT_URL";

/// Loads and checks the configuration. Makes no AWS call (the endpoint, when one is set, gets
/// a TCP connect so that a stopped emulator is reported at once, by its URL).
pub async fn load(options: &ConnectOptions) -> anyhow::Result<(SdkConfig, Region)> {
    let profiles = if let Some(profile) = &options.profile {
        let profiles = read_profiles(Some(profile)).await?;
        if profiles.get_profile(profile).is_none() {
            bail!(
                "AWS profile '{profile}' is not in ~/.aws/config or ~/.aws/credentials: \
                 run `aws configure --profile {profile}`{}",
                known_profiles(&profiles)
            );
        }
        Some(profiles)
    } else {
        None
    };
    let config = load_config(options).await;
    let config = without_empty_endpoint(config);
    if let Some(url) = config.endpoint_url() {
        check_endpoint_url(url)?;
    }
    let region = match config.region() {
        Some(region) => Region::parse(region.as_ref())?,
        None => {
            // A config file that does not parse is read as "no region" by the chain.
            read_profiles(options.profile.as_deref()).await?;
            bail!("no AWS region: pass --region, set AWS_REGION, or add a region to your profile (aws configure)")
        }
    };
    if let Some(url) = config.endpoint_url() {
        probe_endpoint(url).await?;
    }
    check_credentials(&config, options, profiles).await?;
    Ok((config, region))
}

async fn load_config(options: &ConnectOptions) -> SdkConfig {
    // Five attempts: at a 10% fault rate one call in 100,000 still fails (four: 1 in 10,000,
    // too often for a deploy of ~35 calls run many times). Uploads size their own attempts
    // (`aws::upload_timeouts`).
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(5))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(CALL_ATTEMPT)
                .build(),
        );
    if let Some(profile) = &options.profile {
        // The flag wins over credentials in the environment, as with the AWS CLI: a shell
        // holding one account's keys must not act on it when another profile is named.
        loader = loader.profile_name(profile).credentials_provider(
            ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .build(),
        );
    }
    if let Some(region) = &options.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(url) = options
        .endpoint_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// `AWS_ENDPOINT_URL=` (empty) means unset, as in a shell that clears it; the SDK would panic.
fn without_empty_endpoint(config: SdkConfig) -> SdkConfig {
    match config.endpoint_url() {
        Some(url) if url.trim().is_empty() => {
            let mut builder = config.into_builder();
            builder.set_endpoint_url(None);
            builder.build()
        }
        _ => config,
    }
}

/// Only http(s) URLs with a host: anything else is a typo that no retry will fix.
pub fn check_endpoint_url(url: &str) -> anyhow::Result<()> {
    let valid = url.parse::<http::Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.host().is_some_and(|h| !h.is_empty())
    });
    if !valid {
        bail!(
            "invalid AWS endpoint URL '{url}' (from --endpoint-url or AWS_ENDPOINT_URL): \
             use http://host:port (an emulator) or https://host"
        );
    }
    Ok(())
}

/// One TCP connect to the endpoint: a refused connection fails in milliseconds, naming the
/// URL, instead of after the SDK's five attempts.
pub async fn probe_endpoint(url: &str) -> anyhow::Result<()> {
    let uri: http::Uri = url.parse()?;
    let host = uri
        .host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect((host, port))).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => bail!("cannot reach the AWS endpoint {url} ({e}): {ENDPOINT_HOW}"),
        Err(_) => bail!(
            "cannot reach the AWS endpoint {url} (no connection within {} s): {ENDPOINT_HOW}",
            PROBE_TIMEOUT.as_secs()
        ),
    }
}

async fn check_credentials(
    config: &SdkConfig,
    options: &ConnectOptions,
    profiles: Option<ProfileSet>,
) -> anyhow::Result<()> {
    let Some(provider) = config.credentials_provider() else {
        bail!("no AWS credentials: {CREDENTIALS_HOW}");
    };
    let error = match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials())
        .await
    {
        Ok(Ok(_)) => return Ok(()),
        Ok(Err(e)) => {
            // The chain's dump of every provider it tried: for -v, not for the one line.
            tracing::info!(error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "credentials chain");
            None
        }
        Err(_) => Some(format!(
            "loading AWS credentials took over {} s (a credential_process or SSO refresh that hangs?)",
            CREDENTIALS_TIMEOUT.as_secs()
        )),
    };
    let profiles = match profiles {
        Some(profiles) => profiles,
        None => read_profiles(options.profile.as_deref()).await?,
    };
    let selected = profiles.selected_profile().to_owned();
    let profile = profiles.get_profile(&selected);
    let uses_sso =
        profile.is_some_and(|p| p.get("sso_session").or(p.get("sso_start_url")).is_some());
    match (error, uses_sso) {
        (_, true) => bail!(
            "the AWS SSO session of profile '{selected}' is not logged in or has expired: run `aws sso login --profile {selected}`"
        ),
        (Some(hang), false) => bail!("{hang}: check profile '{selected}' in ~/.aws/config"),
        (None, false) if profile.is_some() => bail!(
            "no AWS credentials in profile '{selected}': run `aws configure --profile {selected}` or `aws sso login --profile {selected}`"
        ),
        (None, false) => bail!("no AWS credentials found: {CREDENTIALS_HOW}"),
    }
}

/// The profiles in ~/.aws/config and ~/.aws/credentials (or AWS_CONFIG_FILE /
/// AWS_SHARED_CREDENTIALS_FILE); a file that does not parse is an error naming it.
async fn read_profiles(selected: Option<&str>) -> anyhow::Result<ProfileSet> {
    let selected = selected.map(|s| Cow::Owned(s.to_owned()));
    aws_config::profile::load(&Fs::real(), &Env::real(), &ProfileFiles::default(), selected)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the AWS config files: {e}: fix the file (or move it away and run `aws configure`)"))
}

fn known_profiles(profiles: &ProfileSet) -> String {
    let mut names: Vec<&str> = profiles.profiles().collect();
    names.sort_unstable();
    if names.is_empty() {
        String::new()
    } else {
        format!(" or use one of: {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_must_be_http_with_a_host() {
        for good in [
            "http://127.0.0.1:5055",
            "https://s3.example.com",
            "http://localhost",
        ] {
            assert!(check_endpoint_url(good).is_ok(), "{good}");
        }
        for bad in [
            "ftp://127.0.0.1:21",
            "127.0.0.1:5055",
            "http://",
            "localhost",
            "file:///x",
        ] {
            let error = check_endpoint_url(bad).unwrap_err().to_string();
            assert!(error.contains("invalid AWS endpoint URL"), "{bad}: {error}");
        }
    }

    #[test]
    fn an_empty_endpoint_is_unset() {
        let config = SdkConfig::builder().endpoint_url("").build();
        assert_eq!(without_empty_endpoint(config).endpoint_url(), None);
        let config = SdkConfig::builder().endpoint_url("http://x").build();
        assert_eq!(
            without_empty_endpoint(config).endpoint_url(),
            Some("http://x")
        );
    }

    #[tokio::test]
    async fn a_refused_endpoint_is_named_at_once() {
        // Bind then drop: the port is free and nothing listens on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let started = std::time::Instant::now();
        let error = probe_endpoint(&url).await.unwrap_err().to_string();
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert!(
            error.contains(&url) && error.contains("start moto_server"),
            "{error}"
        );
    }
}
