//! Our presigner must produce exactly the URL aws-sdk-s3's presigner produces for the same
//! credentials, region, endpoint, key, headers, expiry and clock, so that switching off the
//! SDK's pipeline for speed changes nothing S3 sees.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_s3::presigning::PresigningConfig;
use cat_upload_fn::presign::{ObjectMethod, PresignRequest, Presigner, S3Endpoint};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const ENDPOINTS: [Option<&str>; 3] = [
    None,
    Some("http://127.0.0.1:4566"),
    Some("http://localhost:5000"),
];
const KEYS: [&str; 7] = [
    "images/8235999999999-0b7c5a3e-2f0e-4c77-9a55-3f6f6b5f3c11.png",
    "images/0000000000001-ffffffff-ffff-4fff-bfff-ffffffffffff.webp",
    "images/with space.jpg",
    "images/plus+equals=amp&.gif",
    "images/ünïcødé/猫.png",
    "images/tilde~dash-under_score.dot.jpg",
    "images/a:b,c;d@e(f)!g'h*.png",
];
const TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];
const SIZES: [Option<i64>; 4] = [None, Some(1), Some(123_456), Some(10 * 1024 * 1024)];
const EXPIRIES: [u64; 3] = [1, 300, 900];
const TOKENS: [Option<&str>; 2] = [
    None,
    Some("FwoGZXIvYXdzEJr//////////wEaDOx+/token=with/slashes+plus=="),
];

fn times() -> [SystemTime; 4] {
    [
        UNIX_EPOCH + Duration::from_secs(1_369_353_600), // 2013-05-24 00:00:00
        UNIX_EPOCH + Duration::from_secs(1_795_996_799), // a second before midnight
        UNIX_EPOCH + Duration::from_secs(1_795_996_800), // midnight: a new signing day
        UNIX_EPOCH + Duration::from_millis(1_764_000_000_123), // sub-second part is dropped
    ]
}

fn credentials(token: Option<&str>) -> Credentials {
    Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        token.map(str::to_owned),
        None,
        "test",
    )
}

fn sdk_client(region: &str, endpoint: Option<&str>, creds: Credentials) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(creds)
        .force_path_style(endpoint.is_some());
    let config = match endpoint {
        Some(url) => config.endpoint_url(url),
        None => config,
    }
    .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn ours(region: &str, endpoint: Option<&str>) -> Presigner {
    let endpoint = endpoint.map_or(S3Endpoint::VirtualHosted, |e| {
        S3Endpoint::path_style(e).unwrap()
    });
    Presigner::new(region, endpoint)
}

struct Case {
    region: &'static str,
    endpoint: Option<&'static str>,
    key: &'static str,
    content_type: &'static str,
    size: Option<i64>,
    expires: u64,
    time: SystemTime,
    token: Option<&'static str>,
}

impl Case {
    fn presigning_config(&self) -> PresigningConfig {
        PresigningConfig::builder()
            .start_time(self.time)
            .expires_in(Duration::from_secs(self.expires))
            .build()
            .unwrap()
    }
}

/// A deterministic spread over every dimension (a full cartesian product is 36k cases).
fn cases() -> Vec<Case> {
    let times = times();
    (0..600usize)
        .map(|i| Case {
            region: REGIONS[i % 3],
            endpoint: ENDPOINTS[(i / 3) % 3],
            key: KEYS[(i * 5 + i / 7) % KEYS.len()],
            content_type: TYPES[(i / 2) % 4],
            size: SIZES[(i / 9) % 4],
            expires: EXPIRIES[(i / 4) % 3],
            time: times[(i / 11) % 4],
            token: TOKENS[(i / 5) % 2],
        })
        .collect()
}

#[tokio::test]
async fn presigned_put_urls_are_byte_identical_to_the_sdk() {
    let cases = cases();
    for case in &cases {
        let creds = credentials(case.token);
        let sdk = sdk_client(case.region, case.endpoint, creds.clone())
            .put_object()
            .bucket("cat-upload-images-123456789012-us-east-1")
            .key(case.key)
            .content_type(case.content_type)
            .set_content_length(case.size)
            .presigned(case.presigning_config())
            .await
            .unwrap();
        let length = case.size.map(|s| s.to_string());
        let mut headers = Vec::new();
        if let Some(length) = &length {
            headers.push(("content-length", length.as_str()));
        }
        headers.push(("content-type", case.content_type));
        let url = ours(case.region, case.endpoint).presign(
            &creds,
            &PresignRequest {
                method: ObjectMethod::Put,
                bucket: "cat-upload-images-123456789012-us-east-1",
                key: case.key,
                headers: &headers,
                expires_in: case.expires as u32,
                time: case.time,
            },
        );
        assert_eq!(
            url,
            sdk.uri(),
            "key {:?} region {} endpoint {:?}",
            case.key,
            case.region,
            case.endpoint
        );
        // The headers the client must send are the ones we signed.
        let mut sdk_headers: Vec<(String, String)> = sdk
            .headers()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
            .collect();
        sdk_headers.sort();
        let ours: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(ours, sdk_headers);
    }
    assert_eq!(cases.len(), 600);
}

#[tokio::test]
async fn presigned_get_urls_are_byte_identical_to_the_sdk() {
    for case in cases() {
        let creds = credentials(case.token);
        let sdk = sdk_client(case.region, case.endpoint, creds.clone())
            .get_object()
            .bucket("imgs-bucket")
            .key(case.key)
            .presigned(case.presigning_config())
            .await
            .unwrap();
        let url = ours(case.region, case.endpoint).presign(
            &creds,
            &PresignRequest {
                method: ObjectMethod::Get,
                bucket: "imgs-bucket",
                key: case.key,
                headers: &[],
                expires_in: case.expires as u32,
                time: case.time,
            },
        );
        assert_eq!(url, sdk.uri(), "key {:?}", case.key);
        assert_eq!(sdk.headers().count(), 0);
    }
}
