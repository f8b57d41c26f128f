//! The event handler: for each `ObjectCreated` record under `images/`, read the object, make
//! its thumbnail off the async threads, write it under `thumbs/`. Tests and `catup dev` call
//! [`App::handle`] in process; `bootstrap` calls it under `lambda_runtime`.

use aws_config::SdkConfig;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use thiserror::Error;

use crate::config::Config;
use crate::event::{Record, S3Event};
use crate::thumbnail::{make_thumbnail, Kind, Refusal};

/// Where uploads land; the only prefix the function reads.
pub const IMAGES_PREFIX: &str = "images/";
/// Where thumbnails go, under the same name. Never under `images/`: no loop.
pub const THUMBS_PREFIX: &str = "thumbs/";

/// Browsers may keep a thumbnail a day: its name never gets other content.
const THUMB_CACHE_CONTROL: &str = "max-age=86400";

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Written {
        key: String,
        thumbnail: String,
        width: u32,
        height: u32,
    },
    /// Not for this function: another event, outside `images/`, or gone before it was read.
    Ignored { key: String, why: &'static str },
    /// Not an image that can be made small; logged at WARN, not retried.
    Refused { key: String, refusal: Refusal },
}

impl Outcome {
    pub fn is_written(&self) -> bool {
        matches!(self, Outcome::Written { .. })
    }
}

/// Failures worth Lambda's retry: S3 could not be read or written.
#[derive(Debug, Error)]
pub enum HandleError {
    #[error("read s3://{bucket}/{key}: {message}")]
    Read {
        bucket: String,
        key: String,
        message: String,
    },
    #[error("write s3://{bucket}/{key}: {message}")]
    Write {
        bucket: String,
        key: String,
        message: String,
    },
    #[error("the thumbnail of {key} stopped: {message}")]
    Task { key: String, message: String },
}

/// The S3 client and settings, built once at init.
pub struct App {
    s3: aws_sdk_s3::Client,
    config: Config,
}

impl App {
    /// With an endpoint override (an emulator) S3 is addressed path-style.
    pub fn new(sdk: &SdkConfig, config: Config) -> App {
        let s3_config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        App {
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            config,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every record in turn. An image that cannot be made small is an [`Outcome::Refused`],
    /// not an error: only S3 failures end the invocation with an error (and Lambda's retry).
    pub async fn handle(&self, event: &S3Event) -> Result<Vec<Outcome>, HandleError> {
        let mut outcomes = Vec::with_capacity(event.records.len());
        for record in &event.records {
            let outcome = self.handle_record(record).await?;
            log(&outcome);
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    async fn handle_record(&self, record: &Record) -> Result<Outcome, HandleError> {
        let raw = &record.s3.object.key;
        let Some(key) = record.key() else {
            let refusal = Refusal::Undecodable("the key is not URL-encoded UTF-8".into());
            return Ok(Outcome::Refused {
                key: raw.clone(),
                refusal,
            });
        };
        let ignored = |why| {
            Ok(Outcome::Ignored {
                key: key.clone(),
                why,
            })
        };
        if !record.is_object_created() {
            return ignored("not an ObjectCreated event");
        }
        let Some(name) = key.strip_prefix(IMAGES_PREFIX).filter(|n| !n.is_empty()) else {
            return ignored("not under images/");
        };
        let Some(kind) = Kind::of_key(name) else {
            let refusal = Refusal::NotAnImageName;
            return Ok(Outcome::Refused { key, refusal });
        };
        let bucket = &record.s3.bucket.name;
        let Some(original) = self.read(bucket, &key).await? else {
            return ignored("deleted before it was read");
        };
        let config = self.config;
        let made = tokio::task::spawn_blocking(move || make_thumbnail(&original, kind, &config))
            .await
            .map_err(|e| HandleError::Task {
                key: key.clone(),
                message: e.to_string(),
            })?;
        let thumb = match made {
            Ok(thumb) => thumb,
            Err(refusal) => return Ok(Outcome::Refused { key, refusal }),
        };
        let thumbnail = format!("{THUMBS_PREFIX}{name}");
        self.write(bucket, &thumbnail, thumb.bytes, thumb.content_type)
            .await?;
        Ok(Outcome::Written {
            key,
            thumbnail,
            width: thumb.width,
            height: thumb.height,
        })
    }

    /// The object's bytes; `None` when it is gone.
    async fn read(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, HandleError> {
        let failed = |message: String| HandleError::Read {
            bucket: bucket.into(),
            key: key.into(),
            message,
        };
        let object = match self.s3.get_object().bucket(bucket).key(key).send().await {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(failed(DisplayErrorContext(e).to_string())),
        };
        let body = object.body.collect().await;
        let bytes = body.map_err(|e| failed(DisplayErrorContext(e).to_string()))?;
        Ok(Some(bytes.to_vec()))
    }

    async fn write(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), HandleError> {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .cache_control(THUMB_CACHE_CONTROL)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| HandleError::Write {
                bucket: bucket.into(),
                key: key.into(),
                message: DisplayErrorContext(e).to_string(),
            })?;
        Ok(())
    }
}

/// One line per record: INFO for a thumbnail, WARN naming the key for a refusal.
fn log(outcome: &Outcome) {
    match outcome {
        Outcome::Written {
            key,
            thumbnail,
            width,
            height,
        } => tracing::info!(key, thumbnail, width, height, "thumbnail written"),
        Outcome::Refused { key, refusal } => {
            tracing::warn!(key, reason = %refusal, "no thumbnail for {key}: {refusal}")
        }
        Outcome::Ignored { key, why } => tracing::debug!(key, why, "ignored"),
    }
}
