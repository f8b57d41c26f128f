//! `catup verify` against an emulator: moto runs no function and serves no S3 website
//! endpoint, so a browser's path cannot be walked there. verify says so check by check,
//! checks what the emulator does hold (the config.js deploy wrote), and passes or fails by
//! that alone. `catup dev` serves the function and the site on localhost, where every check
//! runs.

use anyhow::{ensure, Context as _};

use super::{timed, Target, BROWSER_CHECKS};
use crate::aws::SdkResultExt;
use crate::commands::Context;
use crate::output::{CheckResult, VerifyReport};

const CONFIG_JS_STORED: &str = "config.js in the site bucket holds the URL";

/// The emulator's endpoint, when catup talks to one and a URL to verify is on AWS's public
/// hosts, which no emulator serves (URLs on this machine, as `catup dev` gives, are checked).
pub fn serving_nothing(ctx: &Context, target: &Target) -> Option<String> {
    let endpoint = ctx.aws.endpoint_url.clone()?;
    let here = |url: &str| {
        let host = url
            .parse::<http::Uri>()
            .ok()
            .and_then(|u| u.host().map(str::to_owned));
        host.is_some_and(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]")
    };
    (!here(&target.function_url) || !here(&target.website_url)).then_some(endpoint)
}

pub async fn verify(ctx: &Context, target: &Target, endpoint: &str) -> VerifyReport {
    let mut checks = Vec::new();
    let stored = config_js_stored(ctx, &target.function_url);
    let passed = timed(&mut checks, CONFIG_JS_STORED, stored).await.is_ok();
    let why = format!(
        "skipped: the emulator at {endpoint} runs no function and serves no S3 website endpoint; \
         `catup dev` serves both on localhost (run it, then the verify command it prints)"
    );
    checks.extend(BROWSER_CHECKS.iter().map(|name| CheckResult {
        name,
        passed: false,
        skipped: true,
        millis: 0,
        detail: why.clone(),
    }));
    VerifyReport {
        function_url: target.function_url.clone(),
        website_url: target.website_url.clone(),
        passed,
        checks,
    }
}

/// The config.js deploy uploaded names the Function URL (read through the emulator's S3).
async fn config_js_stored(ctx: &Context, function_url: &str) -> anyhow::Result<((), String)> {
    let bucket = &ctx.stack.site_bucket;
    let object = ctx
        .aws
        .s3
        .get_object()
        .bucket(bucket)
        .key("config.js")
        .send()
        .await;
    let object = object.or_fail(|| format!("read {bucket}/config.js"))?;
    let body = object
        .body
        .collect()
        .await
        .context("read config.js")?
        .into_bytes();
    let text = String::from_utf8_lossy(&body);
    let quoted = serde_json::Value::from(function_url).to_string();
    ensure!(
        text.contains(&quoted),
        "config.js does not hold {quoted}: {}",
        text.trim()
    );
    Ok(((), format!("s3://{bucket}/config.js")))
}
