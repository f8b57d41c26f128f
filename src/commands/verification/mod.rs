//! Verifying a deployed stack (`catup verify`, `deploy --verify`; `catup check` shares the
//! checker and its hints): proves it works end to end, the way a browser uses it:
//! upload through a presigned URL (after the same CORS preflight a browser sends to S3), find
//! the image in the gallery, read it back, and check the CORS answers and config.js. Every
//! check prints pass/fail and its time. Right after a deploy AWS may still answer 403, 404 or
//! 5xx (CORS and website objects for seconds, the role's policy for up to minutes): every
//! check is retried on those, within a bound, with a progress line.

use std::future::Future;
use std::time::{Duration, Instant};

pub(crate) mod checker;
mod emulator;
pub(crate) mod hint;
use checker::{test_png, Checker, Listed, NotYet};

use super::Context;
use crate::aws::{retry_while_settling, seconds, SdkResultExt, Settling};
use crate::output::{CheckResult, VerifyReport};

const TIMEOUT: Duration = Duration::from_secs(30);
/// How long a check answered 403, 404 or 5xx is retried: what a fresh deploy needs to settle.
const FRESH_DEPLOY: Settling = Settling::up_to(Duration::from_secs(30), Duration::from_secs(4));
/// The checks that read and write images act with the function's role, whose inline policy
/// takes effect eventually: S3 answers the presigned PUT 403 and the gallery 502 meanwhile.
const ROLE_POLICY: Settling = Settling::up_to(Duration::from_secs(120), Duration::from_secs(8));
const ROLE_POLICY_WAIT: &str =
    "waiting up to 2 minutes for the function role's policy to take effect";

/// Runs `check` again while it answers `NotYet`, within [`FRESH_DEPLOY`].
async fn settled<T, Fut>(ctx: &Context, name: &str, check: impl FnMut() -> Fut) -> anyhow::Result<T>
where
    Fut: Future<Output = anyhow::Result<T>>,
{
    settled_within(ctx, name, FRESH_DEPLOY, None, check).await
}

/// Runs `check` again while it answers `NotYet`, within [`ROLE_POLICY`].
async fn role_settled<T, Fut>(
    ctx: &Context,
    name: &str,
    check: impl FnMut() -> Fut,
) -> anyhow::Result<T>
where
    Fut: Future<Output = anyhow::Result<T>>,
{
    settled_within(ctx, name, ROLE_POLICY, Some(ROLE_POLICY_WAIT), check).await
}

/// Runs `check` again while it answers `NotYet`, within `settling`; each wait is a progress
/// line naming the check, its last answer and, if given, what it waits for.
async fn settled_within<T, Fut>(
    ctx: &Context,
    name: &str,
    settling: Settling,
    waiting_for: Option<&str>,
    check: impl FnMut() -> Fut,
) -> anyhow::Result<T>
where
    Fut: Future<Output = anyhow::Result<T>>,
{
    let last = std::sync::Mutex::new(String::new());
    let waiting_for = waiting_for.map_or(String::new(), |w| format!("; {w}"));
    retry_while_settling(
        settling,
        |e: &anyhow::Error| match e.downcast_ref::<NotYet>() {
            Some(not_yet) => {
                *last.lock().expect("last answer") = not_yet.0.clone();
                true
            }
            None => false,
        },
        |delay, attempt| {
            ctx.reporter.note(format!(
                "verify: {name}: not yet ({}){waiting_for}, retrying in {} (attempt {attempt})",
                last.lock().expect("last answer"),
                seconds(delay)
            ))
        },
        check,
    )
    .await
}

const POST: &str = "POST returns a presigned upload";
const PREFLIGHT: &str = "S3 allows the upload's CORS preflight";
const PUT: &str = "PUT the image to the presigned URL";
const GALLERY: &str = "GET lists the new image first";
const BYTES: &str = "the image's URL returns its bytes";
const CONFIG_JS: &str = "config.js holds the Function URL";
const FOREIGN: &str = "a foreign origin's preflight is refused";
const THUMBNAIL: &str = "its thumbnail appears (stacks that make them)";
/// Every check a browser's path makes, in order.
pub const BROWSER_CHECKS: [&str; 7] = [POST, PREFLIGHT, PUT, GALLERY, BYTES, CONFIG_JS, FOREIGN];

/// Where to verify: the stack's own URLs unless given (`catup dev` serves both locally).
pub struct Target {
    pub function_url: String,
    pub website_url: String,
}

/// [`verify`], or against an emulator that serves neither URL, what can be checked there.
pub async fn verify_where_served(ctx: &Context, target: &Target) -> VerifyReport {
    match emulator::serving_nothing(ctx, target) {
        Some(endpoint) => emulator::verify(ctx, target, &endpoint).await,
        None => verify(ctx, target).await,
    }
}

/// Runs every check in order; a failed check stops the ones that need it, and the test
/// object is deleted whatever happened.
pub async fn verify(ctx: &Context, target: &Target) -> VerifyReport {
    let checker = Checker {
        http: reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .expect("an HTTP client with default TLS"),
        origin: target.website_url.trim_end_matches('/').to_owned(),
        api: target.function_url.clone(),
    };
    let png = test_png();
    let mut checks = Vec::new();
    let mut uploaded_key = None;
    let mut makes_thumbnails = false;
    let steps = async {
        let c = &checker;
        let upload = timed(
            &mut checks,
            POST,
            settled(ctx, POST, || c.post_upload(png.len())),
        )
        .await?;
        timed(
            &mut checks,
            PREFLIGHT,
            settled(ctx, PREFLIGHT, || c.upload_preflight(&upload)),
        )
        .await?;
        // Deleted whatever the PUT's outcome: an attempt that timed out may have stored it.
        uploaded_key = Some(upload.key.clone());
        let put = role_settled(ctx, PUT, || c.put(&upload, &png));
        timed(&mut checks, PUT, put).await?;
        let listed = role_settled(ctx, GALLERY, || c.gallery(&upload.key, Listed::First));
        let listing = timed(&mut checks, GALLERY, listed).await?;
        let bytes = role_settled(ctx, BYTES, || c.same_bytes(&listing.url, &png));
        timed(&mut checks, BYTES, bytes).await?;
        // A stack that makes thumbnails (its gallery says so) makes one of the test image.
        makes_thumbnails = listing.makes_thumbnails;
        if makes_thumbnails {
            timed(&mut checks, THUMBNAIL, c.thumbnail_appears(&upload.key)).await?;
        }
        let config_js = settled(ctx, CONFIG_JS, || c.config_js(&target.website_url));
        timed(&mut checks, CONFIG_JS, config_js).await?;
        timed(&mut checks, FOREIGN, c.foreign_preflight()).await?;
        anyhow::Ok(())
    };
    let steps_passed = steps.await.is_ok();
    let cleaned = match uploaded_key {
        Some(key) => delete_test_object(ctx, &mut checks, &key, makes_thumbnails).await,
        None => true,
    };
    VerifyReport {
        function_url: target.function_url.clone(),
        website_url: target.website_url.clone(),
        passed: steps_passed && cleaned,
        checks,
    }
}

/// Deletes the test object with the caller's credentials (a check of its own); whether it
/// was.
async fn delete_test_object(
    ctx: &Context,
    checks: &mut Vec<CheckResult>,
    key: &str,
    with_thumbnail: bool,
) -> bool {
    let bucket = &ctx.stack.images_bucket;
    let thumbnail = cat_upload_fn::keys::thumbnail_key(key);
    let keys: Vec<&str> = std::iter::once(key)
        .chain(thumbnail.as_deref().filter(|_| with_thumbnail))
        .collect();
    let delete = async {
        for key in &keys {
            ctx.aws
                .s3
                .delete_object()
                .bucket(bucket)
                .key(*key)
                .send()
                .await
                .or_fail(|| format!("delete {bucket}/{key}"))?;
        }
        Ok(((), format!("{bucket}/{}", keys.join(" and "))))
    };
    timed(checks, "delete the test object", delete)
        .await
        .is_ok()
}

/// Times one check and records it; the value goes on to the checks that need it.
pub(super) async fn timed<T>(
    checks: &mut Vec<CheckResult>,
    name: &'static str,
    check: impl Future<Output = anyhow::Result<(T, String)>>,
) -> anyhow::Result<T> {
    let started = Instant::now();
    let result = check.await;
    let millis = started.elapsed().as_millis();
    let (passed, detail) = match &result {
        Ok((_, detail)) => (true, detail.clone()),
        Err(e) => (false, format!("{e:#}")),
    };
    checks.push(CheckResult {
        name,
        passed,
        skipped: false,
        millis,
        detail,
    });
    result.map(|(value, _)| value)
}
