//! The real `bootstrap` under the testkit's Lambda Runtime API, against moto: it reads the S3
//! notification Lambda hands it, writes the thumbnail, and ends a refused image as handled
//! with one WARN JSON line on stdout (what CloudWatch gets).

use std::process::Stdio;
use std::time::Duration;

use catup_testkit::runtime_api::{Answer, RuntimeApi};
use image::ImageFormat;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

use crate::fixtures::{marked_as, png_declaring};
use crate::world::{notification_json, World};

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_writes_thumbnails_and_answers_a_bomb_as_handled() {
    let world = World::start().await;
    let png = marked_as(800, 200, ImageFormat::Png);
    world.put("images/wide.png", png, "image/png").await;
    let bomb = png_declaring(100_000, 100_000);
    world.put("images/bomb.png", bomb, "image/png").await;
    let events = ["images/wide.png", "images/bomb.png"]
        .map(|key| notification_json(&world.bucket, "ObjectCreated:Put", key));
    let mut api = RuntimeApi::start(events.to_vec()).await;
    // What Lambda's provided.al2023 sets, beside moto's endpoint and credentials.
    let lambda = [
        ("AWS_LAMBDA_RUNTIME_API", api.address.as_str()),
        ("AWS_LAMBDA_FUNCTION_NAME", "cat-upload-thumbs"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    ];
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_thumbs-bootstrap"))
        .env_clear()
        .envs(world.moto.env())
        .envs(lambda)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    api.idle(Duration::from_secs(30)).await;
    let answers = [api.answer(SECOND).await, api.answer(SECOND).await];
    for (answer, thumbnails) in answers.into_iter().zip([1, 0]) {
        match answer {
            Answer::Response { body, .. } => assert_eq!(body, json!({ "thumbnails": thumbnails })),
            Answer::Error { path, body } => panic!("an error at {path}: {body}"),
        }
    }
    child.kill().await.unwrap();
    let mut stdout = String::new();
    let mut out = child.stdout.take().unwrap();
    out.read_to_string(&mut stdout).await.unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let warned: Vec<&Value> = lines.iter().filter(|l| l["level"] == "WARN").collect();
    assert_eq!(warned.len(), 1, "{stdout}");
    assert_eq!(warned[0]["fields"]["key"], "images/bomb.png");
    let (_, content_type) = world.get("thumbs/wide.png").await.expect("written");
    assert_eq!(content_type, "image/png");
    assert_eq!(world.get("thumbs/bomb.png").await, None);
}
