//! A class at once: the sites of a class file (or the command line) checked a few at a
//! time, each within its own deadline, so that a dead or hanging site is a failed row and
//! never holds up the others.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use super::report::SiteReport;
use super::site::{self, Entry};

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

/// Checks every entry, at most `jobs` at once; the reports in the entries' order.
pub async fn check_all(entries: Vec<Entry>, jobs: usize, deadline: Duration) -> Vec<SiteReport> {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT.min(deadline))
        .connect_timeout(CONNECT_TIMEOUT.min(deadline))
        .build()
        .expect("an HTTP client with default TLS");
    let slots = Arc::new(tokio::sync::Semaphore::new(jobs));
    let total = entries.len();
    let mut running = tokio::task::JoinSet::new();
    for (at, entry) in entries.into_iter().enumerate() {
        let (http, slots) = (http.clone(), slots.clone());
        running.spawn(async move {
            let _slot = slots
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            (at, site::check(&http, entry, deadline).await)
        });
    }
    let mut reports: Vec<Option<SiteReport>> = (0..total).map(|_| None).collect();
    let mut done = 0;
    while let Some(finished) = running.join_next().await {
        let (at, report) = finished.expect("a site's check does not panic");
        done += 1;
        if total > 1 {
            crate::output::progress(format!(
                "checked {done} of {total}: {} {}/{}",
                report.student, report.score, report.total
            ));
        }
        reports[at] = Some(report);
    }
    reports.into_iter().flatten().collect()
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
