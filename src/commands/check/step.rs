//! The checks of `catup check`, in the order a browser on the site makes their requests;
//! each names the ones it needs (a check whose need failed is skipped, naming it) and the
//! lecture's hint for a failure it does not recognise more precisely.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::commands::verification::hint::Hint;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Site,
    Cache,
    Config,
    ApiCors,
    Post,
    S3Cors,
    Put,
    Gallery,
    Image,
    Foreign,
    Thumbnail,
}

impl Step {
    pub const ALL: [Step; 11] = [
        Step::Site,
        Step::Cache,
        Step::Config,
        Step::ApiCors,
        Step::Post,
        Step::S3Cors,
        Step::Put,
        Step::Gallery,
        Step::Image,
        Step::Foreign,
        Step::Thumbnail,
    ];

    /// The column of the class table and the CSV, and the JSON `id`.
    pub fn id(self) -> &'static str {
        match self {
            Step::Site => "site",
            Step::Cache => "cache",
            Step::Config => "config",
            Step::ApiCors => "api-cors",
            Step::Post => "post",
            Step::S3Cors => "s3-cors",
            Step::Put => "put",
            Step::Gallery => "gallery",
            Step::Image => "image",
            Step::Foreign => "foreign",
            Step::Thumbnail => "thumbnail",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Step::Site => "the site loads (page and config.js)",
            Step::Cache => "page and config.js are served no-cache",
            Step::Config => "config.js names an https Function URL",
            Step::ApiCors => "the Function URL's preflight allows the site",
            Step::Post => "POST returns a presigned PUT, one allow-origin",
            Step::S3Cors => "the images bucket's preflight allows the PUT",
            Step::Put => "PUT of a tiny PNG succeeds",
            Step::Gallery => "GET lists the image with a presigned URL",
            Step::Image => "the image's presigned URL loads",
            Step::Foreign => "a foreign origin is refused by both CORS",
            Step::Thumbnail => "its thumbnail appears (stacks that make them)",
        }
    }

    /// What a browser must have done first: without it, this request is never made.
    pub fn needs(self) -> &'static [Step] {
        match self {
            Step::Site => &[],
            Step::Cache | Step::Config => &[Step::Site],
            Step::ApiCors => &[Step::Config],
            Step::Post => &[Step::ApiCors],
            Step::S3Cors | Step::Foreign => &[Step::Post],
            Step::Put => &[Step::S3Cors],
            Step::Gallery => &[Step::Put],
            Step::Image | Step::Thumbnail => &[Step::Gallery],
        }
    }

    /// The lecture's hint for a failure of this check that says nothing more precise.
    pub fn usual_hint(self) -> Hint {
        match self {
            Step::Site => Hint::SiteUnreachable,
            Step::Cache => Hint::NoCache,
            Step::Config => Hint::NoApiUrl,
            Step::ApiCors => Hint::NoFunctionCors,
            Step::Post | Step::Gallery => Hint::FunctionFailed,
            Step::S3Cors => Hint::BucketCors,
            Step::Put | Step::Image => Hint::RolePermissions,
            Step::Foreign => Hint::AnyOrigin,
            Step::Thumbnail => Hint::Thumbnail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_needs_only_checks_before_it() {
        for (at, step) in Step::ALL.iter().enumerate() {
            for need in step.needs() {
                let need_at = Step::ALL.iter().position(|s| s == need).unwrap();
                assert!(need_at < at, "{step:?} needs {need:?}, which comes later");
            }
        }
    }
}

/// A site to check: the URL handed in, and who handed it in.
#[derive(Debug, Clone)]
pub struct Entry {
    pub student: Option<String>,
    pub url: String,
}

/// How long a site may still take, and which limit says so.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub after: Duration,
    /// The run's `--timeout` comes first, not the site's `--deadline`.
    pub run_ends: bool,
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.run_ends {
            true => f.write_str("the end of the run (--timeout)"),
            false => write!(
                f,
                "the site's deadline (--deadline {})",
                self.after.as_secs()
            ),
        }
    }
}
