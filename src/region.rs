//! AWS regions catup knows, and the S3 website endpoint style of each.
//!
//! The website origin goes into two CORS configurations, so it must be exactly what S3 serves:
//! the oldest regions use `s3-website-<region>`, every later one `s3-website.<region>`
//! (AWS's "Website endpoints" table in the S3 user guide).

use thiserror::Error;

/// Regions of the standard `aws` partition (the policies in `policies/` use `arn:aws:`).
const KNOWN: &[&str] = &[
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

#[derive(Debug, Clone, PartialEq, Eq)]
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
        if KNOWN.contains(&name) {
            Ok(Region(name.to_owned()))
        } else {
            Err(RegionError::Unknown(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
        ];
        for (region, host) in cases {
            assert_eq!(Region::parse(region).unwrap().website_host("b"), host);
        }
    }

    #[test]
    fn unknown_regions_are_refused_with_the_name() {
        for bad in [
            "",
            "us-east-9",
            "US-EAST-1",
            "mars-1",
            "us-gov-west-1",
            "cn-north-1",
        ] {
            let err = Region::parse(bad).unwrap_err();
            assert_eq!(err, RegionError::Unknown(bad.to_owned()));
            assert!(err.to_string().contains("--region"));
        }
    }

    #[test]
    fn every_dash_style_region_is_known() {
        for region in DASH_WEBSITE {
            assert!(KNOWN.contains(region), "{region}");
        }
    }
}
