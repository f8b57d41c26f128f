//! Runtime benchmark of the function: prints numbers, asserts nothing about speed.
//!
//! Run with `scripts/bench-runtime`, which builds the shipped `bootstrap` first. Prints:
//! - microseconds per presigned URL: ours, aws-sdk-s3's presigner, and the course lecture's
//!   Python/boto3 handler, all in this run;
//! - one POST and one GET of 1,000 images, in process, against moto_server's S3;
//! - cold init of the real `bootstrap` (process start to its first poll of the Runtime API),
//!   next to Python importing boto3 and making an S3 client;
//! - the size of the deployment zip of `bootstrap`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use cat_upload_fn::presign::{ObjectMethod, PresignRequest, Presigner, S3Endpoint};
use cat_upload_fn::{App, Config};
use catup_testkit::{test_credentials, Moto};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PRESIGN_OURS: u32 = 100_000;
const PRESIGN_SDK: u32 = 5_000;
const GALLERY_IMAGES: usize = 1_000;
const COLD_STARTS: usize = 15;

#[tokio::main]
async fn main() {
    println!("# lambda-fn runtime benchmark ({})", profile_note());
    presign_per_url().await;
    in_process_requests().await;
    cold_init().await;
    zip_size();
}

fn profile_note() -> &'static str {
    if cfg!(debug_assertions) {
        "DEBUG build: numbers are not representative"
    } else {
        "optimised build"
    }
}

async fn presign_per_url() {
    let creds = test_credentials();
    let time = SystemTime::now();
    let presigner = Presigner::new("us-east-1", S3Endpoint::VirtualHosted);
    let headers = [("content-length", "123456"), ("content-type", "image/png")];
    let key = "images/8235999999999-0b7c5a3e-2f0e-4c77-9a55-3f6f6b5f3c11.png";
    let mut sink = 0usize;
    let start = Instant::now();
    for _ in 0..PRESIGN_OURS {
        let url = presigner.presign(
            &creds,
            &PresignRequest {
                method: ObjectMethod::Put,
                bucket: "cat-upload-images-123456789012-us-east-1",
                key,
                headers: &headers,
                expires_in: 300,
                time,
            },
        );
        sink += url.len();
    }
    let ours = start.elapsed().as_secs_f64() * 1e6 / f64::from(PRESIGN_OURS);

    let sdk = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .build(),
    );
    let start = Instant::now();
    for _ in 0..PRESIGN_SDK {
        let presigned = sdk
            .put_object()
            .bucket("cat-upload-images-123456789012-us-east-1")
            .key(key)
            .content_type("image/png")
            .content_length(123_456)
            .presigned(
                PresigningConfig::builder()
                    .start_time(time)
                    .expires_in(Duration::from_secs(300))
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap();
        sink += presigned.uri().len();
    }
    let sdk_us = start.elapsed().as_secs_f64() * 1e6 / f64::from(PRESIGN_SDK);
    std::hint::black_box(sink);

    println!(
        "presign PUT URL, ours:          {ours:8.2} us/URL ({PRESIGN_OURS} URLs; goal <= 5 us)"
    );
    println!(
        "presign PUT URL, aws-sdk-s3:    {sdk_us:8.2} us/URL ({PRESIGN_SDK} URLs) = {:.1}x ours",
        sdk_us / ours
    );
    match boto3_presign_us() {
        Some(py) => println!(
            "presign GET URL, python boto3:  {py:8.2} us/URL (1000 URLs) = {:.1}x ours",
            py / ours
        ),
        None => println!("presign GET URL, python boto3:  n/a (python3 with boto3 not found)"),
    }
}

/// The course lecture's handler presigns with boto3: the same work in Python, this run.
fn boto3_presign_us() -> Option<f64> {
    let script = r#"
import time, boto3
s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "images/warm.png"}, ExpiresIn=300)
t = time.perf_counter()
for i in range(1000):
    s3.generate_presigned_url("get_object", Params={"Bucket": "cat-upload-images-123456789012-us-east-1", "Key": "images/%d.png" % i}, ExpiresIn=300)
print((time.perf_counter() - t) * 1e6 / 1000)
"#;
    python(script)
}

fn python(script: &str) -> Option<f64> {
    let out = Command::new("python3")
        .args(["-c", script])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

async fn in_process_requests() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = "bench-images";
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    let mut puts = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let s3 = s3.clone();
        puts.spawn(async move {
            for i in (worker..GALLERY_IMAGES).step_by(8) {
                s3.put_object()
                    .bucket(bucket)
                    .key(format!("images/{:013}-bench.png", i))
                    .body(b"png".to_vec().into())
                    .send()
                    .await
                    .unwrap();
            }
        });
    }
    puts.join_all().await;
    let app = App::new(
        &sdk,
        Config {
            images_bucket: bucket.into(),
            url_ttl_seconds: 300,
            max_upload_bytes: 10 * 1024 * 1024,
            max_images: None,
            thumbnails: false,
        },
    )
    .unwrap();

    let post = || {
        http::Request::post("/")
            .body(br#"{"contentType":"image/png","size":123456}"#.to_vec())
            .unwrap()
    };
    let post_us = median_us(200, || async {
        let response = app.handle(post()).await;
        assert_eq!(response.status(), 200);
    })
    .await;
    let get = || http::Request::get("/?limit=1000").body(Vec::new()).unwrap();
    let get_us = median_us(15, || async {
        let response = app.handle(get()).await;
        assert_eq!(response.status(), 200);
    })
    .await;
    let page: serde_json::Value = serde_json::from_str(app.handle(get()).await.body()).unwrap();
    assert_eq!(page["images"].as_array().unwrap().len(), GALLERY_IMAGES);

    // The same GET with the SDK's presigner in place of ours: what the difference buys.
    let listing = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix("images/")
        .max_keys(1000)
        .send()
        .await
        .unwrap();
    let sign_with_sdk_us = median_us(5, || async {
        for object in listing.contents() {
            let presigned = s3
                .get_object()
                .bucket(bucket)
                .key(object.key().unwrap())
                .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
                .await
                .unwrap();
            std::hint::black_box(presigned.uri().len());
        }
    })
    .await;

    println!(
        "POST (presigned PUT), in process: {:8.1} us (median of 200; no S3 call)",
        post_us
    );
    println!(
        "GET 1,000 images, in process:     {:8.1} ms (median of 15; one ListObjectsV2 to moto + 1,000 presigns)",
        get_us / 1e3
    );
    println!(
        "  of which presigning 1,000 URLs with the SDK instead would be {:.1} ms",
        sign_with_sdk_us / 1e3
    );
}

async fn median_us<F, Fut>(runs: usize, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f().await; // warm connections and caches
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f().await;
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn bootstrap_path() -> Option<PathBuf> {
    let path = std::env::var_os("BOOTSTRAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/lambda/bootstrap"
            ))
        });
    path.is_file().then_some(path)
}

/// Process start to the first `GET /runtime/invocation/next`: what Lambda bills as init.
async fn cold_init() {
    let Some(bootstrap) = bootstrap_path() else {
        println!("cold init: n/a (no bootstrap; build it with scripts/bench-runtime)");
        return;
    };
    let mut times = Vec::with_capacity(COLD_STARTS);
    for _ in 0..COLD_STARTS {
        times.push(one_cold_start(&bootstrap).await.as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let ours = times[COLD_STARTS / 2];
    println!("cold init, bootstrap:             {ours:8.2} ms (median of {COLD_STARTS}; process start to first Runtime API poll)");
    // The thumbnail function beside it (scripts/bench-runtime builds it too).
    if let Some(thumbs) = std::env::var_os("THUMBS_BOOTSTRAP").map(PathBuf::from) {
        let mut times = Vec::with_capacity(COLD_STARTS);
        for _ in 0..COLD_STARTS {
            times.push(one_cold_start(&thumbs).await.as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let thumbs_ms = times[COLD_STARTS / 2];
        println!("cold init, thumbs-bootstrap:      {thumbs_ms:8.2} ms (median of {COLD_STARTS}) = {:.2}x the bootstrap's", thumbs_ms / ours);
    }
    let script = r#"
import time
t = time.perf_counter()
import boto3
boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
print((time.perf_counter() - t) * 1e3)
"#;
    match python(script) {
        Some(py) => println!("cold init, python import boto3 + client: {py:8.2} ms = {:.0}x ours (interpreter start not included)", py / ours),
        None => println!("cold init, python boto3: n/a"),
    }
}

async fn one_cold_start(bootstrap: &PathBuf) -> Duration {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = listener.local_addr().unwrap();
    let start = Instant::now();
    let mut child = tokio::process::Command::new(bootstrap)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "cat-upload-api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/cat-upload-api")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("IMAGES_BUCKET", "bench-images")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (mut conn, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("bootstrap polled the Runtime API within 10 s")
        .unwrap();
    let mut buf = [0u8; 1024];
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf).await.unwrap();
        assert!(n > 0, "bootstrap closed before polling");
        head.extend_from_slice(&buf[..n]);
    }
    let elapsed = start.elapsed();
    assert!(
        head.starts_with(b"GET /2018-06-01/runtime/invocation/next"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let _ = conn.shutdown().await;
    let _ = child.kill().await;
    elapsed
}

/// The deployment package: `bootstrap`, mode 0755, deflated.
fn zip_size() {
    let Some(bootstrap) = bootstrap_path() else {
        println!("bootstrap zip: n/a (no bootstrap)");
        return;
    };
    let binary = std::fs::read(&bootstrap).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options).unwrap();
    zip.write_all(&binary).unwrap();
    let zipped = zip.finish().unwrap().into_inner();
    println!(
        "bootstrap: {:.2} MB, zipped {:.2} MB (goal <= 5 MB)",
        binary.len() as f64 / 1e6,
        zipped.len() as f64 / 1e6
    );
}
