//! The Function URL handler: method routing over plain `http` types, so the same code runs
//! under `lambda_http`, in tests, and behind a local server.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use http::{header, Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use thiserror::Error;
use uuid::Uuid;

use crate::config::Config;
use crate::content_type::ImageType;
use crate::error::ApiError;
use crate::keys::{
    decode_cursor, encode_cursor, new_image_key, thumbnail_key, IMAGES_PREFIX, THUMBS_PREFIX,
};
use crate::listed_key;
use crate::logging::RequestLog;
use crate::presign::{ObjectMethod, PresignRequest, Presigner, S3Endpoint};

pub const DEFAULT_PAGE_SIZE: i32 = 100;
pub const MAX_PAGE_SIZE: i32 = 1000;
/// `{"contentType": ..., "size": ...}` is tiny; anything this big is not a real request.
pub const MAX_REQUEST_BODY_BYTES: usize = 16 * 1024;

/// Everything a request needs, built once at init.
pub struct App {
    config: Config,
    s3: aws_sdk_s3::Client,
    credentials: SharedCredentialsProvider,
    presigner: Presigner,
}

#[derive(Debug, Error)]
pub enum InitError {
    #[error("no AWS region: set AWS_REGION")]
    MissingRegion,
    #[error("no AWS credentials provider configured")]
    MissingCredentials,
    #[error("AWS_ENDPOINT_URL {0:?} is not a URL with a scheme and host")]
    BadEndpoint(String),
}

impl App {
    /// Clients from `sdk`. With an endpoint override (an emulator) S3 is addressed
    /// path-style, for API calls and presigned URLs alike.
    pub fn new(sdk: &SdkConfig, config: Config) -> Result<App, InitError> {
        let region = sdk.region().ok_or(InitError::MissingRegion)?.to_string();
        let credentials = sdk
            .credentials_provider()
            .ok_or(InitError::MissingCredentials)?;
        let endpoint = match sdk.endpoint_url() {
            None => S3Endpoint::VirtualHosted,
            Some(url) => {
                S3Endpoint::path_style(url).ok_or_else(|| InitError::BadEndpoint(url.into()))?
            }
        };
        let s3_config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        Ok(App {
            config,
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            credentials,
            presigner: Presigner::new(region, endpoint),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Answers one Function URL request. Never panics on input: every failure is a JSON
    /// error response.
    pub async fn handle<B: AsRef<[u8]>>(&self, request: Request<B>) -> Response<String> {
        let mut log = RequestLog::start(request.method());
        let request_id = request_id(&request);
        let result = match *request.method() {
            Method::POST => self.upload_url(request.body().as_ref()).await,
            Method::GET => self.gallery(request.uri().query().unwrap_or("")).await,
            _ => Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{} is not supported; use GET or POST", request.method()),
            )),
        };
        let response = match result {
            Ok(body) => {
                log.key = body.get("key").and_then(Value::as_str).map(str::to_owned);
                json_response(StatusCode::OK, &body)
            }
            Err(error) => {
                log.code = Some(error.code);
                if error.status.is_server_error() {
                    tracing::error!(request_id, code = error.code, "{}", error.message);
                }
                let mut response = json_response(error.status, &error.body());
                if error.status == StatusCode::METHOD_NOT_ALLOWED {
                    response
                        .headers_mut()
                        .insert(header::ALLOW, header::HeaderValue::from_static("GET, POST"));
                }
                response
            }
        };
        log.finish(response.status());
        response
    }

    /// POST: a presigned PUT for a server-chosen key.
    async fn upload_url(&self, body: &[u8]) -> Result<Value, ApiError> {
        let upload = UploadRequest::parse(body, self.config.max_upload_bytes)?;
        if let Some(max) = self.config.max_images {
            self.refuse_when_full(max).await?;
        }
        let now = SystemTime::now();
        let now_ms = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let key = new_image_key(upload.image_type, now_ms, Uuid::new_v4());
        // Both signed: S3 refuses a PUT of another length or type.
        let length = upload.size.to_string();
        let headers = [
            ("content-length", length.as_str()),
            ("content-type", upload.image_type.mime()),
        ];
        let credentials = self.credentials().await?;
        let url = self.presigner.presign(
            &credentials,
            &PresignRequest {
                method: ObjectMethod::Put,
                bucket: &self.config.images_bucket,
                key: &key,
                headers: &headers,
                expires_in: self.config.url_ttl_seconds,
                time: now,
            },
        );
        let headers: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(name, value)| (name.to_string(), Value::from(*value)))
            .collect();
        Ok(json!({
            "uploadUrl": url,
            "key": key,
            "contentType": upload.image_type.mime(),
            "expiresIn": self.config.url_ttl_seconds,
            "method": "PUT",
            "headers": headers,
        }))
    }

    /// The bucket's cap (`MAX_IMAGES`): one listing of at most `max` keys counts the images,
    /// whatever the gallery holds. Uploads presigned but not yet made are not counted, so a
    /// burst of POSTs can pass the cap by the uploads in flight.
    async fn refuse_when_full(&self, max: u32) -> Result<(), ApiError> {
        let listing = self
            .s3
            .list_objects_v2()
            .bucket(&self.config.images_bucket)
            .prefix(IMAGES_PREFIX)
            // Any key (a control character put there by anyone) must not break the count.
            .encoding_type(listed_key::LISTING_ENCODING)
            .max_keys(i32::try_from(max).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(listing_failed)?;
        let held = listing.key_count().unwrap_or(0);
        if i64::from(held) >= i64::from(max) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "gallery_full",
                format!("this gallery holds its maximum of {max} images: no more uploads until some are deleted (the stack's owner sets the cap with catup deploy --max-images)"),
            ));
        }
        Ok(())
    }

    /// GET: one page of the gallery, newest first, each image with a presigned GET, and its
    /// thumbnail's (`thumbUrl`) once the thumbnail function has made it.
    async fn gallery(&self, query: &str) -> Result<Value, ApiError> {
        let page = PageRequest::parse(query)?;
        let listing = self
            .s3
            .list_objects_v2()
            .bucket(&self.config.images_bucket)
            .prefix(IMAGES_PREFIX)
            .max_keys(page.limit)
            .set_start_after(page.start_after.clone())
            .encoding_type(listed_key::LISTING_ENCODING)
            .send();
        // The thumbnails share the images' names: the same page of thumbs/, listed beside.
        let (listing, thumbnails) = tokio::join!(listing, self.thumbnails(&page));
        let listing = listing.map_err(listing_failed)?;
        let encoding = listing.encoding_type();
        let objects = listing
            .contents()
            .iter()
            .filter_map(|object| Some((object.key()?, object)))
            .map(|(listed, object)| Ok((listed_key::decode(encoding, listed)?, object)))
            .collect::<Result<Vec<_>, listed_key::UndecodableKey>>()
            .map_err(|e| {
                tracing::error!(error = %e, "ListObjectsV2 answered a key that does not decode");
                ApiError::storage_unavailable()
            })?;
        let credentials = self.credentials().await?;
        let now = SystemTime::now();
        let presigned_get = |key: &str| {
            self.presigner.presign(
                &credentials,
                &PresignRequest {
                    method: ObjectMethod::Get,
                    bucket: &self.config.images_bucket,
                    key,
                    headers: &[],
                    expires_in: self.config.url_ttl_seconds,
                    time: now,
                },
            )
        };
        let images: Vec<Value> = objects
            .iter()
            .map(|(key, object)| {
                let url = presigned_get(key);
                let last_modified = object
                    .last_modified()
                    .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
                let mut image = json!({
                    "key": key,
                    "url": url,
                    "size": object.size().unwrap_or(0),
                    "lastModified": last_modified,
                });
                // null: the stack makes thumbnails and this one is not made yet.
                match thumbnail_key(key).filter(|t| thumbnails.contains(t)) {
                    Some(thumbnail) => image["thumbUrl"] = Value::from(presigned_get(&thumbnail)),
                    None if self.config.thumbnails => image["thumbUrl"] = Value::Null,
                    None => {}
                }
                image
            })
            .collect();
        let mut body = json!({ "images": images, "expiresIn": self.config.url_ttl_seconds });
        let last_key = objects.last().map(|(key, _)| key);
        if let (Some(true), Some(last_key)) = (listing.is_truncated(), last_key) {
            body["next"] = Value::from(encode_cursor(last_key));
        }
        Ok(body)
    }

    /// The thumbnails' keys from the page's start on (as many as the page holds images). A
    /// failed listing is no error: the gallery then shows the originals.
    async fn thumbnails(&self, page: &PageRequest) -> std::collections::HashSet<String> {
        let start_after = page.start_after.as_deref().and_then(thumbnail_key);
        let listing = self
            .s3
            .list_objects_v2()
            .bucket(&self.config.images_bucket)
            .prefix(THUMBS_PREFIX)
            .max_keys(page.limit)
            .set_start_after(start_after)
            .encoding_type(listed_key::LISTING_ENCODING)
            .send()
            .await;
        let listing = match listing {
            Ok(listing) => listing,
            Err(e) => {
                tracing::warn!(error = %aws_sdk_s3::error::DisplayErrorContext(&e), "thumbnails not listed: the gallery shows the originals");
                return Default::default();
            }
        };
        let encoding = listing.encoding_type();
        listing
            .contents()
            .iter()
            .filter_map(|object| listed_key::decode(encoding, object.key()?).ok())
            .collect()
    }

    async fn credentials(&self) -> Result<Credentials, ApiError> {
        self.credentials.provide_credentials().await.map_err(|e| {
            tracing::error!(error = %e, "no credentials to sign with");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "credentials_unavailable",
                "the function has no credentials to sign URLs with",
            )
        })
    }
}

/// A validated POST body. `size` is required: the presigned URL signs it as the upload's
/// content-length, the one way to make S3 itself enforce the upload limit.
#[derive(Debug, PartialEq, Eq)]
struct UploadRequest {
    image_type: ImageType,
    size: u64,
}

impl UploadRequest {
    fn parse(body: &[u8], max_upload_bytes: u64) -> Result<UploadRequest, ApiError> {
        if body.len() > MAX_REQUEST_BODY_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the request body is over {MAX_REQUEST_BODY_BYTES} bytes; send only {{\"contentType\", \"size\"}}"),
            ));
        }
        let expected = r#"send a JSON body like {"contentType": "image/png", "size": 1234}"#;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(format!(
                "the body is empty: {expected}"
            )));
        }
        let value: Value = serde_json::from_slice(body).map_err(|_| {
            ApiError::bad_request(format!("the body is not valid JSON: {expected}"))
        })?;
        let Some(fields) = value.as_object() else {
            return Err(ApiError::bad_request(format!(
                "the body is not a JSON object: {expected}"
            )));
        };
        let content_type = match fields.get("contentType") {
            Some(Value::String(s)) => s,
            Some(_) => return Err(ApiError::bad_request("contentType must be a string")),
            None => {
                return Err(ApiError::bad_request(format!(
                    "contentType is missing: {expected}"
                )))
            }
        };
        let image_type = ImageType::parse(content_type).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "contentType {content_type:?} is not allowed; use one of {}",
                    ImageType::allowed_list()
                ),
            )
        })?;
        let size = match fields.get("size") {
            None | Some(Value::Null) => {
                return Err(ApiError::bad_request(format!(
                    "size is missing: {expected} (the file's size in bytes)"
                )))
            }
            Some(Value::Number(n)) => Self::check_size(n, max_upload_bytes)?,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "size must be a whole number of bytes",
                ))
            }
        };
        Ok(UploadRequest { image_type, size })
    }

    fn check_size(n: &serde_json::Number, max: u64) -> Result<u64, ApiError> {
        let out_of_range = format!("size must be from 1 to {max} bytes, got {n}");
        match (n.as_u64(), n.as_i64()) {
            (Some(size), _) if (1..=max).contains(&size) => return Ok(size),
            // Nothing to upload: a bad request, not a too-large one.
            (Some(0), _) | (None, Some(_)) => return Err(ApiError::bad_request(out_of_range)),
            (Some(_), _) => {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    out_of_range,
                ))
            }
            (None, None) => {}
        }
        Err(ApiError::bad_request(format!(
            "size must be a whole number of bytes, got {n}"
        )))
    }
}

/// Validated GET query parameters.
#[derive(Debug, PartialEq, Eq)]
struct PageRequest {
    limit: i32,
    start_after: Option<String>,
}

impl PageRequest {
    fn parse(query: &str) -> Result<PageRequest, ApiError> {
        let mut page = PageRequest {
            limit: DEFAULT_PAGE_SIZE,
            start_after: None,
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*name {
                "limit" => {
                    page.limit = value
                        .parse()
                        .ok()
                        .filter(|l| (1..=MAX_PAGE_SIZE).contains(l))
                        .ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "limit must be a whole number from 1 to {MAX_PAGE_SIZE}, got {value:?}"
                            ))
                        })?;
                }
                "cursor" => {
                    page.start_after = Some(decode_cursor(&value).ok_or_else(|| {
                        ApiError::bad_request("cursor is not one this API returned in `next`")
                    })?);
                }
                _ => {}
            }
        }
        Ok(page)
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<String> {
    let mut response = Response::new(body.to_string());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    // Presigned URLs expire; a cached answer would hand out dead links.
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn request_id<B>(request: &Request<B>) -> String {
    request
        .extensions()
        .get::<lambda_http::Context>()
        .map_or_else(|| "local".to_owned(), |c| c.request_id.clone())
}

/// A failed listing: logged with the SDK's detail, answered as storage being unavailable.
fn listing_failed<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: aws_sdk_s3::error::SdkError<E, R>,
) -> ApiError {
    tracing::error!(error = %aws_sdk_s3::error::DisplayErrorContext(&error), "ListObjectsV2 failed");
    ApiError::storage_unavailable()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = 10 * 1024 * 1024;

    fn parse(body: &str) -> Result<UploadRequest, ApiError> {
        UploadRequest::parse(body.as_bytes(), MAX)
    }

    #[test]
    fn upload_request_needs_type_and_size() {
        let png = ImageType::parse("image/png").unwrap();
        assert_eq!(
            parse(r#"{"contentType":"IMAGE/PNG","size":10485760}"#),
            Ok(UploadRequest {
                image_type: png,
                size: MAX
            })
        );
        for no_size in [
            r#"{"contentType":"image/png"}"#,
            r#"{"contentType":"image/png","size":null}"#,
        ] {
            let error = parse(no_size).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{no_size}");
            assert!(
                error.message.starts_with("size is missing"),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn upload_request_errors_have_the_right_status() {
        let cases = [
            ("", StatusCode::BAD_REQUEST),
            ("   ", StatusCode::BAD_REQUEST),
            ("{", StatusCode::BAD_REQUEST),
            ("[]", StatusCode::BAD_REQUEST),
            ("{}", StatusCode::BAD_REQUEST),
            (r#"{"contentType":5}"#, StatusCode::BAD_REQUEST),
            (
                r#"{"contentType":"text/plain"}"#,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                r#"{"contentType":"image/png; q=1"}"#,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                r#"{"contentType":"image/png","size":0}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                r#"{"contentType":"image/png","size":-1}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                r#"{"contentType":"image/png","size":10485761}"#,
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                r#"{"contentType":"image/png","size":1e30}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                r#"{"contentType":"image/png","size":1.5}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                r#"{"contentType":"image/png","size":"12"}"#,
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (body, status) in cases {
            assert_eq!(parse(body).unwrap_err().status, status, "{body:?}");
        }
    }

    #[test]
    fn unsupported_type_message_names_the_allowed_types() {
        let error = parse(r#"{"contentType":"text/plain"}"#).unwrap_err();
        assert_eq!(error.code, "unsupported_media_type");
        assert!(error
            .message
            .contains("image/jpeg, image/png, image/gif, image/webp"));
    }

    #[test]
    fn page_request_defaults_bounds_and_cursor() {
        assert_eq!(
            PageRequest::parse(""),
            Ok(PageRequest {
                limit: 100,
                start_after: None
            })
        );
        let cursor = encode_cursor("images/0001-x.png");
        assert_eq!(
            PageRequest::parse(&format!("limit=1000&cursor={cursor}&other=1")),
            Ok(PageRequest {
                limit: 1000,
                start_after: Some("images/0001-x.png".into())
            })
        );
        for bad in [
            "limit=0",
            "limit=1001",
            "limit=ten",
            "limit=",
            "cursor=%%%",
            "cursor=eA",
        ] {
            assert_eq!(
                PageRequest::parse(bad).unwrap_err().status,
                StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
    }
}
