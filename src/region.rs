//! AWS regions, and the S3 website endpoint style of each.
//!
//! A region is accepted when it matches the `aws` partition's region pattern, so that regions
//! launched after this build work too. The website origin goes into two CORS configurations,
//! so it must be exactly what S3 serves: the eight oldest regions use `s3-website-<region>`,
//! every later one (and every one to come) `s3-website.<region>` (AWS's "Website endpoints"
//! table in the S3 user guide).

use thiserror::Error;

/// The first part of every region name of the standard `aws` partition (the policies in
/// `policies/` use `arn:aws:`): AWS's own pattern for it is `^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$`.
const AWS_PARTITION_PREFIXES: &[&str] = &["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"];

/// Regions whose website endpoint is `s3-website-<region>` (with a dash).
const DASH_WEBSITE: &[&str] = &[
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "eu-west-1",
    "sa-east-1",
];

/// The `aws` partition's regions as of 2026-12 (botocore's endpoint data), each of which
/// `catup list` and the commands that look for a stack elsewhere read: a region launched
/// later is deployed to with --region, and read once it is added here.
pub const KNOWN: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RegionError {
    #[error(
        "unknown AWS region '{0}': use one like us-east-1 or eu-west-1 (--region or AWS_REGION)"
    )]
    Unknown(String),
}

impl Region {
    pub fn parse(name: &str) -> Result<Region, RegionError> {
        if matches_aws_pattern(name) {
            Ok(Region(name.to_owned()))
        } else {
            Err(RegionError::Unknown(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Every known region, and `current` too when it is newer than this build.
    pub fn all_with(current: &Region) -> Vec<Region> {
        let mut all: Vec<Region> = KNOWN.iter().map(|r| Region((*r).to_owned())).collect();
        if !all.contains(current) {
            all.push(current.clone());
        }
        all
    }

    /// The S3 website endpoint host of a bucket in this region.
    pub fn website_host(&self, bucket: &str) -> String {
        let region = &self.0;
        if DASH_WEBSITE.contains(&region.as_str()) {
            format!("{bucket}.s3-website-{region}.amazonaws.com")
        } else {
            format!("{bucket}.s3-website.{region}.amazonaws.com")
        }
    }
}

/// `<prefix>-<letters>-<digits>`, e.g. `eu-central-2`; not `us-gov-west-1` or `cn-north-1`
/// (other partitions, other ARNs).
fn matches_aws_pattern(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let letters = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    matches!(parts.as_slice(), [prefix, middle, number]
        if AWS_PARTITION_PREFIXES.contains(prefix) && letters(middle) && digits(number))
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn website_host_follows_the_regions_endpoint_style() {
        let cases = [
            ("us-east-1", "b.s3-website-us-east-1.amazonaws.com"),
            ("us-west-2", "b.s3-website-us-west-2.amazonaws.com"),
            ("eu-west-1", "b.s3-website-eu-west-1.amazonaws.com"),
            ("sa-east-1", "b.s3-website-sa-east-1.amazonaws.com"),
            ("us-east-2", "b.s3-website.us-east-2.amazonaws.com"),
            ("eu-central-1", "b.s3-website.eu-central-1.amazonaws.com"),
            ("eu-west-2", "b.s3-website.eu-west-2.amazonaws.com"),
            ("ap-south-1", "b.s3-website.ap-south-1.amazonaws.com"),
            (
                "ap-northeast-2",
                "b.s3-website.ap-northeast-2.amazonaws.com",
            ),
            // Launched after this build: AWS's pattern, and the dot form of every new region.
            ("eu-south-7", "b.s3-website.eu-south-7.amazonaws.com"),
            (
                "ap-southwest-12",
                "b.s3-website.ap-southwest-12.amazonaws.com",
            ),
        ];
        for (region, host) in cases {
            assert_eq!(Region::parse(region).unwrap().website_host("b"), host);
        }
    }

    #[test]
    fn unknown_regions_are_refused_with_the_name() {
        for bad in [
            "",
            "US-EAST-1",
            "mars-1",
            "mars-north-1",
            "us-east",
            "us-east-1a",
            "us--1",
            "us-gov-west-1",
            "cn-north-1",
        ] {
            let err = Region::parse(bad).unwrap_err();
            assert_eq!(err, RegionError::Unknown(bad.to_owned()));
            assert!(err.to_string().contains("--region"));
        }
    }

    #[test]
    fn every_dash_style_region_matches_the_pattern() {
        for region in DASH_WEBSITE.iter().chain(KNOWN) {
            assert!(matches_aws_pattern(region), "{region}");
        }
    }
}
