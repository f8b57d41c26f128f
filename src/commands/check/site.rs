//! One student's site checked the way a browser uses it, within the site's deadline: each
//! check runs once what it needs has passed, and is skipped (naming the failure) otherwise.

use std::future::Future;
use std::time::Instant;

use super::page;
use super::report::{Line, SiteReport};
use super::step::{Deadline, Entry, Step};
use crate::commands::verification::checker::{test_png, Checker, Listed};
use crate::commands::verification::hint::{self, Cors, Hint};

/// The lines so far, and the check under way when the deadline passes.
struct Walk {
    lines: Vec<Line>,
    current: Option<(Step, Instant)>,
    function_url: Option<String>,
    test_image: Option<String>,
}

impl Walk {
    /// Runs `check` as `step` once its needs have passed; its value when it passes.
    async fn step<T>(
        &mut self,
        step: Step,
        check: impl Future<Output = anyhow::Result<(T, String)>>,
    ) -> Option<T> {
        if let Some(blocker) = self.blocker(step) {
            self.lines.push(Line::skipped(step, blocker));
            return None;
        }
        let started = Instant::now();
        self.current = Some((step, started));
        let result = check.await;
        self.current = None;
        let millis = started.elapsed().as_millis();
        match result {
            Ok((value, detail)) => {
                self.lines.push(Line::passed(step, millis, detail));
                Some(value)
            }
            Err(error) => {
                self.lines.push(Line::failed(step, millis, &error));
                None
            }
        }
    }

    /// The failed check that keeps `step` from running, if any (through skipped ones).
    fn blocker(&self, step: Step) -> Option<Step> {
        step.needs().iter().find_map(|need| {
            let line = self.lines.iter().find(|l| l.step == *need)?;
            line.blocker()
        })
    }

    /// The deadline passed: the check under way failed, the ones after it did not run.
    fn out_of_time(&mut self, deadline: Deadline) {
        if let Some((step, started)) = self.current.take() {
            let error = anyhow::anyhow!("no answer before {deadline}");
            self.lines
                .push(Line::failed(step, started.elapsed().as_millis(), &error));
        }
        for step in Step::ALL {
            if !self.lines.iter().any(|l| l.step == step) {
                let line = match self.blocker(step) {
                    Some(blocker) => Line::skipped(step, blocker),
                    None => Line::unreached(step, deadline),
                };
                self.lines.push(line);
            }
        }
    }
}

/// Checks `entry`'s site; whatever happens, by `deadline`, one line per check.
pub async fn check(http: &reqwest::Client, entry: Entry, deadline: Deadline) -> SiteReport {
    let mut walk = Walk {
        lines: Vec::new(),
        current: None,
        function_url: None,
        test_image: None,
    };
    let walked = match deadline.after.is_zero() {
        true => Err(()),
        false => {
            let walk_all = browse(&mut walk, http, &entry.url);
            let walked = tokio::time::timeout(deadline.after, walk_all).await;
            walked.map_err(|_| ())
        }
    };
    if walked.is_err() {
        walk.out_of_time(deadline);
    }
    SiteReport::new(entry, walk.function_url, walk.test_image, walk.lines)
}

/// A value an earlier check gave: there whenever the check that needs it runs.
fn need<T>(value: &Option<T>) -> anyhow::Result<&T> {
    value
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("a check this one needs did not pass"))
}

/// Every check, in the order a browser on the site makes its requests.
async fn browse(walk: &mut Walk, http: &reqwest::Client, url: &str) {
    let png = test_png();
    let load = async { page::load(http, &page::website(url)?).await };
    let page = walk.step(Step::Site, load).await;
    walk.step(Step::Cache, async { page::no_cache(need(&page)?) })
        .await;
    let api = walk
        .step(Step::Config, async { page::function_url(need(&page)?) })
        .await;
    walk.function_url.clone_from(&api);
    let c = &Checker {
        http: http.clone(),
        origin: page.map(|p| p.origin).unwrap_or_default(),
        api: api.unwrap_or_default(),
    };
    let api_cors = explain_cors(c, c.function_preflight(), &c.api, "POST", Cors::FunctionUrl);
    walk.step(Step::ApiCors, api_cors).await;
    let upload = walk.step(Step::Post, c.post_upload(png.len())).await;
    let upload_url = upload.as_ref().map(|u| u.url.clone()).unwrap_or_default();
    let preflight = async { c.upload_preflight(need(&upload)?).await };
    let preflight = explain_cors(c, preflight, &upload_url, "PUT", Cors::ImagesBucket);
    walk.step(Step::S3Cors, preflight).await;
    let put = async { c.put(need(&upload)?, &png).await };
    if walk
        .step(Step::Put, regionless(&upload_url, put))
        .await
        .is_some()
    {
        walk.test_image = upload.as_ref().map(|u| u.key.clone());
    }
    let listed = async { c.gallery(&need(&upload)?.key, Listed::OnFirstPage).await };
    let listing = walk.step(Step::Gallery, listed).await;
    let image_url = listing.as_ref().map(|l| l.url.clone()).unwrap_or_default();
    let bytes = regionless(&image_url, c.same_bytes(&image_url, &png));
    walk.step(Step::Image, bytes).await;
    let foreign = async {
        let function = c
            .foreign_refused(&c.api, "the Function URL", "POST")
            .await?;
        let bucket = c.foreign_refused(&need(&upload)?.url, "the images bucket", "PUT");
        let bucket = bucket.await?;
        Ok((
            (),
            format!("Function URL {function}; images bucket {bucket}"),
        ))
    };
    walk.step(Step::Foreign, foreign).await;
    match listing {
        Some(listing) if !listing.makes_thumbnails => walk.lines.push(Line::not_applicable(
            Step::Thumbnail,
            "the gallery lists no thumbnails: the stack makes none",
        )),
        _ => {
            let appears = async { c.thumbnail_appears(&need(&upload)?.key).await };
            walk.step(Step::Thumbnail, appears).await;
        }
    }
}

/// A refused preflight explained: a preflight from the origin with a trailing slash that
/// is allowed means the setting holds the origin with one; a region-less S3 URL is
/// redirected, which browsers refuse for a preflight.
async fn explain_cors<T>(
    c: &Checker,
    check: impl Future<Output = anyhow::Result<T>>,
    url: &str,
    method: &str,
    cors: Cors,
) -> anyhow::Result<T> {
    let error = match check.await {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    let precise = hint::of(&error).is_some_and(|h| h.hint != Hint::NoFunctionCors);
    let problem = || hint::problem(&error);
    if !precise
        && c.preflight_allows(url, &format!("{}/", c.origin), method)
            .await
    {
        return hint::fail(problem(), Hint::TrailingSlash(cors));
    }
    if cors == Cors::ImagesBucket && hint::regionless(url) {
        return hint::fail(problem(), Hint::RegionlessUrl);
    }
    Err(error)
}

/// A failed request to a region-less S3 URL: that is what went wrong.
async fn regionless<T>(
    url: &str,
    check: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    match check.await {
        Err(error) if hint::of(&error).is_none() && hint::regionless(url) => {
            hint::fail(hint::problem(&error), Hint::RegionlessUrl)
        }
        other => other,
    }
}
