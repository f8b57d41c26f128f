//! A moto_server with one bucket, the handler built on it, and the S3 calls tests make.

use std::sync::Mutex;

use aws_sdk_s3::primitives::ByteStream;
use catup_testkit::Moto;
use serde_json::{json, Value};
use thumbs_fn::{App, Config, Outcome, S3Event};

pub struct World {
    pub moto: Moto,
    pub app: App,
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
}

impl World {
    pub async fn start() -> World {
        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(s3_config);
        let bucket = catup_testkit::unique_name("thumbs");
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        let app = App::new(&sdk, Config::default());
        World {
            moto,
            app,
            s3,
            bucket,
        }
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
    }

    /// The object's bytes and content type, or `None`.
    pub async fn get(&self, key: &str) -> Option<(Vec<u8>, String)> {
        let object = self.s3.get_object().bucket(&self.bucket).key(key);
        let object = object.send().await.ok()?;
        let content_type = object.content_type.clone().unwrap_or_default();
        let bytes = object.body.collect().await.unwrap().to_vec();
        Some((bytes, content_type))
    }

    /// Every key in the bucket, sorted.
    pub async fn keys(&self) -> Vec<String> {
        let listed = self.s3.list_objects_v2().bucket(&self.bucket).send().await;
        let mut keys: Vec<String> = listed
            .unwrap()
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        keys
    }

    /// The handler on a notification of `raw_key` (as S3 encodes it), with what it logged.
    pub async fn notify(&self, raw_key: &str) -> (Vec<Outcome>, Vec<Value>) {
        let event = notification(&self.bucket, "ObjectCreated:Put", raw_key);
        logged(self.app.handle(&event)).await
    }
}

/// A notification as S3 sends it to Lambda (the documented structure, version 2.1).
pub fn notification(bucket: &str, event_name: &str, raw_key: &str) -> S3Event {
    let json = notification_json(bucket, event_name, raw_key);
    serde_json::from_value(json).expect("notification parses")
}

pub fn notification_json(bucket: &str, event_name: &str, raw_key: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-12-06T08:00:00.000Z", "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "thumbs",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": raw_key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                "sequencer": "0055AED6DCD90281E5"}}
    }]})
}

/// Runs the handler with a JSON subscriber on this thread (tests run on a current-thread
/// runtime), so its log lines are this test's alone. Panics when the handler fails: every
/// record here is one the function must handle.
async fn logged<E: std::fmt::Debug>(
    handling: impl std::future::Future<Output = Result<Vec<Outcome>, E>>,
) -> (Vec<Outcome>, Vec<Value>) {
    let path = std::env::temp_dir().join(catup_testkit::unique_name("thumbs-log"));
    let file = std::fs::File::create(&path).unwrap();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_writer(Mutex::new(file))
        .json()
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let outcomes = handling.await.expect("the invocation ends as handled");
    drop(guard);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let lines = text.lines().map(|l| serde_json::from_str(l).unwrap());
    (outcomes, lines.collect())
}
