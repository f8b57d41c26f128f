//! The fields of S3's event notification the function reads; everything else is ignored.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>

use percent_encoding::percent_decode_str;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct S3Event {
    #[serde(rename = "Records", default)]
    pub records: Vec<Record>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    pub s3: Entity,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Entity {
    pub bucket: Bucket,
    pub object: Object,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Bucket {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Object {
    /// As S3 sends it: URL-encoded, `+` for a space (see [`Record::key`]).
    pub key: String,
}

impl Record {
    /// `ObjectCreated:Put`, `:Post`, `:Copy`, `:CompleteMultipartUpload`: the ones that make
    /// a thumbnail.
    pub fn is_object_created(&self) -> bool {
        self.event_name.starts_with("ObjectCreated:")
    }

    /// The object's key, decoded; `None` when it does not decode to UTF-8.
    pub fn key(&self) -> Option<String> {
        decode_key(&self.s3.object.key)
    }
}

/// S3 sends keys form-encoded: `+` is a space and a real `+` arrives as `%2B`.
pub fn decode_key(raw: &str) -> Option<String> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|key| key.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_as_s3_encodes_them() {
        let cases = [
            ("images/1.png", "images/1.png"),
            ("images%2F1.png", "images/1.png"),
            ("images/my+cat.png", "images/my cat.png"),
            ("images/a%2Bb.png", "images/a+b.png"),
            ("images/ch%C3%A2t+%F0%9F%90%88.jpg", "images/chât 🐈.jpg"),
        ];
        for (raw, key) in cases {
            assert_eq!(decode_key(raw).as_deref(), Some(key), "{raw}");
        }
        assert_eq!(decode_key("images/%FF.png"), None);
    }

    #[test]
    fn a_real_notification_parses() {
        let json = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",
            "awsRegion":"us-east-1","eventTime":"2026-12-06T08:00:00.000Z",
            "eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AWS:X"},
            "s3":{"s3SchemaVersion":"1.0","configurationId":"thumbs",
            "bucket":{"name":"cat-images","arn":"arn:aws:s3:::cat-images"},
            "object":{"key":"images/my+cat.png","size":1024,"eTag":"e","sequencer":"0A"}}}]}"#;
        let event: S3Event = serde_json::from_str(json).unwrap();
        let record = &event.records[0];
        assert!(record.is_object_created());
        assert_eq!(record.s3.bucket.name, "cat-images");
        assert_eq!(record.key().as_deref(), Some("images/my cat.png"));
    }
}
