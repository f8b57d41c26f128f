//! The Lambda entry point: build the clients once, then serve Function URL events.

use aws_config::BehaviorVersion;
use cat_upload_fn::{logging, App, Config};
use lambda_http::{service_fn, Error};
use tracing_subscriber::util::SubscriberInitExt;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = Config::from_env()?;
    let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let app = App::new(&sdk, config)?;
    let app = &app;
    lambda_http::run(service_fn(move |request| async move {
        Ok::<_, std::convert::Infallible>(app.handle(request).await)
    }))
    .await
}

/// JSON lines in Lambda (CloudWatch parses them), plain text elsewhere.
fn init_tracing() {
    let filter = logging::filter_from_env();
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        logging::json_subscriber(filter, std::io::stdout).init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .init();
    }
}
