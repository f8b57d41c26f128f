//! The lecture's troubleshooting hints: what a failed check most likely means, said as the
//! fix. A check that recognises its failure returns a [`Hinted`] error; `verify` prints it
//! inside the failure's detail, `check` on a line of its own.

use std::fmt;

/// Which CORS setting a hint is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cors {
    ImagesBucket,
    FunctionUrl,
}

impl fmt::Display for Cors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cors::ImagesBucket => "the images bucket's CORS AllowedOrigins",
            Cors::FunctionUrl => "the Function URL's CORS \"Allow origin\"",
        })
    }
}

/// One of the lecture's known failures, with what it needs to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// The site's pages are not served at all (wrong URL, hosting off, not public).
    SiteUnreachable,
    /// config.js or the page may be cached by browsers across a redeploy.
    NoCache,
    /// config.js names no URL.
    NoApiUrl,
    /// config.js names the website itself: a config.js from before the Function URL existed.
    StaleConfig,
    /// config.js names a plain http URL off this machine.
    NotHttps,
    /// An origin written with a trailing slash never equals the one browsers send.
    TrailingSlash(Cors),
    /// The Function URL answers without CORS for the site.
    NoFunctionCors,
    /// The function adds Access-Control-Allow-Origin itself, beside the Function URL's.
    DoubleHeader,
    /// The images bucket's CORS does not allow the site's PUT with content-type.
    BucketCors,
    /// The upload URL was signed for another Content-Type than the browser sends.
    ContentType { signed: String, sent: String },
    /// A presigned URL without the bucket's region: S3 redirects it, browsers refuse.
    RegionlessUrl,
    /// The function answered 5xx: its own error, in its logs.
    FunctionFailed,
    /// The presigned URLs act with the function role's permissions, which lack one.
    RolePermissions,
    /// Some CORS setting allows any origin.
    AnyOrigin,
    /// The stack makes thumbnails, but not this one.
    Thumbnail,
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hint::SiteUnreachable => f.write_str(
                "open the S3 website endpoint (http://BUCKET.s3-website-REGION.amazonaws.com/), not the bucket's REST URL; static website hosting must be on with index.html, and the bucket policy must allow public s3:GetObject",
            ),
            Hint::NoCache => f.write_str(
                "upload index.html and config.js with Cache-Control: no-cache, or browsers keep an old config.js after a redeploy (aws s3 cp ... --cache-control no-cache)",
            ),
            Hint::NoApiUrl => f.write_str(
                "write the Function URL into config.js (window.CAT_UPLOAD_CONFIG = { apiBaseUrl: \"https://....lambda-url.REGION.on.aws/\" }) and upload it again",
            ),
            Hint::StaleConfig => f.write_str(
                "config.js is stale: it points at the website, not the Function URL; copy the Function URL from Lambda (Configuration, Function URL) into config.js and upload it again",
            ),
            Hint::NotHttps => f.write_str(
                "Function URLs are https://....lambda-url.REGION.on.aws/: copy it exactly into config.js (plain http works only on this machine, with catup dev)",
            ),
            Hint::TrailingSlash(cors) => write!(
                f,
                "remove the trailing slash: {cors} holds the site's origin with a '/' at the end, and browsers send it without one"
            ),
            Hint::NoFunctionCors => f.write_str(
                "configure CORS on the Function URL: Allow origin = the website's origin (no trailing slash), Allow methods GET and POST, Allow headers content-type",
            ),
            Hint::DoubleHeader => f.write_str(
                "two Access-Control-Allow-Origin headers: the function sets its own and the Function URL's CORS adds another, and browsers refuse both; remove it from the function's response and let the Function URL's CORS answer",
            ),
            Hint::BucketCors => f.write_str(
                "put a CORS rule on the images bucket: AllowedOrigins the website's origin, AllowedMethods PUT and GET, AllowedHeaders content-type",
            ),
            Hint::ContentType { signed, sent } => write!(
                f,
                "the upload URL is signed for Content-Type {signed} but the browser sends {sent}: presign with the ContentType the page sends (the POST's contentType) and return it"
            ),
            Hint::RegionlessUrl => f.write_str(
                "the presigned URL has no region (BUCKET.s3.amazonaws.com): create the function's S3 client with the bucket's region and SigV4 (boto3: region_name=..., config=Config(signature_version=\"s3v4\"))",
            ),
            Hint::FunctionFailed => f.write_str(
                "the function itself failed: read its CloudWatch logs; usually a missing IMAGES_BUCKET variable or a missing permission of its role",
            ),
            Hint::RolePermissions => f.write_str(
                "presigned URLs act with the function role's permissions: the role needs s3:PutObject, s3:GetObject and s3:ListBucket on the images bucket",
            ),
            Hint::AnyOrigin => f.write_str(
                "CORS allows any origin (\"*\"): allow exactly the website's origin",
            ),
            Hint::Thumbnail => f.write_str(
                "the thumbnail never appeared: check the thumbnail function's S3 trigger (on images/), its logs, and its role (read images/, write where thumbnails go)",
            ),
        }
    }
}

/// A failure a check recognised: what happened, and the lecture's hint for it.
#[derive(Debug)]
pub struct Hinted {
    pub problem: String,
    pub hint: Hint,
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (hint: {})", self.problem, self.hint)
    }
}

impl std::error::Error for Hinted {}

/// Fails with `problem` and `hint`.
pub fn fail<T>(problem: impl Into<String>, hint: Hint) -> anyhow::Result<T> {
    Err(Hinted {
        problem: problem.into(),
        hint,
    }
    .into())
}

/// The hinted failure inside `error`, if a check recognised it.
pub fn of(error: &anyhow::Error) -> Option<&Hinted> {
    error.chain().find_map(|e| e.downcast_ref::<Hinted>())
}

/// What went wrong, without the hint: the recognised problem, else the error's chain.
pub fn problem(error: &anyhow::Error) -> String {
    of(error).map_or_else(|| format!("{error:#}"), |h| h.problem.clone())
}

/// Whether `url` is a presigned S3 URL without a region (`BUCKET.s3.amazonaws.com`).
pub fn regionless(url: &str) -> bool {
    let host = url
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_ascii_lowercase));
    host.is_some_and(|h| h == "s3.amazonaws.com" || h.ends_with(".s3.amazonaws.com"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_s3_urls_without_a_region_are_regionless() {
        let cases = [
            (
                "https://b.s3.amazonaws.com/images/k.png?X-Amz-Signature=1",
                true,
            ),
            ("https://s3.amazonaws.com/b/images/k.png", true),
            ("https://b.s3.eu-west-3.amazonaws.com/images/k.png", false),
            ("https://b.s3.us-east-1.amazonaws.com/images/k.png", false),
            ("http://127.0.0.1:5055/b/images/k.png", false),
        ];
        for (url, expected) in cases {
            assert_eq!(regionless(url), expected, "{url}");
        }
    }

    #[test]
    fn a_hinted_failure_is_found_under_context() {
        let error = fail::<()>("refused", Hint::DoubleHeader)
            .map_err(|e| e.context("POST"))
            .unwrap_err();
        let found = of(&error).expect("the hint");
        assert_eq!(found.hint, Hint::DoubleHeader);
        assert!(format!("{error:#}").contains("hint: two Access-Control-Allow-Origin"));
    }
}
