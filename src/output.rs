//! What commands print: progress on stderr as it happens, and one report at the end on stdout,
//! as text or as one JSON object (`--json`). Every report is both Serialize and Display.

use std::fmt;
use std::io::Write;

use serde::Serialize;

use crate::reconcile::LineState;

pub use crate::reporter::{Reporter, ResourceLine};

/// The command line that runs `subcommand` on `stack`, runnable as printed.
pub fn command_for(stack: &str, subcommand: &str) -> String {
    if stack == crate::stack::DEFAULT_STACK {
        format!("catup {subcommand}")
    } else {
        format!("catup --stack {stack} {subcommand}")
    }
}

pub use crate::console::{count, human_bytes, progress, say};

/// Stdout was closed before the report was written (`catup status | head -1`): the reader has
/// what it wanted, and the command ends quietly.
#[derive(Debug, thiserror::Error)]
#[error("stdout was closed")]
pub struct StdoutClosed;

/// Prints a report: JSON on stdout, or its text form.
pub fn emit<T: Serialize + fmt::Display>(report: &T, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let written = if json {
        serde_json::to_writer_pretty(&mut out, report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        write!(out, "{report}")
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        written => Ok(written?),
    }
}

#[derive(Debug, Serialize)]
pub struct DeployReport {
    pub stack: String,
    pub region: String,
    pub website_url: String,
    pub function_url: String,
    pub site_bucket: String,
    pub images_bucket: String,
    pub function_name: String,
    pub changed: bool,
    pub resources: Vec<ResourceLine>,
    /// With `deploy --verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerifyReport>,
}

impl fmt::Display for DeployReport {
    /// The resource lines were printed as they finished; this is the summary after them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        writeln!(f, "Website URL:  {}", self.website_url)?;
        writeln!(f, "Function URL: {}", self.function_url)?;
        if let Some(verification) = &self.verification {
            writeln!(f)?;
            write!(f, "{verification}")?;
        }
        Ok(())
    }
}

/// The images a stack's images bucket holds (under `images/`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Images {
    pub count: u64,
    pub bytes: u64,
    /// The newest image's time (RFC 3339), if there is one.
    pub last_upload: Option<String>,
    pub uploads_last_30_days: u64,
}

impl fmt::Display for Images {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = usize::try_from(self.count).unwrap_or(usize::MAX);
        write!(
            f,
            "{} ({})",
            count(n, "image", "images"),
            human_bytes(self.bytes)
        )?;
        if let Some(last) = &self.last_upload {
            write!(f, ", last upload {last}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub stack: String,
    pub region: String,
    /// Every resource exists.
    pub deployed: bool,
    /// Deployed and nothing drifted.
    pub in_sync: bool,
    pub function_url: Option<String>,
    pub website_url: String,
    pub site_bucket: String,
    pub images_bucket: String,
    pub function_name: String,
    /// `None` with `--role-arn` (the role is not this stack's).
    pub role_name: Option<String>,
    /// Days after which uploads are deleted (`deploy --keep-days`), if capped.
    pub keep_days: Option<i32>,
    /// The most images the gallery takes (`deploy --max-images`), if capped.
    pub max_images: Option<u32>,
    /// The function's reserved concurrency (`deploy --concurrency`), if any.
    pub reserved_concurrency: Option<i32>,
    pub resources: Vec<ResourceLine>,
    /// `None` while the images bucket does not exist.
    pub images: Option<Images>,
    /// The estimated monthly cost in USD (`crate::pricing`: storage, and requests at the
    /// last 30 days' uploads).
    pub monthly_usd: f64,
    /// The other regions holding something of this stack, when this one holds nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub found_in_regions: Vec<String>,
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The Function URL first: what a user came for (scripts read `--json`).
        match &self.function_url {
            Some(url) => writeln!(f, "Function URL: {url}")?,
            None => writeln!(
                f,
                "no Function URL: stack '{}' is not deployed (run `{}`)",
                self.stack,
                command_for(&self.stack, "deploy")
            )?,
        }
        writeln!(f, "Website URL:  {}", self.website_url)?;
        writeln!(f, "Stack:        {} ({})", self.stack, self.region)?;
        if let Some(days) = self.keep_days {
            writeln!(
                f,
                "Uploads kept: {}",
                crate::console::count(days as usize, "day", "days")
            )?;
        }
        if let Some(max) = self.max_images {
            writeln!(f, "Images at most: {max}")?;
        }
        if let Some(reserved) = self.reserved_concurrency {
            writeln!(
                f,
                "Concurrency:  {reserved} reserved (at most {reserved} run at once)"
            )?;
        }
        if let Some(images) = &self.images {
            writeln!(f, "Images:       {images}")?;
        }
        writeln!(
            f,
            "Est. cost:    {} a month (AWS prices of {})",
            crate::pricing::dollars(self.monthly_usd),
            crate::pricing::PRICES_AS_OF
        )?;
        for line in &self.resources {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Serialize)]
pub struct TeardownReport {
    pub stack: String,
    pub region: String,
    /// False when there was nothing to delete.
    pub deleted_anything: bool,
    pub resources: Vec<ResourceLine>,
    /// What teardown did not touch though something pointed at it, and why.
    pub left_alone: Vec<String>,
}

impl fmt::Display for TeardownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for left in &self.left_alone {
            writeln!(f, "left alone: {left}")?;
        }
        if self.deleted_anything {
            writeln!(f, "stack '{}' removed from {}", self.stack, self.region)
        } else {
            writeln!(
                f,
                "nothing to do: stack '{}' has no resources in {}",
                self.stack, self.region
            )
        }
    }
}

/// `teardown --all`: each stack's teardown, and the stacks whose teardown failed.
#[derive(Debug, Serialize)]
pub struct TeardownAllReport {
    pub stacks: Vec<TeardownReport>,
    /// "<stack> in <region>: <error>".
    pub failed: Vec<String>,
}

impl fmt::Display for TeardownAllReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stacks.is_empty() && self.failed.is_empty() {
            return writeln!(f, "nothing to do: no catup stack in this account");
        }
        for report in &self.stacks {
            write!(f, "{report}")?;
        }
        for failed in &self.failed {
            writeln!(f, "not torn down: {failed}")?;
        }
        Ok(())
    }
}

/// What deploy would do (`catup plan`).
#[derive(Debug, Serialize)]
pub struct PlanReport {
    pub stack: String,
    pub region: String,
    /// Deploy would create or update something.
    pub changes: bool,
    pub resources: Vec<crate::deploy_plan::PlanRow>,
    /// The site's objects deploy would upload and delete.
    pub site_files: crate::deploy_plan::SiteSync,
    /// Why deploy would refuse to start, if it would.
    pub refusal: Option<String>,
}

impl fmt::Display for PlanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Stack {} ({}): deploy would", self.stack, self.region)?;
        for row in &self.resources {
            let line = ResourceLine {
                kind: row.kind,
                name: row.name.clone(),
                state: row.action.line_state(),
                detail: row.action.short_detail(),
            };
            writeln!(f, "{line}")?;
        }
        let sync = &self.site_files;
        if !sync.upload.is_empty() {
            writeln!(f, "upload:   {}", sync.upload.join(" "))?;
        }
        if !sync.delete.is_empty() {
            writeln!(f, "delete:   {}", sync.delete.join(" "))?;
        }
        let count = |state: LineState| {
            self.resources
                .iter()
                .filter(|r| r.action.line_state() == state)
                .count()
        };
        match self.changes {
            true => writeln!(
                f,
                "Plan: {} to create, {} to update, {} unchanged.",
                count(LineState::Create),
                count(LineState::Update),
                count(LineState::Unchanged)
            ),
            false => writeln!(f, "No changes: the stack is up to date."),
        }
    }
}

/// One check of `catup verify`.
#[derive(Debug, Serialize)]
pub struct CheckResult {
    pub name: &'static str,
    pub passed: bool,
    /// Not run: what it needs is not there (an emulator serves no Function URL); `detail`
    /// says why. A skipped check neither passes nor fails the report.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    pub millis: u128,
    pub detail: String,
}

/// What `catup verify` found (also part of `deploy --verify`'s report).
#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub function_url: String,
    pub website_url: String,
    pub passed: bool,
    pub checks: Vec<CheckResult>,
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let mark = match (c.skipped, c.passed) {
                (true, _) => "skip",
                (false, true) => "pass",
                (false, false) => "FAIL",
            };
            writeln!(
                f,
                "  {mark}  {:<40} {:>6} ms  {}",
                c.name, c.millis, c.detail
            )?;
        }
        let verdict = if self.passed {
            "verified"
        } else {
            "verification FAILED"
        };
        let skipped = self.checks.iter().filter(|c| c.skipped).count();
        let run = count(self.checks.len() - skipped, "check", "checks");
        match skipped {
            0 => writeln!(f, "{verdict}: {} ({run})", self.function_url),
            n => writeln!(f, "{verdict}: {} ({run}, {n} skipped)", self.function_url),
        }
    }
}

/// `teardown --dry-run`: what teardown would do to each resource; nothing was deleted.
#[derive(Debug, Serialize)]
pub struct TeardownPlanReport {
    pub stack: String,
    pub region: String,
    /// Teardown would delete something and refuse nothing.
    pub would_delete: bool,
    /// The error teardown would stop with before deleting anything, if it would refuse.
    pub refusal: Option<String>,
    /// Per resource: delete / absent / refused (detail: why) / external.
    pub resources: Vec<ResourceLine>,
    /// What teardown would not touch though something points at it, and why.
    pub left_alone: Vec<String>,
}

impl fmt::Display for TeardownPlanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "teardown --dry-run of stack '{}' in {} (nothing was deleted):",
            self.stack, self.region
        )?;
        for line in &self.resources {
            writeln!(f, "{line}")?;
        }
        for left in &self.left_alone {
            writeln!(f, "left alone: {left}")?;
        }
        match (&self.refusal, self.would_delete) {
            (Some(_), _) => writeln!(f, "teardown would refuse and delete nothing"),
            (None, true) => writeln!(f, "teardown would delete the resources marked delete"),
            (None, false) => writeln!(f, "nothing to do: the stack has no resources here"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::{Kind, Outcome, State};

    #[test]
    fn resource_lines_read_as_sentences() {
        let line = ResourceLine::from_outcome(
            Kind::ImagesBucket,
            "b",
            &Outcome::Updated(vec![crate::reconcile::AnyAspect::new(
                crate::resources::images_bucket::Aspect::Cors,
            )]),
        );
        assert_eq!(line.to_string(), "  updated  images bucket b (cors)");
        let line = ResourceLine::from_state(Kind::Function, "f", &State::Ok);
        assert_eq!(line.to_string(), "       ok  function      f");
        let json = serde_json::to_value(&line).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "function", "name": "f", "state": "ok", "detail": null})
        );
    }

    #[test]
    fn status_puts_the_function_url_first_with_its_label() {
        let report = StatusReport {
            stack: "s".into(),
            region: "us-east-1".into(),
            deployed: true,
            in_sync: true,
            function_url: Some("https://u.lambda-url.us-east-1.on.aws/".into()),
            website_url: "http://w/".into(),
            site_bucket: "sb".into(),
            images_bucket: "ib".into(),
            function_name: "s-api".into(),
            role_name: Some("s-api-role".into()),
            keep_days: Some(7),
            max_images: Some(100),
            reserved_concurrency: Some(5),
            resources: vec![],
            images: None,
            monthly_usd: 0.0,
            found_in_regions: vec![],
        };
        let text = report.to_string();
        assert_eq!(
            text.lines().next(),
            Some("Function URL: https://u.lambda-url.us-east-1.on.aws/")
        );
        assert!(text.contains("Uploads kept: 7 days"), "{text}");
        assert!(text.contains("Images at most: 100"), "{text}");
        assert!(text.contains("Concurrency:  5 reserved"), "{text}");
    }

    #[test]
    fn one_check_is_one_check() {
        let report = |n: usize| VerifyReport {
            function_url: "u".into(),
            website_url: "w".into(),
            passed: true,
            checks: (0..n)
                .map(|_| CheckResult {
                    name: "c",
                    passed: true,
                    skipped: false,
                    millis: 1,
                    detail: String::new(),
                })
                .collect(),
        };
        assert!(report(1).to_string().ends_with("verified: u (1 check)\n"));
        assert!(report(7).to_string().ends_with("verified: u (7 checks)\n"));
    }
}
