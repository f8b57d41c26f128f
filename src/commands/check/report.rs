//! What `catup check` prints: for one site its checks line by line; for several a table
//! (student, each check, score) with every failure and its hint below; `--json` the same as
//! one object; `--csv` a gradebook.

use std::fmt::{self, Write as _};

use serde::Serialize;

use super::step::Step;
use super::step::{Deadline, Entry};
use crate::commands::verification::hint;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Skip,
    /// Not asked of this stack (thumbnails of a stack that makes none); not scored.
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "skip",
            Outcome::NotApplicable => "n/a",
        }
    }
}

/// One check of one site.
#[derive(Debug, Serialize)]
pub struct Line {
    #[serde(rename = "id")]
    pub step: Step,
    pub name: &'static str,
    pub result: Outcome,
    pub millis: u128,
    pub detail: String,
    /// The lecture's troubleshooting hint, for a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// For a skipped check: the failed one it needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_because: Option<Step>,
}

impl Line {
    fn of(step: Step, result: Outcome, millis: u128, detail: String) -> Line {
        Line {
            step,
            name: step.name(),
            result,
            millis,
            detail,
            hint: None,
            skipped_because: None,
        }
    }

    pub fn passed(step: Step, millis: u128, detail: String) -> Line {
        Line::of(step, Outcome::Pass, millis, detail)
    }

    /// A failure, with the hint the check recognised or else the check's usual one.
    pub fn failed(step: Step, millis: u128, error: &anyhow::Error) -> Line {
        let hint = hint::of(error).map_or_else(|| step.usual_hint(), |h| h.hint.clone());
        Line {
            hint: Some(hint.to_string()),
            ..Line::of(
                step,
                Outcome::Fail,
                millis,
                s3_error_condensed(&hint::problem(error)),
            )
        }
    }

    pub fn skipped(step: Step, because: Step) -> Line {
        let detail = format!("skipped: \"{}\" failed", because.name());
        Line {
            skipped_because: Some(because),
            ..Line::of(step, Outcome::Skip, 0, detail)
        }
    }

    /// Not run: the site's deadline passed first.
    pub fn unreached(step: Step, deadline: Deadline) -> Line {
        let detail = format!("not run: {deadline} passed");
        Line::of(step, Outcome::Skip, 0, detail)
    }

    /// A check this stack is not asked (it makes no thumbnails): `detail` says why.
    pub fn not_applicable(step: Step, detail: &str) -> Line {
        Line::of(step, Outcome::NotApplicable, 0, detail.to_owned())
    }

    /// Whether the line counts in the score: not a check the stack is not asked, nor the
    /// thumbnail of a stack not known to make any (its gallery was never read).
    fn scored(&self) -> bool {
        match self.result {
            Outcome::NotApplicable => false,
            Outcome::Skip => self.step != Step::Thumbnail,
            Outcome::Pass | Outcome::Fail => true,
        }
    }

    /// The failed check that kept the checks needing this one from running.
    pub fn blocker(&self) -> Option<Step> {
        match self.result {
            Outcome::Pass | Outcome::NotApplicable => None,
            Outcome::Fail => Some(self.step),
            Outcome::Skip => self.skipped_because.or(Some(self.step)),
        }
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = match self.result {
            Outcome::Skip | Outcome::NotApplicable => String::new(),
            _ => format!("{} ms", self.millis),
        };
        let (mark, name) = (self.result.word(), self.name);
        writeln!(f, "  {mark:<4}  {name:<48} {millis:>8}  {}", self.detail)?;
        match &self.hint {
            Some(hint) => writeln!(f, "        hint: {hint}"),
            None => Ok(()),
        }
    }
}

/// One student's site.
#[derive(Debug, Serialize)]
pub struct SiteReport {
    pub student: String,
    pub website_url: String,
    /// As its config.js names it.
    pub function_url: Option<String>,
    /// The key of the image the check uploaded (and left in the gallery), if it did.
    pub test_image: Option<String>,
    pub score: usize,
    pub total: usize,
    pub checks: Vec<Line>,
}

impl SiteReport {
    pub fn new(
        entry: Entry,
        function_url: Option<String>,
        test_image: Option<String>,
        checks: Vec<Line>,
    ) -> SiteReport {
        SiteReport {
            student: entry.student.unwrap_or_else(|| entry.url.clone()),
            website_url: entry.url,
            function_url,
            test_image,
            score: checks.iter().filter(|c| c.result == Outcome::Pass).count(),
            total: checks.iter().filter(|c| c.scored()).count(),
            checks,
        }
    }

    pub fn passed(&self) -> bool {
        self.score == self.total
    }

    fn failures(&self) -> impl Iterator<Item = &Line> {
        self.checks.iter().filter(|c| c.result == Outcome::Fail)
    }

    /// What kept the site from passing: its failures, or (none ran) its first line.
    fn problems(&self) -> Vec<&Line> {
        let failures: Vec<&Line> = self.failures().collect();
        match failures.is_empty() {
            true => self
                .checks
                .iter()
                .find(|c| c.result == Outcome::Skip)
                .into_iter()
                .collect(),
            false => failures,
        }
    }
}

/// Everything checked: one site's lines, or a class's table.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub passed: bool,
    pub sites: Vec<SiteReport>,
    #[serde(skip)]
    pub table: bool,
}

impl CheckReport {
    pub fn new(sites: Vec<SiteReport>, table: bool) -> CheckReport {
        CheckReport {
            passed: sites.iter().all(SiteReport::passed),
            sites,
            table,
        }
    }

    /// The gradebook: a header, then one row per site.
    pub fn csv(&self) -> String {
        let mut header = vec!["student", "website_url", "function_url"];
        header.extend(Step::ALL.iter().map(|s| s.id()));
        header.extend(["score", "total", "test_image", "failures"]);
        let mut out = header.join(",") + "\n";
        for site in &self.sites {
            let mut row = vec![
                site.student.clone(),
                site.website_url.clone(),
                site.function_url.clone().unwrap_or_default(),
            ];
            row.extend(site.checks.iter().map(|c| c.result.word().to_lowercase()));
            row.extend([site.score.to_string(), site.total.to_string()]);
            row.push(site.test_image.clone().unwrap_or_default());
            let failures = site.failures().map(|c| {
                format!(
                    "{}: {} (hint: {})",
                    c.name,
                    c.detail,
                    c.hint.as_deref().unwrap_or("")
                )
            });
            row.push(failures.collect::<Vec<_>>().join(" | "));
            let row: Vec<String> = row.iter().map(|v| csv_field(v)).collect();
            let _ = writeln!(out, "{}", row.join(","));
        }
        out
    }

    fn lines(&self, f: &mut fmt::Formatter<'_>, site: &SiteReport) -> fmt::Result {
        match &site.function_url {
            Some(api) => writeln!(f, "check of {} (Function URL {api}):", site.website_url)?,
            None => writeln!(f, "check of {}:", site.website_url)?,
        }
        for line in &site.checks {
            write!(f, "{line}")?;
        }
        if let Some(key) = &site.test_image {
            writeln!(f, "test image left in the gallery: {key}")?;
        }
        let verdict = if site.passed() {
            "passed"
        } else {
            "check FAILED"
        };
        writeln!(f, "{verdict}: {} of {} checks", site.score, site.total)
    }

    fn table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.sites.iter().map(|s| s.student.chars().count());
        let width = width.chain([7]).max().unwrap_or(7);
        let columns = Step::ALL.map(|s| (s.id(), s.id().len().max(4)));
        write!(f, "{:<width$}", "student")?;
        for (id, w) in columns {
            write!(f, " {id:<w$}")?;
        }
        writeln!(f, " score  test image")?;
        for site in &self.sites {
            write!(f, "{:<width$}", site.student)?;
            for (line, (_, w)) in site.checks.iter().zip(columns) {
                write!(f, " {:<w$}", line.result.word())?;
            }
            let score = format!("{}/{}", site.score, site.total);
            let image = site.test_image.as_deref().unwrap_or("-");
            writeln!(f, " {score:<6} {image}")?;
        }
        for site in self.sites.iter().filter(|s| !s.passed()) {
            match site.student == site.website_url {
                true => writeln!(f, "\n{}:", site.student)?,
                false => writeln!(f, "\n{} ({}):", site.student, site.website_url)?,
            }
            for line in site.problems() {
                write!(f, "{line}")?;
            }
        }
        let passing = self.sites.iter().filter(|s| s.passed()).count();
        writeln!(
            f,
            "\n{passing} of {} sites pass every check",
            self.sites.len()
        )
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.table, self.sites.as_slice()) {
            (false, [site]) => self.lines(f, site),
            _ => self.table(f),
        }
    }
}

/// S3's XML error body in a detail as `Code: Message`, the part a teacher reads.
fn s3_error_condensed(detail: &str) -> String {
    let Some(xml_at) = detail.find("<?xml") else {
        return detail.to_owned();
    };
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = detail.find(&open)? + open.len();
        let end = detail[start..].find(&format!("</{name}>"))?;
        Some(&detail[start..start + end])
    };
    match (element("Code"), element("Message")) {
        (Some(code), Some(message)) => format!("{}{code}: {message}", &detail[..xml_at]),
        _ => detail.to_owned(),
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_errors_are_condensed_to_code_and_message() {
        let detail = "PUT answered 403 Forbidden: <?xml version=\"1.0\" encoding=\"UTF-8\"?> <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match.</Message><RequestId>1</RequestId></Error>";
        assert_eq!(
            s3_error_condensed(detail),
            "PUT answered 403 Forbidden: SignatureDoesNotMatch: The request signature we calculated does not match."
        );
        assert_eq!(
            s3_error_condensed("POST answered 502: {}"),
            "POST answered 502: {}"
        );
    }

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("Ada Lovelace"), "Ada Lovelace");
        assert_eq!(csv_field("Lovelace, Ada"), "\"Lovelace, Ada\"");
        assert_eq!(csv_field("said \"hi\""), "\"said \"\"hi\"\"\"");
    }
}
