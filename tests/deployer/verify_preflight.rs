//! `catup verify` sends S3 the CORS preflight a browser sends before its upload (moto answers
//! it as S3 does: 200 for an allowed origin, 403 otherwise), and waits briefly for a fresh
//! deploy's settings to take effect instead of failing at once.

use aws_sdk_s3::types::{CorsConfiguration, CorsRule};

use crate::dev::{checks, Dev};

const PREFLIGHT: &str = "S3 allows the upload's CORS preflight";

async fn s3_of(dev: &Dev) -> aws_sdk_s3::Client {
    let config = catup_testkit::sdk_config_at(dev.url("endpoint_url"), "us-east-1").await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

/// The images bucket's CORS as it is, and a copy that allows another origin only.
async fn cors_and_foreign(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> (CorsConfiguration, CorsConfiguration) {
    let rules = s3
        .get_bucket_cors()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .cors_rules;
    let rules = rules.unwrap();
    let foreign: Vec<CorsRule> = rules
        .iter()
        .map(|r| {
            CorsRule::builder()
                .set_allowed_methods(Some(r.allowed_methods().to_vec()))
                .set_allowed_headers(Some(r.allowed_headers().to_vec()))
                .allowed_origins("https://elsewhere.example")
                .set_max_age_seconds(r.max_age_seconds())
                .build()
                .unwrap()
        })
        .collect();
    let config = |rules| {
        CorsConfiguration::builder()
            .set_cors_rules(Some(rules))
            .build()
            .unwrap()
    };
    (config(rules), config(foreign))
}

async fn put_cors(s3: &aws_sdk_s3::Client, bucket: &str, cors: CorsConfiguration) {
    s3.put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(cors)
        .send()
        .await
        .unwrap();
}

fn scaled() -> [(&'static str, String); 1] {
    // A hundredth of the 30 s a fresh deploy gets: 0.3 s.
    [("CATUP_SETTLE_SCALE", "0.01".into())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_fails_when_s3_refuses_the_browser_s_upload_preflight() {
    let dev = Dev::start(&catup_testkit::unique_name("p"), None).unwrap();
    let s3 = s3_of(&dev).await;
    let bucket = dev.url("images_bucket").to_owned();
    let (_, foreign) = cors_and_foreign(&s3, &bucket).await;
    put_cors(&s3, &bucket, foreign).await;

    let run = dev.verify_with(&scaled());
    assert_eq!(run.code, 1, "{}", run.stderr);
    let results = checks(&run.json());
    assert!(
        results.contains(&(PREFLIGHT.to_owned(), false)),
        "{results:?}"
    );
    assert!(
        !results
            .iter()
            .any(|(name, _)| name == "PUT the image to the presigned URL"),
        "no upload after a refused preflight: {results:?}"
    );
    assert!(run.stderr.contains("verify: S3 allows the upload's CORS preflight: not yet (the images bucket's preflight answered 403"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_waits_for_a_fresh_deploy_s_cors_to_take_effect() {
    let dev = Dev::start(&catup_testkit::unique_name("p"), None).unwrap();
    let s3 = s3_of(&dev).await;
    let bucket = dev.url("images_bucket").to_owned();
    let (ours, foreign) = cors_and_foreign(&s3, &bucket).await;
    put_cors(&s3, &bucket, foreign).await;

    // The CORS configuration "takes effect" a second after verify starts.
    let verify = std::thread::scope(|scope| {
        let running = scope.spawn(|| dev.verify_with(&[("CATUP_SETTLE_SCALE", "0.1".into())]));
        std::thread::sleep(std::time::Duration::from_secs(1));
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(put_cors(&s3, &bucket, ours))
        });
        running.join().unwrap()
    });
    let verify = verify.ok();
    assert_eq!(verify.json()["passed"], true, "{}", verify.stdout);
    assert!(
        verify
            .stderr
            .contains("verify: S3 allows the upload's CORS preflight: not yet"),
        "{}",
        verify.stderr
    );
}
