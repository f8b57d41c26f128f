//! `catup dev`'s thumbnails: moto runs no Lambda code, so the images bucket notifies a local
//! SQS queue of each upload under `images/` (moto delivers S3 events to SQS), and dev drains
//! the queue into the thumbnail function's own handler, in process, as Lambda would run it.

use anyhow::Context as _;
use aws_config::SdkConfig;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::aws::Aws;

/// How long one receive waits for a message: the latency of a thumbnail in dev.
const RECEIVE_WAIT_SECONDS: i32 = 1;

/// Wires the images bucket to a queue of its own and drains it until the task is dropped.
pub async fn serve(
    aws: &Aws,
    config: &SdkConfig,
    images_bucket: &str,
    stack: &str,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let sqs = aws_sdk_sqs::Client::new(config);
    let queue = format!("{stack}-thumbs");
    let url = sqs
        .create_queue()
        .queue_name(&queue)
        .send()
        .await
        .with_context(|| format!("create the emulator's queue {queue}"))?
        .queue_url
        .context("the emulator created a queue without a URL")?;
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .with_context(|| format!("read the emulator's queue {queue}"))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .context("the emulator's queue has no ARN")?;
    notify_queue(&aws.s3, images_bucket, &arn).await?;
    let thumbnails = thumbs_fn::Config::from_lookup(|_| None)?;
    let app = thumbs_fn::App::new(config, thumbnails);
    Ok(tokio::spawn(drain(sqs, url, app)))
}

/// The thumbnail function's trigger, as it is on AWS: ObjectCreated under `images/` only.
async fn notify_queue(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    queue_arn: &str,
) -> anyhow::Result<()> {
    let prefix = FilterRule::builder()
        .name(FilterRuleName::Prefix)
        .value("images/")
        .build();
    let queue = QueueConfiguration::builder()
        .queue_arn(queue_arn)
        .events(Event::from("s3:ObjectCreated:*"))
        .filter(
            NotificationConfigurationFilter::builder()
                .key(S3KeyFilter::builder().filter_rules(prefix).build())
                .build(),
        )
        .build()?;
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(queue)
                .build(),
        )
        .send()
        .await
        .with_context(|| format!("notify the emulator's queue of uploads to {bucket}"))?;
    Ok(())
}

async fn drain(sqs: aws_sdk_sqs::Client, url: String, app: thumbs_fn::App) {
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(RECEIVE_WAIT_SECONDS)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "thumbnail queue not read");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        for message in messages {
            // S3's own test event (sent when the notification is set) is no upload.
            let body = message.body().unwrap_or_default();
            if let Ok(event) = serde_json::from_str::<thumbs_fn::S3Event>(body) {
                if let Err(e) = app.handle(&event).await {
                    tracing::warn!(error = %e, "thumbnail not made");
                }
            }
            if let Some(receipt) = message.receipt_handle() {
                let _ = sqs
                    .delete_message()
                    .queue_url(&url)
                    .receipt_handle(receipt)
                    .send()
                    .await;
            }
        }
    }
}
