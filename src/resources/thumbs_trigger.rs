//! What makes S3 run the thumbnail function (`--thumbnails`): the images bucket's event
//! notification (ObjectCreated under `images/` only, never `thumbs/`: no loop), the function's
//! permission for `s3.amazonaws.com` confined to that bucket and this account, and the retry
//! settings of its asynchronous invocations (a bad file ends as handled; a crash is retried
//! once, not twice, and an event older than an hour is dropped). Other notifications on the
//! bucket are kept as they are.

use std::collections::BTreeSet;

use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, S3KeyFilter,
};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;

use crate::aws::{
    error_code, reason, retry_while_settling, seconds, Aws, Progress, SdkResultExt, Settling,
};
use crate::reconcile::{aspects, Change, Kind, Outcome};
use crate::resource::{Applying, Deleting, Need, Planning, Reading, Resource};
use crate::resource_support::bucket::Changing;
use crate::resource_support::thumbnails::{self, Optional};
use crate::resources::function_url::permissions::{self, Statement};
use crate::stack::Stack;
use crate::stack_resources::{Found, Observed};
use crate::teardown_plan::{Step, TeardownAction};

/// The Id of catup's entry among the bucket's notifications.
pub const NOTIFICATION_ID: &str = "catup-thumbnails";
/// The Sid of the function's permission for S3.
pub const STATEMENT_ID: &str = "catup-s3-invoke";
pub const EVENT: &str = "s3:ObjectCreated:*";
/// The only prefix whose objects trigger the function; it writes under `thumbs/`.
pub const PREFIX: &str = "images/";
const PRINCIPAL: &str = "s3.amazonaws.com";
pub const MAX_RETRY_ATTEMPTS: i32 = 1;
pub const MAX_EVENT_AGE_SECONDS: i32 = 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub bucket: String,
    pub function_name: String,
    pub function_arn: String,
    pub account_id: String,
}

/// catup's notification entry, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub function_arn: String,
    pub events: BTreeSet<String>,
    /// (rule name in lower case, value)
    pub filter: BTreeSet<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actual {
    pub entry: Option<Entry>,
    /// The function's statement of Sid [`STATEMENT_ID`], if any.
    pub permission: Option<Statement>,
    /// (MaximumRetryAttempts, MaximumEventAgeInSeconds), if configured.
    pub retries: Option<(Option<i32>, Option<i32>)>,
}

impl Desired {
    fn entry(&self) -> Entry {
        Entry {
            function_arn: self.function_arn.clone(),
            events: BTreeSet::from([EVENT.to_owned()]),
            filter: BTreeSet::from([("prefix".to_owned(), PREFIX.to_owned())]),
        }
    }

    fn source_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.bucket)
    }

    fn statement(&self) -> Statement {
        Statement {
            sid: STATEMENT_ID.to_owned(),
            action: "lambda:InvokeFunction".to_owned(),
            principal: serde_json::json!({ "Service": PRINCIPAL }).to_string(),
            conditions: BTreeSet::from([
                ("ArnLike".into(), "AWS:SourceArn".into(), self.source_arn()),
                (
                    "StringEquals".into(),
                    "AWS:SourceAccount".into(),
                    self.account_id.clone(),
                ),
            ]),
        }
    }
}

pub fn desired(stack: &Stack) -> Desired {
    Desired {
        bucket: stack.images_bucket.clone(),
        function_name: stack.thumbs.function_name.clone(),
        function_arn: stack.thumbs_function_arn(),
        account_id: stack.account_id.clone(),
    }
}

/// The bucket's notifications (`None`: no such bucket).
async fn read_notifications(
    aws: &Aws,
    bucket: &str,
) -> anyhow::Result<Option<NotificationConfiguration>> {
    let out = aws
        .s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await;
    if out.as_ref().is_err_and(is_emulators_empty_answer) {
        return Ok(Some(NotificationConfiguration::builder().build()));
    }
    let out = out.or_absent(|| format!("read event notifications of bucket {bucket}"))?;
    Ok(out.map(|o| {
        NotificationConfiguration::builder()
            .set_lambda_function_configurations(o.lambda_function_configurations)
            .set_queue_configurations(o.queue_configurations)
            .set_topic_configurations(o.topic_configurations)
            .set_event_bridge_configuration(o.event_bridge_configuration)
            .build()
    }))
}

/// moto answers a bucket without notifications with an empty `<GetBucketNotificationResponse/>`
/// where S3 sends an empty `<NotificationConfiguration/>`, and the SDK cannot read the former
/// (`catup dev`, the tests). That answer exactly is no notification; anything else it cannot
/// read stays an error, so that a configuration is never rewritten from a misread one.
fn is_emulators_empty_answer<E>(e: &SdkError<E, HttpResponse>) -> bool {
    e.raw_response().is_some_and(|r| {
        let body = r.body().bytes().map(String::from_utf8_lossy);
        r.status().as_u16() == 200
            && body.is_some_and(|b| {
                let b = b.trim();
                b.contains("<GetBucketNotificationResponse")
                    && b.ends_with("/>")
                    && !b.contains("Configuration")
            })
    })
}

fn entry_of(config: &NotificationConfiguration) -> Option<Entry> {
    let ours = config
        .lambda_function_configurations()
        .iter()
        .find(|c| c.id() == Some(NOTIFICATION_ID))?;
    let filter = ours
        .filter()
        .and_then(|f| f.key())
        .map(|k| k.filter_rules())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let name = r.name().map(|n| n.as_str().to_ascii_lowercase());
            (
                name.unwrap_or_default(),
                r.value().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Some(Entry {
        function_arn: ours.lambda_function_arn().to_owned(),
        events: ours
            .events()
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect(),
        filter,
    })
}

async fn read_retries(
    aws: &Aws,
    function: &str,
) -> anyhow::Result<Option<(Option<i32>, Option<i32>)>> {
    let out = aws
        .lambda
        .get_function_event_invoke_config()
        .function_name(function)
        .send()
        .await
        .or_absent(|| format!("read retry settings of function {function}"))?;
    Ok(out.map(|c| (c.maximum_retry_attempts, c.maximum_event_age_in_seconds)))
}

/// The whole trigger; `None` when none of it exists.
pub async fn describe(aws: &Aws, desired: &Desired) -> anyhow::Result<Option<Actual>> {
    let (notifications, statements, retries) = tokio::try_join!(
        read_notifications(aws, &desired.bucket),
        permissions::read(aws, &desired.function_name),
        read_retries(aws, &desired.function_name),
    )?;
    let actual = Actual {
        entry: notifications.as_ref().and_then(entry_of),
        permission: statements.into_iter().find(|s| s.sid == STATEMENT_ID),
        retries,
    };
    Ok((actual != Actual::default()).then_some(actual))
}

aspects! {
    /// What can differ on the trigger, in the order apply changes it.
    Aspect {
        Permission => "S3's invoke permission",
        Retries => "retry settings",
        Notification => "bucket notification",
    }
}

pub fn diff(desired: &Desired, actual: Option<&Actual>) -> Change<Aspect> {
    let Some(actual) = actual else {
        return Change::Create;
    };
    let retries = Some((Some(MAX_RETRY_ATTEMPTS), Some(MAX_EVENT_AGE_SECONDS)));
    Change::from_checks([
        (
            Aspect::Permission,
            actual.permission.as_ref() != Some(&desired.statement()),
        ),
        (Aspect::Retries, actual.retries != retries),
        (
            Aspect::Notification,
            actual.entry.as_ref() != Some(&desired.entry()),
        ),
    ])
}

/// S3 checks that it may invoke the function when the notification is put: an answer that it
/// cannot validate the destination is the permission not visible to S3 yet.
const UNVALIDATED: &str = "Unable to validate the following destination configurations";
const PERMISSION_VISIBLE: Settling = Settling::up_to(
    std::time::Duration::from_secs(60),
    std::time::Duration::from_secs(8),
);

pub async fn apply(
    aws: &Aws,
    desired: &Desired,
    actual: Option<&Actual>,
    change: &Change<Aspect>,
    progress: Progress<'_>,
) -> anyhow::Result<()> {
    let function = desired.function_name.as_str();
    if change.differs(Aspect::Permission) {
        if actual.is_some_and(|a| a.permission.is_some()) {
            permissions::remove(aws, function, STATEMENT_ID).await?;
        }
        aws.lambda
            .add_permission()
            .function_name(function)
            .statement_id(STATEMENT_ID)
            .action("lambda:InvokeFunction")
            .principal(PRINCIPAL)
            .source_arn(desired.source_arn())
            .source_account(&desired.account_id)
            .send()
            .await
            .or_code(&["ResourceConflictException"], || {
                format!("allow S3 to invoke function {function}")
            })?;
    }
    if change.differs(Aspect::Retries) {
        aws.lambda
            .put_function_event_invoke_config()
            .function_name(function)
            .maximum_retry_attempts(MAX_RETRY_ATTEMPTS)
            .maximum_event_age_in_seconds(MAX_EVENT_AGE_SECONDS)
            .send()
            .await
            .or_fail(|| format!("set retry settings of function {function}"))?;
    }
    if change.differs(Aspect::Notification) {
        put_entry(aws, desired, Some(desired.entry()), progress).await?;
    }
    Ok(())
}

/// Replaces catup's entry among the bucket's notifications (`None`: removes it), read just
/// before: someone else's entries stay as they are.
async fn put_entry(
    aws: &Aws,
    desired: &Desired,
    entry: Option<Entry>,
    progress: Progress<'_>,
) -> anyhow::Result<()> {
    let bucket = desired.bucket.as_str();
    let Some(now) = read_notifications(aws, bucket).await? else {
        return Ok(());
    };
    let mut lambdas: Vec<LambdaFunctionConfiguration> = now
        .lambda_function_configurations()
        .iter()
        .filter(|c| c.id() != Some(NOTIFICATION_ID))
        .cloned()
        .collect();
    let removing = entry.is_none();
    if removing && lambdas.len() == now.lambda_function_configurations().len() {
        return Ok(());
    }
    if let Some(entry) = entry {
        lambdas.push(configuration(&entry)?);
    }
    let config = NotificationConfiguration::builder()
        .set_lambda_function_configurations(Some(lambdas))
        .set_queue_configurations(Some(now.queue_configurations().to_vec()))
        .set_topic_configurations(Some(now.topic_configurations().to_vec()))
        .set_event_bridge_configuration(now.event_bridge_configuration().cloned())
        .build();
    let changing = Changing::new(aws, bucket, false, progress);
    retry_while_settling(
        PERMISSION_VISIBLE,
        // Only that answer: another InvalidArgument (a notification of someone else's on an
        // overlapping prefix and event) is final and said as S3 says it.
        |e| !removing && error_code(e) == Some("InvalidArgument") && reason(e).contains(UNVALIDATED),
        |delay, attempt| {
            progress(format!(
                "bucket {bucket}: S3 cannot validate the thumbnail function as a destination yet (its permission is propagating), retrying in {} (attempt {attempt})",
                seconds(delay)
            ))
        },
        // Each attempt also waits out a bucket busy with another change (OperationAborted),
        // as every configuration call of the buckets does.
        || {
            changing.call(|| {
                aws.s3
                    .put_bucket_notification_configuration()
                    .bucket(bucket)
                    .notification_configuration(config.clone())
                    .send()
            })
        },
    )
    .await
    .or_absent(|| format!("set event notifications of bucket {bucket}"))?;
    Ok(())
}

fn configuration(entry: &Entry) -> anyhow::Result<LambdaFunctionConfiguration> {
    let mut rules = S3KeyFilter::builder();
    for (name, value) in &entry.filter {
        rules = rules.filter_rules(
            FilterRule::builder()
                .name(FilterRuleName::from(name.as_str()))
                .value(value)
                .build(),
        );
    }
    let mut config = LambdaFunctionConfiguration::builder()
        .id(NOTIFICATION_ID)
        .lambda_function_arn(&entry.function_arn)
        .filter(
            NotificationConfigurationFilter::builder()
                .key(rules.build())
                .build(),
        );
    for event in &entry.events {
        config = config.events(Event::from(event.as_str()));
    }
    Ok(config.build()?)
}

/// Removes the trigger: the notification first (no upload invokes the function after), then
/// the permission. Its retry settings go with the function.
pub async fn remove(aws: &Aws, desired: &Desired, progress: Progress<'_>) -> anyhow::Result<()> {
    put_entry(aws, desired, None, progress).await?;
    permissions::remove(aws, &desired.function_name, STATEMENT_ID).await
}

fn name_of(stack: &Stack) -> String {
    format!(
        "{} {PREFIX} -> {}",
        stack.images_bucket, stack.thumbs.function_name
    )
}

pub struct ThumbsTrigger;

impl Resource for ThumbsTrigger {
    const KIND: Kind = Kind::ThumbsTrigger;
    /// S3 validates the destination: the function must exist, and the bucket.
    const NEEDS: &'static [Need] = &[
        Need::Done(Kind::ThumbsFunction),
        Need::Ready(Kind::ImagesBucket),
    ];
    type Desired = Desired;
    type Actual = Actual;
    type Aspect = Optional<Aspect>;

    fn desired(stack: &Stack) -> anyhow::Result<Desired> {
        Ok(desired(stack))
    }

    async fn describe(r: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        let desired = desired(r.stack);
        thumbnails::read_if_worth(r, describe(r.aws, &desired)).await
    }

    fn diff(plan: &Planning<'_>) -> Change<Optional<Aspect>> {
        let wanted = thumbnails::wanted(plan.desired, plan.observed);
        let actual = plan.observed.thumbs_trigger.as_ref();
        thumbnails::diff(wanted, actual.is_some(), || {
            diff(&plan.desired.thumbs_trigger, actual)
        })
    }

    fn name(stack: &Stack, _: &Observed) -> String {
        name_of(stack)
    }

    fn listed(desired: &crate::stack_resources::Desired, observed: &Observed) -> bool {
        thumbnails::is_listed(desired, observed, observed.thumbs_trigger.is_some())
    }

    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        let desired = &a.desired.thumbs_trigger;
        let progress = |message: String| a.progress(message);
        match thumbnails::own(&a.changes.thumbs_trigger) {
            Some(change) => {
                let actual = a.observed.thumbs_trigger.as_ref();
                apply(a.aws, desired, actual, &change, &progress).await
            }
            None => remove(a.aws, desired, &progress).await,
        }
    }

    /// Teardown reads the notification alone: the permission and the retry settings go with
    /// the function.
    type Found = bool;

    async fn find(r: &Reading<'_>) -> anyhow::Result<bool> {
        let bucket = &r.stack.images_bucket;
        let notifications = read_notifications(r.aws, bucket).await?;
        Ok(notifications.as_ref().and_then(entry_of).is_some())
    }

    /// None when there is none: an optional resource is not reported absent.
    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>> {
        Ok(match found.thumbs_trigger {
            false => Vec::new(),
            true => vec![Step::new(
                Kind::ThumbsTrigger,
                &name_of(stack),
                TeardownAction::Delete,
            )],
        })
    }

    async fn delete(
        d: &Deleting<'_>,
        gone: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        let Some(step) = d.plan.steps_of(Kind::ThumbsTrigger).next() else {
            return Ok(());
        };
        if !gone.await {
            return Ok(());
        }
        let progress = |message: String| d.progress(message);
        put_entry(d.aws, &desired(d.stack), None, &progress).await?;
        d.reporter
            .resource(step.kind, &step.name, &Outcome::Deleted);
        Ok(())
    }
}
