//! A class at once: the sites of a class file (or the command line) checked a few at a
//! time, each within its own deadline, so that a dead or hanging site is a failed row and
//! never holds up the others.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::report::SiteReport;
use super::site;
use super::step::{Deadline, Entry};

/// Longest a single request may take before it counts as not answered.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The URLs given on the command line, then those of the class file.
pub fn entries(urls: &[String], class: Option<&Path>) -> anyhow::Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = urls
        .iter()
        .map(|url| Entry {
            student: None,
            url: url.clone(),
        })
        .collect();
    if let Some(path) = class {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("read the class file {}", path.display()))?;
        entries.extend(parse_class(&text));
        anyhow::ensure!(
            !entries.is_empty(),
            "the class file {} lists no website URL (one a line, optionally after the student's name)",
            path.display()
        );
    }
    Ok(entries)
}

/// One site a line: its URL last, the student's name (if any) before it; blank lines and
/// lines starting with `#` are skipped. A comma or tab may separate the two (a CSV export).
fn parse_class(text: &str) -> Vec<Entry> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (name, url) = line.rsplit_once([' ', '\t', ',']).unwrap_or(("", line));
            let name = name.trim().trim_end_matches([',', ';', ':']).trim();
            Entry {
                student: (!name.is_empty()).then(|| name.to_owned()),
                url: url.trim().to_owned(),
            }
        })
        .collect()
}

/// How many sites at once, how long each may take, and when the whole run must be done.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub jobs: usize,
    pub site: Duration,
    pub run: Option<Instant>,
}

impl Limits {
    /// A site's deadline from now: its own, or sooner when the run ends sooner.
    fn for_site(&self) -> Deadline {
        let left = self
            .run
            .map(|end| end.saturating_duration_since(Instant::now()));
        match left {
            Some(left) if left < self.site => Deadline {
                after: left,
                run_ends: true,
            },
            _ => Deadline {
                after: self.site,
                run_ends: false,
            },
        }
    }
}

/// Checks every entry, at most `jobs` at once, in the entries' order (the first ones get
/// the first slots); the reports in that order.
pub async fn check_all(entries: Vec<Entry>, limits: &Limits) -> Vec<SiteReport> {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT.min(limits.site))
        .connect_timeout(CONNECT_TIMEOUT.min(limits.site))
        .build()
        .expect("an HTTP client with default TLS");
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.jobs));
    let total = entries.len();
    let done = Arc::new(AtomicUsize::new(0));
    let mut running = Vec::with_capacity(total);
    for entry in entries {
        let slot = slots.clone().acquire_owned().await;
        let slot = slot.expect("the semaphore is never closed");
        let (http, limits, done) = (http.clone(), *limits, done.clone());
        running.push(tokio::spawn(async move {
            let report = site::check(&http, entry, limits.for_site()).await;
            drop(slot);
            let done = done.fetch_add(1, Ordering::SeqCst) + 1;
            if total > 1 {
                let (student, score) = (&report.student, report.score);
                let line = format!(
                    "checked {done} of {total}: {student} {score}/{}",
                    report.total
                );
                crate::output::progress(line);
            }
            report
        }));
    }
    let mut reports = Vec::with_capacity(total);
    for site in running {
        reports.push(site.await.expect("a site's check does not panic"));
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_line_is_a_url_after_an_optional_name() {
        let text = "# class of 2026\n\
            Ada Lovelace http://a.s3-website-us-east-1.amazonaws.com\n\
            \n\
            http://b.example/\n\
            Grace Hopper,https://c.example/index.html\n\
            Alan\tbucket-d.s3-website.eu-west-3.amazonaws.com\n";
        let parsed: Vec<(Option<String>, String)> = parse_class(text)
            .into_iter()
            .map(|e| (e.student, e.url))
            .collect();
        let expected = [
            (
                Some("Ada Lovelace"),
                "http://a.s3-website-us-east-1.amazonaws.com",
            ),
            (None, "http://b.example/"),
            (Some("Grace Hopper"), "https://c.example/index.html"),
            (Some("Alan"), "bucket-d.s3-website.eu-west-3.amazonaws.com"),
        ];
        let expected: Vec<(Option<String>, String)> = expected
            .iter()
            .map(|(n, u)| (n.map(str::to_owned), (*u).to_owned()))
            .collect();
        assert_eq!(parsed, expected);
    }
}
