//! The checks themselves: each one request a browser on the site would make, and what its
//! answer must be. Shared by `verify` (with AWS, retrying while a deploy settles) and
//! `check` (from the website URL alone); a failure the lecture knows carries its hint.

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context as _};
use base64::Engine;
use serde_json::Value;

use super::hint::{self, Cors, Hint};

/// A real 1x1 PNG: the smallest upload the function accepts as an image.
const TEST_PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
/// The type of [`test_png`], which a browser sends with the file.
pub(crate) const PNG_TYPE: &str = "image/png";
pub(crate) const FOREIGN_ORIGIN: &str = "https://not-the-site.example";

/// The image every check uploads.
pub(crate) fn test_png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(TEST_PNG_BASE64)
        .expect("valid base64 constant")
}

/// Checks the thumbnail is what thumbs-fn makes of the test image: a PNG fitted within its
/// 400 px square, aspect kept. Says its format, dimensions and size.
fn thumbnail_size(bytes: &[u8]) -> anyhow::Result<String> {
    let dimensions = |bytes: &[u8]| {
        let reader = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format()?;
        let format = reader.format();
        anyhow::Ok((format, reader.into_dimensions()?))
    };
    let (_, (width, height)) = dimensions(&test_png())?;
    let max_side = thumbs_fn::config::DEFAULT_MAX_SIDE;
    let expected = thumbs_fn::thumbnail::fitted(width, height, max_side);
    let (format, got) = dimensions(bytes).context("its thumbnail is not an image")?;
    anyhow::ensure!(
        format == Some(image::ImageFormat::Png),
        "its thumbnail is {format:?}, not a PNG as its original"
    );
    anyhow::ensure!(
        got == expected,
        "its thumbnail is {} x {} px, not {} x {} (the {width} x {height} original within {max_side} px)",
        got.0,
        got.1,
        expected.0,
        expected.1
    );
    Ok(format!(
        "PNG {} x {} px, {} bytes",
        got.0,
        got.1,
        bytes.len()
    ))
}

/// An answer that a fresh deploy gives until AWS has settled: 403, 404 or 5xx.
#[derive(Debug)]
pub(crate) struct NotYet(pub(crate) String);

impl fmt::Display for NotYet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotYet {}

/// Fails unless `status` is 200; a status a settling deploy gives is `NotYet`.
pub(crate) async fn expect_200(
    what: &str,
    response: reqwest::Response,
) -> anyhow::Result<reqwest::Response> {
    let status = response.status();
    if status == 200 {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    // One line, whatever the body (S3's XML has a newline after its declaration).
    let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = format!("{what} answered {status}: {body}");
    if status == 403 || status == 404 || status.is_server_error() {
        Err(NotYet(line).into())
    } else {
        Err(anyhow!(line))
    }
}

/// The Access-Control-Allow-Origin values of a response (there must be exactly one).
pub(crate) fn allow_origins(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

/// Whether a preflight answer lets `origin` go on: a success naming it (or `*`). A refusal
/// may still name it: moto_server adds its own CORS headers to every answer, its 403 too.
fn allows(response: &reqwest::Response, origin: &str) -> bool {
    let origins = allow_origins(response);
    response.status().is_success() && origins.iter().any(|o| o == origin || o == "*")
}

/// Whether a comma-separated CORS header value holds `wanted` (or `*`).
fn lists(response: &reqwest::Response, name: reqwest::header::HeaderName, wanted: &str) -> bool {
    let value = response.headers().get(name).and_then(|v| v.to_str().ok());
    value.unwrap_or_default().split(',').any(|v| {
        let v = v.trim();
        v == "*" || v.eq_ignore_ascii_case(wanted)
    })
}

pub(crate) struct Checker {
    pub(crate) http: reqwest::Client,
    /// The site's origin: what a browser on the website sends.
    pub(crate) origin: String,
    pub(crate) api: String,
}

pub(crate) struct Upload {
    pub(crate) url: String,
    pub(crate) key: String,
    headers: Vec<(String, String)>,
}

/// What the gallery says of the new image.
pub(crate) struct Listing {
    /// Its presigned GET.
    pub(crate) url: String,
    /// Its thumbnail's URL, once the stack has made it.
    pub(crate) thumbnail: Option<String>,
    /// Whether the gallery names thumbnails at all (an entry has a thumbnail field, even
    /// null): the stack makes them.
    pub(crate) makes_thumbnails: bool,
}

/// How long a thumbnail may take to appear after the upload.
const THUMBNAIL_WAIT: Duration = Duration::from_secs(20);
const THUMBNAIL_POLL: Duration = Duration::from_secs(1);

/// The names a gallery entry gives its thumbnail's URL.
const THUMBNAIL_FIELDS: [&str; 4] = ["thumbnailUrl", "thumbnail_url", "thumbUrl", "thumbnail"];

/// Where the new image must be in the gallery.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Listed {
    /// Newest first: right after the upload, it is the first.
    First,
    /// Anywhere on the first page (others may upload at the same moment).
    OnFirstPage,
}

impl Checker {
    /// The gallery lists a thumbnail of `key` that loads, within [`THUMBNAIL_WAIT`].
    pub(crate) async fn thumbnail_appears(&self, key: &str) -> anyhow::Result<((), String)> {
        let started = Instant::now();
        let mut last = format!("the gallery lists no thumbnail of {key}");
        while started.elapsed() < THUMBNAIL_WAIT {
            let (listing, _) = self.gallery(key, Listed::OnFirstPage).await?;
            if let Some(url) = listing.thumbnail {
                let response = self.http.get(&url).send().await;
                match response {
                    Ok(response) if response.status().is_success() => {
                        let status = response.status();
                        let bytes = response.bytes().await.context("GET its thumbnail")?;
                        let size = thumbnail_size(&bytes)?;
                        let waited = started.elapsed().as_secs();
                        return Ok(((), format!("{status} after {waited} s, {size}: {url}")));
                    }
                    Ok(response) => {
                        let status = response.status();
                        last = format!("its thumbnail answered {status}: {url}");
                    }
                    Err(e) => last = format!("GET its thumbnail: {e}"),
                }
            }
            tokio::time::sleep(THUMBNAIL_POLL).await;
        }
        anyhow::bail!("{last} after {} s", THUMBNAIL_WAIT.as_secs())
    }

    /// Fails unless `response` carries one Access-Control-Allow-Origin, the site's origin; a
    /// Function URL's answer (`cors` says which setting it comes from).
    fn exactly_our_origin(&self, response: &reqwest::Response, cors: Cors) -> anyhow::Result<()> {
        let origins = allow_origins(response);
        let problem = || {
            format!(
                "Access-Control-Allow-Origin should be exactly once {}, got {origins:?}",
                self.origin
            )
        };
        match origins.as_slice() {
            [one] if *one == self.origin => Ok(()),
            [] if cors == Cors::FunctionUrl => hint::fail(problem(), Hint::NoFunctionCors),
            [one] if *one == format!("{}/", self.origin) => {
                hint::fail(problem(), Hint::TrailingSlash(cors))
            }
            [one] if one == "*" => hint::fail(problem(), Hint::AnyOrigin),
            [_, _, ..] => hint::fail(problem(), Hint::DoubleHeader),
            _ => bail!(problem()),
        }
    }

    pub(crate) async fn post_upload(&self, size: usize) -> anyhow::Result<(Upload, String)> {
        let response = self
            .http
            .post(&self.api)
            .header(reqwest::header::ORIGIN, &self.origin)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::json!({"contentType": PNG_TYPE, "size": size}).to_string())
            .send()
            .await
            .context("POST to the Function URL")?;
        let response = expect_200("POST", response).await?;
        self.exactly_our_origin(&response, Cors::FunctionUrl)?;
        let body: Value =
            serde_json::from_slice(&response.bytes().await?).context("POST answer is not JSON")?;
        let text = |field: &str| {
            body[field]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("POST answer has no string {field:?}: {body}"))
        };
        let (url, key) = (text("uploadUrl")?, text("key")?);
        ensure!(key.starts_with("images/"), "key {key} is not under images/");
        ensure!(text("method")? == "PUT", "method is not PUT: {body}");
        let headers = body["headers"]
            .as_object()
            .ok_or_else(|| anyhow!("POST answer has no headers object: {body}"))?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        let detail = format!("200, key {key}, one allow-origin");
        Ok((Upload { url, key, headers }, detail))
    }

    /// The CORS preflight a browser sends before a `method` request with a JSON or image body.
    pub(crate) async fn preflight(
        &self,
        url: &str,
        origin: &str,
        method: &str,
    ) -> reqwest::Result<reqwest::Response> {
        self.http
            .request(reqwest::Method::OPTIONS, url)
            .header(reqwest::header::ORIGIN, origin)
            .header(reqwest::header::ACCESS_CONTROL_REQUEST_METHOD, method)
            .header(
                reqwest::header::ACCESS_CONTROL_REQUEST_HEADERS,
                "content-type",
            )
            .send()
            .await
    }

    /// Fails unless a preflight answer lets the site send `method`. (A preflight asks for
    /// content-type too: S3 refuses it outright when its rule does not allow that header.)
    fn allows_method(
        &self,
        response: &reqwest::Response,
        what: &str,
        method: &str,
    ) -> anyhow::Result<()> {
        let origins = allow_origins(response);
        ensure!(
            origins.iter().any(|o| o == &self.origin || o == "*"),
            "{what} allows {origins:?}, not {}",
            self.origin
        );
        let header = reqwest::header::ACCESS_CONTROL_ALLOW_METHODS;
        ensure!(
            lists(response, header, method),
            "{what} does not allow {method}"
        );
        Ok(())
    }

    /// What a browser on the site asks S3 before the PUT: OPTIONS on the upload URL with the
    /// site's Origin; S3 answers 200 with the origin and PUT allowed, or 403.
    pub(crate) async fn upload_preflight(&self, upload: &Upload) -> anyhow::Result<((), String)> {
        let what = "the images bucket's preflight";
        let response = self
            .preflight(&upload.url, &self.origin, "PUT")
            .await
            .context("preflight OPTIONS to the upload URL")?;
        let response = expect_200(what, response).await?;
        self.allows_method(&response, what, "PUT")?;
        Ok(((), format!("200, PUT from {}", self.origin)))
    }

    /// The Function URL's answer to the preflight a browser sends before the site's POST.
    pub(crate) async fn function_preflight(&self) -> anyhow::Result<((), String)> {
        let what = "the Function URL's preflight";
        let response = self
            .preflight(&self.api, &self.origin, "POST")
            .await
            .context("preflight OPTIONS to the Function URL")?;
        let status = response.status();
        ensure!(status.is_success(), "{what} answered {status}");
        self.exactly_our_origin(&response, Cors::FunctionUrl)?;
        self.allows_method(&response, what, "POST")?;
        // A Function URL answers every preflight of an allowed origin, naming the headers it
        // allows: without content-type, the browser never sends the JSON POST.
        let header = reqwest::header::ACCESS_CONTROL_ALLOW_HEADERS;
        if !lists(&response, header, "content-type") {
            let problem = format!("{what} does not allow the content-type header");
            return hint::fail(problem, Hint::NoFunctionCors);
        }
        Ok((
            (),
            format!("{status}, POST with content-type from {}", self.origin),
        ))
    }

    /// Whether a preflight from `origin` to `url` is allowed: what tells a trailing slash in
    /// a CORS origin (allowed with the slash, refused without) from a missing rule.
    pub(crate) async fn preflight_allows(&self, url: &str, origin: &str, method: &str) -> bool {
        match self.preflight(url, origin, method).await {
            Ok(response) => allows(&response, origin),
            Err(_) => false,
        }
    }

    /// PUT the image as a browser does: the signed headers the POST returned, with the
    /// file's own type (a page that presigned for another type is refused by S3).
    pub(crate) async fn put(&self, upload: &Upload, png: &[u8]) -> anyhow::Result<((), String)> {
        let mut request = self
            .http
            .put(&upload.url)
            .header(reqwest::header::CONTENT_TYPE, PNG_TYPE)
            .body(png.to_vec());
        for (name, value) in &upload.headers {
            // reqwest sets content-length from the body, as a browser does.
            let by_the_browser = ["content-length", "content-type"];
            if !by_the_browser.iter().any(|h| name.eq_ignore_ascii_case(h)) {
                request = request.header(name, value);
            }
        }
        let response = request.send().await.context("PUT to the presigned URL")?;
        let status = response.status();
        if status.is_success() {
            return Ok(((), format!("{status}, {} bytes", png.len())));
        }
        match expect_200("PUT", response).await {
            Err(e) if format!("{e}").contains("SignatureDoesNotMatch") => {
                match self.signed_type(upload) {
                    Some(signed) if !signed.eq_ignore_ascii_case(PNG_TYPE) => {
                        let sent = PNG_TYPE.to_owned();
                        hint::fail(format!("{e}"), Hint::ContentType { signed, sent })
                    }
                    _ => Err(e),
                }
            }
            other => other.map(|_| ((), String::new())),
        }
    }

    /// The Content-Type the upload URL was signed for, as the POST said.
    fn signed_type(&self, upload: &Upload) -> Option<String> {
        let signed = upload.headers.iter();
        let found = signed
            .clone()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"));
        found.map(|(_, v)| v.clone())
    }

    /// GET the gallery; the new image must be listed where `listed` says.
    pub(crate) async fn gallery(
        &self,
        key: &str,
        listed: Listed,
    ) -> anyhow::Result<(Listing, String)> {
        let response = self
            .http
            .get(&self.api)
            .header(reqwest::header::ORIGIN, &self.origin)
            .send()
            .await
            .context("GET the gallery")?;
        let response = expect_200("GET", response).await?;
        self.exactly_our_origin(&response, Cors::FunctionUrl)?;
        let body: Value =
            serde_json::from_slice(&response.bytes().await?).context("GET answer is not JSON")?;
        let images = body["images"].as_array().cloned().unwrap_or_default();
        let (found, detail) = match listed {
            Listed::First => (images.first().filter(|i| i["key"] == key), "newest first"),
            Listed::OnFirstPage => (images.iter().find(|i| i["key"] == key), "listed"),
        };
        let Some(image) = found else {
            bail!(
                "the gallery does not list {key} {}: its first is {}",
                match listed {
                    Listed::First => "first",
                    Listed::OnFirstPage => "on its first page",
                },
                images.first().map_or(Value::Null, |i| i["key"].clone())
            );
        };
        let url = image["url"].as_str().context("the image has no url")?;
        let thumbnail_of = |image: &Value| {
            let field = THUMBNAIL_FIELDS.iter().find(|f| image.get(**f).is_some());
            field.map(|f| image[*f].as_str().map(str::to_owned))
        };
        let listing = Listing {
            url: url.to_owned(),
            thumbnail: thumbnail_of(image).flatten(),
            makes_thumbnails: images.iter().any(|i| thumbnail_of(i).is_some()),
        };
        Ok((listing, detail.to_owned()))
    }

    pub(crate) async fn same_bytes(&self, url: &str, png: &[u8]) -> anyhow::Result<((), String)> {
        let response = self.http.get(url).send().await.context("GET the image")?;
        let response = expect_200("GET image", response).await?;
        let bytes = response.bytes().await?;
        ensure!(
            bytes.as_ref() == png,
            "got {} bytes that differ from the {} uploaded",
            bytes.len(),
            png.len()
        );
        Ok(((), format!("{} bytes identical", png.len())))
    }

    pub(crate) async fn config_js(&self, website_url: &str) -> anyhow::Result<((), String)> {
        let url = format!("{}/config.js", website_url.trim_end_matches('/'));
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let response = expect_200(&format!("GET {url}"), response).await?;
        let body = response.text().await?;
        let quoted = serde_json::Value::from(self.api.as_str()).to_string();
        if !body.contains(&quoted) {
            bail!("config.js does not hold {quoted}: {}", body.trim());
        }
        Ok(((), url))
    }

    /// A preflight from another origin for `method` to `url` answers without that origin
    /// (or `*`).
    pub(crate) async fn foreign_refused(
        &self,
        url: &str,
        what: &str,
        method: &str,
    ) -> anyhow::Result<String> {
        let response = self
            .preflight(url, FOREIGN_ORIGIN, method)
            .await
            .with_context(|| format!("preflight OPTIONS to {what}"))?;
        let origins = allow_origins(&response);
        if allows(&response, FOREIGN_ORIGIN) {
            let problem = format!("{what} allowed a preflight from {FOREIGN_ORIGIN}: {origins:?}");
            return hint::fail(problem, Hint::AnyOrigin);
        }
        Ok(format!("refused ({})", response.status()))
    }

    pub(crate) async fn foreign_preflight(&self) -> anyhow::Result<((), String)> {
        let detail = self
            .foreign_refused(&self.api, "the Function URL", "POST")
            .await?;
        Ok(((), detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
        let image = image::DynamicImage::new_rgb8(width, height);
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn the_thumbnail_must_be_the_test_image_fitted_in_its_format() {
        let said = thumbnail_size(&encoded(1, 1, image::ImageFormat::Png)).unwrap();
        assert!(said.starts_with("PNG 1 x 1 px"), "{said}");
        let wrong_size = thumbnail_size(&encoded(2, 1, image::ImageFormat::Png));
        assert!(format!("{:#}", wrong_size.unwrap_err()).contains("2 x 1 px, not 1 x 1"));
        let wrong_format = thumbnail_size(&encoded(1, 1, image::ImageFormat::Jpeg));
        assert!(format!("{:#}", wrong_format.unwrap_err()).contains("not a PNG"));
        assert!(thumbnail_size(b"not an image").is_err());
    }
}
