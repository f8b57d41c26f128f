//! The checks themselves: each one request a browser on the site would make, and what its
//! answer must be.

use std::fmt;

use anyhow::{anyhow, bail, ensure, Context as _};
use serde_json::Value;

use super::FOREIGN_ORIGIN;

/// An answer that a fresh deploy gives until AWS has settled: 403, 404 or 5xx.
#[derive(Debug)]
pub(super) struct NotYet(pub(super) String);

impl fmt::Display for NotYet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotYet {}

/// Fails unless `status` is 200; a status a settling deploy gives is `NotYet`.
async fn expect_200(what: &str, response: reqwest::Response) -> anyhow::Result<reqwest::Response> {
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

pub(super) struct Checker {
    pub(super) http: reqwest::Client,
    /// The site's origin: what a browser on the website sends.
    pub(super) origin: String,
    pub(super) api: String,
}

pub(super) struct Upload {
    url: String,
    pub(super) key: String,
    headers: Vec<(String, String)>,
}

impl Checker {
    /// The Access-Control-Allow-Origin values of a response (there must be exactly one).
    fn allow_origins(response: &reqwest::Response) -> Vec<String> {
        response
            .headers()
            .get_all(reqwest::header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }

    fn exactly_our_origin(&self, response: &reqwest::Response) -> anyhow::Result<()> {
        let origins = Self::allow_origins(response);
        ensure!(
            origins == [self.origin.as_str()],
            "Access-Control-Allow-Origin should be exactly once {}, got {origins:?}",
            self.origin
        );
        Ok(())
    }

    pub(super) async fn post_upload(&self, size: usize) -> anyhow::Result<(Upload, String)> {
        let response = self
            .http
            .post(&self.api)
            .header(reqwest::header::ORIGIN, &self.origin)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::json!({"contentType": "image/png", "size": size}).to_string())
            .send()
            .await
            .context("POST to the Function URL")?;
        let response = expect_200("POST", response).await?;
        self.exactly_our_origin(&response)?;
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
    async fn preflight(
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

    /// What a browser on the site asks S3 before the PUT: OPTIONS on the upload URL with the
    /// site's Origin; S3 answers 200 with the origin and PUT allowed, or 403.
    pub(super) async fn upload_preflight(&self, upload: &Upload) -> anyhow::Result<((), String)> {
        let response = self
            .preflight(&upload.url, &self.origin, "PUT")
            .await
            .context("preflight OPTIONS to the upload URL")?;
        let response = expect_200("the images bucket's preflight", response).await?;
        let origins = Self::allow_origins(&response);
        ensure!(
            origins.iter().any(|o| o == &self.origin || o == "*"),
            "the images bucket's preflight allows {origins:?}, not {}",
            self.origin
        );
        let methods = response
            .headers()
            .get(reqwest::header::ACCESS_CONTROL_ALLOW_METHODS)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        ensure!(
            methods
                .split(',')
                .any(|m| m.trim().eq_ignore_ascii_case("PUT")),
            "the images bucket's preflight allows methods {methods:?}, not PUT"
        );
        Ok(((), format!("200, PUT from {}", self.origin)))
    }

    pub(super) async fn put(&self, upload: &Upload, png: &[u8]) -> anyhow::Result<((), String)> {
        let mut request = self.http.put(&upload.url).body(png.to_vec());
        for (name, value) in &upload.headers {
            // reqwest sets content-length from the body, as a browser does.
            if !name.eq_ignore_ascii_case("content-length") {
                request = request.header(name, value);
            }
        }
        let response = request.send().await.context("PUT to the presigned URL")?;
        let status = response.status();
        let response = match status.is_success() {
            true => response,
            false => expect_200("PUT", response).await?,
        };
        Ok(((), format!("{}, {} bytes", response.status(), png.len())))
    }

    pub(super) async fn gallery_first(&self, key: &str) -> anyhow::Result<(String, String)> {
        let response = self
            .http
            .get(&self.api)
            .header(reqwest::header::ORIGIN, &self.origin)
            .send()
            .await
            .context("GET the gallery")?;
        let response = expect_200("GET", response).await?;
        self.exactly_our_origin(&response)?;
        let body: Value =
            serde_json::from_slice(&response.bytes().await?).context("GET answer is not JSON")?;
        let first = &body["images"][0];
        ensure!(
            first["key"] == key,
            "the first image is {} , not {key}",
            first["key"]
        );
        let url = first["url"]
            .as_str()
            .context("the image has no url")?
            .to_owned();
        Ok((url, "newest first".to_owned()))
    }

    pub(super) async fn same_bytes(&self, url: &str, png: &[u8]) -> anyhow::Result<((), String)> {
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

    pub(super) async fn config_js(&self, website_url: &str) -> anyhow::Result<((), String)> {
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

    pub(super) async fn foreign_preflight(&self) -> anyhow::Result<((), String)> {
        let response = self
            .preflight(&self.api, FOREIGN_ORIGIN, "POST")
            .await
            .context("preflight OPTIONS")?;
        let origins = Self::allow_origins(&response);
        let allowed = origins.iter().any(|o| o == FOREIGN_ORIGIN || o == "*");
        ensure!(
            !allowed,
            "a preflight from {FOREIGN_ORIGIN} was allowed: {origins:?}"
        );
        Ok(((), format!("{} without allow-origin", response.status())))
    }
}
