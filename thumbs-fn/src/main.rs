//! The Lambda entry point: build the S3 client once, then handle S3 event notifications.

use aws_config::BehaviorVersion;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};
use thumbs_fn::{App, Config, S3Event};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON lines in Lambda (CloudWatch keeps each as one event), at Lambda's log level.
    let filter = EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    lines.json().with_current_span(false).init();
    let config = Config::from_env()?;
    let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let app = &App::new(&sdk, config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        let outcomes = app.handle(&event.payload).await?;
        let thumbnails = outcomes.iter().filter(|o| o.is_written()).count();
        Ok::<Value, Error>(json!({ "thumbnails": thumbnails }))
    }))
    .await
}
