//! The Lambda function: created from the zip, then updated only where it differs (code by
//! SHA-256, configuration field by field), waiting for Lambda between steps so that no call
//! meets a ResourceConflictException.

use std::collections::BTreeMap;

use anyhow::bail;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, LastUpdateStatus, Runtime, State,
};

use crate::aws::{error_code, Aws, Progress, SdkResultExt};
use crate::package::Package;
use crate::reconcile::{aspects, Change, Foreign, Kind, Outcome, Ownership};
use crate::resource::{Applying, Deleting, Need, Planning, Reading, Resource};
use crate::resource_support::{remembered, thumbnails};
use crate::stack::{Stack, STACK_TAG};
use crate::stack_resources::Found;
use crate::stack_resources::Observed;
use crate::teardown_plan::{owned, Step, TeardownAction};
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::SdkError;
use aws_sdk_lambda::operation::create_function::CreateFunctionError;

pub mod concurrency;
mod settle;
pub use settle::RoleOrigin;
use settle::{failure, wait_until_applied, wait_until_settled, RolePropagation};

pub const RUNTIME: &str = "provided.al2023";
pub const HANDLER: &str = "bootstrap";
pub const ARCHITECTURE: &str = "x86_64";
pub const MEMORY_MB: i32 = 128;
pub const TIMEOUT_SECONDS: i32 = 10;
/// What Lambda accepts of any function: memory in MB, timeout in seconds (i64: clap's ranges).
pub const MEMORY_MB_RANGE: std::ops::RangeInclusive<i64> = 128..=10240;
pub const TIMEOUT_SECONDS_RANGE: std::ops::RangeInclusive<i64> = 1..=900;

/// The configuration fields catup manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub runtime: String,
    pub handler: String,
    pub role: String,
    pub memory_mb: i32,
    pub timeout_seconds: i32,
    pub environment: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub arn: String,
    pub stack: String,
    pub settings: Settings,
    /// The names given instead of the derived ones, kept in the function's tags.
    pub remembered: BTreeMap<String, String>,
    /// `--max-images`: the cap on the gallery, in the function's MAX_IMAGES.
    pub max_images: MaxImages,
    /// `--concurrency`: the function's reserved concurrency.
    pub concurrency: concurrency::Reservation,
    /// `--thumbnails` / `--no-thumbnails`, in the function's THUMBNAILS (none: as it is).
    pub thumbnails: Option<bool>,
}

/// The variable the upload function reads its cap from.
pub const MAX_IMAGES_VAR: &str = "MAX_IMAGES";

/// What `--max-images` asks of the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaxImages {
    /// No flag: the cap the function has stays (the variable is what catup remembers).
    #[default]
    AsItIs,
    Cap(u32),
    /// `--max-images 0`: no cap.
    None,
}

impl MaxImages {
    pub fn from_flag(flag: Option<u32>) -> MaxImages {
        match flag {
            None => MaxImages::AsItIs,
            Some(0) => MaxImages::None,
            Some(n) => MaxImages::Cap(n),
        }
    }
}

/// `desired` with the cap and the thumbnails resolved against what the function has: the
/// flags', or (no flag) the function's own.
pub fn with_cap(desired: &Desired, actual: Option<&Actual>) -> Desired {
    let current = actual.and_then(|a| a.settings.environment.get(MAX_IMAGES_VAR));
    let cap = match desired.max_images {
        MaxImages::AsItIs => current.cloned(),
        MaxImages::Cap(n) => Some(n.to_string()),
        MaxImages::None => None,
    };
    let mut resolved = desired.clone();
    let environment = &mut resolved.settings.environment;
    if let Some(cap) = cap {
        environment.insert(MAX_IMAGES_VAR.to_owned(), cap);
    }
    let thumbnails = desired
        .thumbnails
        .unwrap_or_else(|| thumbnails::remembered(actual));
    if thumbnails {
        environment.insert(thumbnails::VAR.to_owned(), "1".to_owned());
    }
    resolved
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actual {
    pub settings: Settings,
    pub architectures: Vec<String>,
    pub code_sha256: String,
    pub stack_tag: Option<String>,
    /// Reserved concurrency; 0 disables the function (catup sets none).
    pub reserved_concurrency: Option<i32>,
    pub remembered: BTreeMap<String, String>,
    /// Lambda's reason when the function's state or its last update is `Failed`: deploy
    /// applies code and configuration again, status reports it.
    pub failed: Option<String>,
    /// Its last change (seconds since 1970), against its role's creation.
    pub last_modified: Option<i64>,
}

/// A call that carries the zip gets the time to send it (base64 in JSON: 4/3 of its size).
fn uploading(package: &Package) -> aws_sdk_lambda::config::Builder {
    let sent = package.zip.len() / 3 * 4;
    aws_sdk_lambda::config::Builder::default().timeout_config(crate::aws::upload_timeouts(sent))
}

pub fn desired(stack: &Stack) -> Desired {
    let size = stack.overrides.sizes.upload;
    Desired {
        name: stack.function_name.clone(),
        arn: stack.function_arn(),
        remembered: remembered::tags_of(&stack.overrides),
        max_images: MaxImages::from_flag(stack.overrides.max_images),
        concurrency: concurrency::Reservation::from_flag(stack.overrides.concurrency),
        thumbnails: stack.overrides.thumbnails,
        stack: stack.tag_value().to_owned(),
        settings: Settings {
            runtime: RUNTIME.into(),
            handler: HANDLER.into(),
            role: stack.role_arn.clone(),
            // The flags', or the ones the function remembers (a size changed in the console
            // is drift, as any other setting).
            memory_mb: size.memory_mb.unwrap_or(MEMORY_MB),
            timeout_seconds: size.timeout_seconds.unwrap_or(TIMEOUT_SECONDS),
            environment: BTreeMap::from([(
                "IMAGES_BUCKET".to_owned(),
                stack.images_bucket.clone(),
            )]),
        },
    }
}

pub async fn describe(aws: &Aws, name: &str) -> anyhow::Result<Option<Actual>> {
    let (out, reserved_concurrency) = tokio::try_join!(
        async {
            let out = aws.lambda.get_function().function_name(name).send().await;
            out.or_absent(|| format!("read function {name}"))
        },
        concurrency::reserved_concurrency(aws, name),
    )?;
    let Some(out) = out else { return Ok(None) };
    if let Some(tags_error) = &out.tags_error {
        // Without its tags catup cannot tell its function from a stranger's.
        bail!(
            "cannot read the tags of function {name} ({}): allow lambda:ListTags (see policies/catup-deployer.json)",
            tags_error.message()
        );
    }
    let Some(config) = out.configuration else {
        bail!("read function {name}: Lambda returned no configuration");
    };
    Ok(Some(Actual {
        settings: Settings {
            runtime: config
                .runtime()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            handler: config.handler().unwrap_or_default().to_owned(),
            role: config.role().unwrap_or_default().to_owned(),
            memory_mb: config.memory_size().unwrap_or_default(),
            timeout_seconds: config.timeout().unwrap_or_default(),
            environment: config
                .environment()
                .and_then(|e| e.variables())
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        },
        architectures: config
            .architectures()
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
        code_sha256: config.code_sha256().unwrap_or_default().to_owned(),
        remembered: out.tags.as_ref().map(remembered::among).unwrap_or_default(),
        failed: failure(
            config.state(),
            config.last_update_status(),
            config.state_reason(),
            config.last_update_status_reason(),
        ),
        last_modified: config.last_modified().and_then(parse_last_modified),
        stack_tag: out.tags.and_then(|mut t| t.remove(STACK_TAG)),
        reserved_concurrency,
    }))
}

/// [`describe`], unless `already` holds what an earlier read found (`Some`): connecting
/// reads the function beside STS, and the command's own read does not ask again.
pub async fn describe_unless_read(
    aws: &Aws,
    name: &str,
    already: Option<Option<Actual>>,
) -> anyhow::Result<Option<Actual>> {
    match already {
        Some(read) => Ok(read),
        None => describe(aws, name).await,
    }
}

/// Functions are created with their tag in the same call: an untagged one is not ours (for
/// example the one a student made by hand in the console with the lecture's name).
pub fn check_owner(desired: &Desired, actual: &Actual) -> Result<(), Foreign> {
    Ownership::require_ours(
        actual.stack_tag.as_deref(),
        Kind::Function,
        &desired.name,
        &desired.stack,
    )
}

aspects! {
    /// What can differ on the function, in the order apply changes it.
    Aspect {
        Code => "code",
        Configuration => "configuration",
        ReservedConcurrencyZero => "reserved concurrency 0",
        Concurrency => "reserved concurrency",
        RememberedFlags => "remembered flags",
        RoleRecreated => "role re-created since (stale grant)",
    }
}

/// Lambda's `LastModified` ("2026-12-06T05:00:00.000+0000") in seconds since 1970.
fn parse_last_modified(text: &str) -> Option<i64> {
    let rfc3339 = match text.strip_suffix("+0000") {
        Some(utc) => format!("{utc}Z"),
        None => text.to_owned(),
    };
    let at: jiff::Timestamp = rfc3339.parse().ok()?;
    Some(at.as_second())
}

/// Whether the function's grant for its role is stale: the role is about to be created (it
/// was deleted), or is not the one the grant was made for (deleted and re-created under the
/// same name: another IAM id than the function remembers). Lambda then fails every invocation
/// with KMSAccessDeniedException until its configuration is applied again. A function
/// deployed before catup remembered the id is judged by the role's creation against the
/// function's last change.
pub fn role_recreated(
    actual: Option<&Actual>,
    role_will_be_created: bool,
    role: Option<&super::role::Actual>,
) -> bool {
    let Some(actual) = actual else {
        return false;
    };
    let granted = actual.remembered.get(remembered::ROLE_ID);
    let role_id = role.and_then(|r| r.role_id.as_ref());
    let created_at = role.and_then(|r| r.created_at);
    role_will_be_created
        || match (granted, role_id) {
            (Some(granted), Some(id)) => granted != id,
            _ => {
                matches!((created_at, actual.last_modified), (Some(role), Some(function)) if role > function)
            }
        }
}

/// `desired` remembering which role its grant is for (`None`: no role of the stack's own).
fn granted_to(desired: &Desired, role_id: Option<String>) -> Desired {
    let mut desired = desired.clone();
    if let Some(id) = role_id {
        desired
            .remembered
            .insert(remembered::ROLE_ID.to_owned(), id);
    }
    desired
}

/// `code_sha256` is the package's (`None` when the caller has no package, as in `status`,
/// which then does not compare code).
pub fn diff(
    desired: &Desired,
    code_sha256: Option<&str>,
    actual: Option<&Actual>,
    role_recreated: bool,
) -> Change<Aspect> {
    let Some(actual) = actual else {
        return Change::Create;
    };
    // A failed update left Lambda with something else than what was sent: send both again.
    let failed = actual.failed.is_some();
    let code_differs = code_sha256.is_some_and(|sha| sha != actual.code_sha256)
        || actual.architectures != [ARCHITECTURE];
    Change::from_checks([
        (Aspect::Code, code_differs || failed),
        (
            Aspect::Configuration,
            actual.settings != desired.settings || failed,
        ),
        (
            Aspect::ReservedConcurrencyZero,
            actual.reserved_concurrency == Some(0),
        ),
        (
            Aspect::Concurrency,
            desired.concurrency.differs(actual.reserved_concurrency),
        ),
        (
            Aspect::RememberedFlags,
            actual.remembered != desired.remembered,
        ),
        (Aspect::RoleRecreated, role_recreated),
    ])
}

pub async fn apply(
    aws: &Aws,
    desired: &Desired,
    package: &Package,
    change: &Change<Aspect>,
    role: RoleOrigin,
    progress: Progress<'_>,
) -> anyhow::Result<Outcome> {
    let name = desired.name.as_str();
    let propagation = RolePropagation {
        origin: role,
        name,
        progress,
    };
    if change.is_create() {
        create_settled(aws, desired, package, &propagation).await?;
        return Ok(change.outcome());
    }
    if change == &Change::InSync {
        return Ok(Outcome::Unchanged);
    }
    // A deploy interrupted mid-update leaves Lambda busy; wait before changing more. A failed
    // last update is what this change repairs.
    wait_until_settled(aws, name, progress).await?;
    if change.differs(Aspect::Code) {
        aws.lambda
            .update_function_code()
            .function_name(name)
            .zip_file(Blob::new(package.zip.clone()))
            .architectures(Architecture::from(ARCHITECTURE))
            .customize()
            .config_override(uploading(package))
            .send()
            .await
            .or_fail(|| format!("update code of function {name}"))?;
        wait_until_applied(aws, name, progress).await?;
    }
    // The same call renews Lambda's grant for a role deleted and re-created since.
    if change.differs(Aspect::Configuration) || change.differs(Aspect::RoleRecreated) {
        let s = &desired.settings;
        propagation
            .retry(|| async {
                aws.lambda
                    .update_function_configuration()
                    .function_name(name)
                    .runtime(Runtime::from(s.runtime.as_str()))
                    .handler(&s.handler)
                    .role(&s.role)
                    .memory_size(s.memory_mb)
                    .timeout(s.timeout_seconds)
                    .environment(environment(s))
                    .send()
                    .await
            })
            .await
            .or_fail(|| format!("update configuration of function {name}"))?;
        wait_until_applied(aws, name, progress).await?;
    }
    apply_reservation(aws, desired, change).await?;
    if change.differs(Aspect::RememberedFlags) {
        remembered::write(aws, &desired.arn, &desired.remembered).await?;
    }
    Ok(change.outcome())
}

/// Creates the function and waits until Lambda can run it, with its reservation if one is
/// asked for.
async fn create_settled(
    aws: &Aws,
    desired: &Desired,
    package: &Package,
    propagation: &RolePropagation<'_>,
) -> anyhow::Result<()> {
    let (name, progress) = (desired.name.as_str(), propagation.progress);
    let created = propagation
        .retry(|| create(aws, desired, package))
        .await
        .or_fail(|| format!("create function {name}"))?;
    // Each of these is a round trip on the way to the Function URL: skipped when the
    // create's own answer tells (created with the stack's tag in the same call; Active).
    if created == Created::Existed {
        match describe(aws, name).await? {
            Some(actual) => check_owner(desired, &actual)?,
            None => bail!("create function {name}: Lambda accepted it but cannot find it"),
        }
    }
    if created != Created::Active {
        wait_until_applied(aws, name, progress).await?;
    }
    if let concurrency::Reservation::Reserve(n) = desired.concurrency {
        concurrency::reserve(aws, name, n).await?;
    }
    Ok(())
}

/// The reservation `--concurrency` asks for, or none where someone set 0 (the function
/// disabled).
async fn apply_reservation(
    aws: &Aws,
    desired: &Desired,
    change: &Change<Aspect>,
) -> anyhow::Result<()> {
    let name = desired.name.as_str();
    match (change.differs(Aspect::Concurrency), desired.concurrency) {
        (true, concurrency::Reservation::Reserve(n)) => concurrency::reserve(aws, name, n).await,
        (true, _) => concurrency::remove_zero_concurrency(aws, name).await,
        (false, _) if change.differs(Aspect::ReservedConcurrencyZero) => {
            concurrency::remove_zero_concurrency(aws, name).await
        }
        _ => Ok(()),
    }
}

fn environment(settings: &Settings) -> Environment {
    Environment::builder()
        .set_variables(Some(settings.environment.clone().into_iter().collect()))
        .build()
}

/// What CreateFunction answered.
#[derive(Debug, PartialEq, Eq)]
enum Created {
    /// Created, and already Active with its update successful.
    Active,
    /// Created, still Pending (as on AWS): wait for it.
    Pending,
    /// It existed (a first attempt whose answer was lost, or someone else's): whose it is
    /// must be read.
    Existed,
}

/// Creates the function; "it already exists" is success here, checked by the caller.
async fn create(
    aws: &Aws,
    desired: &Desired,
    package: &Package,
) -> Result<Created, SdkError<CreateFunctionError, HttpResponse>> {
    let s = &desired.settings;
    let mut tags: std::collections::HashMap<String, String> =
        desired.remembered.clone().into_iter().collect();
    tags.insert(STACK_TAG.to_owned(), desired.stack.clone());
    let created = aws
        .lambda
        .create_function()
        .function_name(&desired.name)
        .runtime(Runtime::from(s.runtime.as_str()))
        .handler(&s.handler)
        .role(&s.role)
        .memory_size(s.memory_mb)
        .timeout(s.timeout_seconds)
        .architectures(Architecture::from(ARCHITECTURE))
        .environment(environment(s))
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(package.zip.clone()))
                .build(),
        )
        .set_tags(Some(tags))
        .customize()
        .config_override(uploading(package))
        .send()
        .await;
    match created {
        Err(e) if error_code(&e) == Some("ResourceConflictException") => Ok(Created::Existed),
        Err(e) => Err(e),
        Ok(out) => {
            let active = out.state() == Some(&State::Active)
                && out
                    .last_update_status()
                    .is_none_or(|s| *s == LastUpdateStatus::Successful);
            Ok(if active {
                Created::Active
            } else {
                Created::Pending
            })
        }
    }
}

pub async fn delete(aws: &Aws, name: &str) -> anyhow::Result<Outcome> {
    let gone = aws
        .lambda
        .delete_function()
        .function_name(name)
        .send()
        .await
        .or_absent(|| format!("delete function {name}"))?;
    Ok(Outcome::of_deletion(gone.is_some()))
}

/// What teardown does to the function found (or not).
pub fn teardown_action(stack: &Stack, found: &Found) -> TeardownAction {
    match &found.function {
        None => TeardownAction::Absent,
        Some(actual) => owned(check_owner(&desired(stack), actual)),
    }
}

/// The Rust function itself.
pub struct Function;

impl Resource for Function {
    const KIND: Kind = Kind::Function;
    /// It runs with the role, which must exist (and, created now, be usable) first.
    const NEEDS: &'static [Need] = &[Need::Done(Kind::Role)];
    type Desired = Desired;
    type Actual = Actual;
    type Aspect = Aspect;

    fn desired(stack: &Stack) -> anyhow::Result<Desired> {
        Ok(desired(stack))
    }

    async fn describe(read: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        let already = read.function_read.clone();
        describe_unless_read(read.aws, &read.stack.function_name, already).await
    }

    fn check_owner(desired: &Desired, actual: &Actual) -> Result<(), Foreign> {
        check_owner(desired, actual)
    }

    fn diff(plan: &Planning<'_>) -> Change<Aspect> {
        let (desired, observed) = (plan.desired, plan.observed);
        let actual = observed.function.as_ref();
        let role = observed.role.as_ref();
        let recreated = role_recreated(actual, desired.role.is_some() && role.is_none(), role);
        let role_id = desired
            .role
            .as_ref()
            .and(role)
            .and_then(|r| r.role_id.clone());
        let desired = with_cap(&desired.function, actual);
        let desired = granted_to(&desired, role_id);
        diff(&desired, plan.code_sha256, actual, recreated)
    }

    fn name(stack: &Stack, _: &Observed) -> String {
        stack.function_name.clone()
    }

    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        let role = match a.outcome(Kind::Role) {
            Some(Outcome::Created) => RoleOrigin::CreatedNow,
            Some(Outcome::External) => RoleOrigin::Given,
            _ => RoleOrigin::CreatedEarlier,
        };
        let progress = |message: String| a.progress(message);
        let change = &a.changes.function;
        let actual = a.observed.function.as_ref();
        let desired = with_cap(&a.desired.function, actual);
        // The stack's own role publishes its IAM id once applied (created now: a new one).
        let desired = granted_to(&desired, a.address(Kind::Role));
        apply(a.aws, &desired, a.package, change, role, &progress).await?;
        Ok(())
    }

    type Found = Option<Actual>;

    async fn find(read: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        <Function as Resource>::describe(read).await
    }

    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>> {
        let action = teardown_action(stack, found);
        Ok(vec![Step::new(
            Kind::Function,
            &stack.function_name,
            action,
        )])
    }

    async fn delete(
        d: &Deleting<'_>,
        gone: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        let step = d.plan.step(Kind::Function);
        if !step.deletes() {
            d.absent(step);
            return Ok(());
        }
        if !gone.await {
            return Ok(());
        }
        let outcome = delete(d.aws, &step.name).await?;
        d.reporter.resource(step.kind, &step.name, &outcome);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_newer_than_the_function_or_about_to_be_created_makes_the_grant_stale() {
        let d = desired_for_stack();
        let a = in_sync(&d);
        let role = |created_at: Option<i64>, id: Option<&str>| super::super::role::Actual {
            stack_tag: None,
            region_tag: None,
            trust: None,
            runtime_policy: None,
            extra_inline: vec![],
            attached: vec![],
            created_at,
            role_id: id.map(str::to_owned),
        };
        // Deployed before the id was remembered: the creation time against LastModified.
        let cases = [
            (None, false, None, false),
            (Some(&a), false, Some(role(Some(900), None)), false),
            (
                Some(&a),
                false,
                Some(role(Some(1_000), Some("AROA1"))),
                false,
            ),
            (
                Some(&a),
                false,
                Some(role(Some(1_001), Some("AROA1"))),
                true,
            ),
            (Some(&a), true, None, true),
            (Some(&a), false, None, false),
        ];
        for (actual, will_create, role, stale) in &cases {
            assert_eq!(role_recreated(*actual, *will_create, role.as_ref()), *stale);
        }
        // The id remembered decides, whatever the times say (a later code update moves
        // LastModified past a re-created role's creation).
        let mut granted = a.clone();
        let id = remembered::ROLE_ID.to_owned();
        granted.remembered.insert(id, "AROA1".into());
        let same = role(Some(1_001), Some("AROA1"));
        let other = role(Some(900), Some("AROA2"));
        assert!(!role_recreated(Some(&granted), false, Some(&same)));
        assert!(role_recreated(Some(&granted), false, Some(&other)));
        let change = diff(&d, Some("sha"), Some(&a), true);
        assert!(change.differs(Aspect::RoleRecreated) && !change.differs(Aspect::Configuration));
        assert_eq!(
            parse_last_modified("2026-12-06T05:00:00.000+0000"),
            Some(1_796_533_200)
        );
    }

    fn desired_for_stack() -> Desired {
        let stack = Stack::example("us-east-1");
        desired(&stack)
    }

    fn in_sync(d: &Desired) -> Actual {
        Actual {
            settings: d.settings.clone(),
            architectures: vec!["x86_64".into()],
            code_sha256: "sha".into(),
            stack_tag: Some("cats".into()),
            reserved_concurrency: None,
            remembered: BTreeMap::new(),
            failed: None,
            last_modified: Some(1_000),
        }
    }

    #[test]
    fn desired_settings_are_the_issue_s() {
        let d = desired_for_stack();
        assert_eq!(d.name, "cats-api");
        assert_eq!(d.settings.runtime, "provided.al2023");
        assert_eq!(d.settings.handler, "bootstrap");
        assert_eq!(
            (d.settings.memory_mb, d.settings.timeout_seconds),
            (128, 10)
        );
        assert_eq!(
            d.settings.role,
            "arn:aws:iam::123456789012:role/cats-api-us-east-1-role"
        );
        assert_eq!(
            d.settings.environment,
            BTreeMap::from([(
                "IMAGES_BUCKET".to_owned(),
                "cats-images-123456789012-us-east-1".to_owned()
            )])
        );
    }

    #[test]
    fn code_is_compared_by_sha_and_architecture_only_when_a_package_is_known() {
        let d = desired_for_stack();
        let a = in_sync(&d);
        assert_eq!(diff(&d, None, None, false), Change::Create);
        assert_eq!(diff(&d, Some("sha"), Some(&a), false), Change::InSync);
        assert_eq!(
            diff(&d, Some("other"), Some(&a), false),
            Change::Update(vec![Aspect::Code])
        );
        assert_eq!(diff(&d, None, Some(&a), false), Change::InSync);
        let arm = Actual {
            architectures: vec!["arm64".into()],
            ..a.clone()
        };
        assert_eq!(
            diff(&d, None, Some(&arm), false),
            Change::Update(vec![Aspect::Code])
        );
    }

    #[test]
    fn any_managed_setting_that_differs_is_a_configuration_change() {
        let d = desired_for_stack();
        let mutations: [fn(&mut Settings); 6] = [
            |s| s.runtime = "python3.12".into(),
            |s| s.handler = "main".into(),
            |s| s.role = "arn:aws:iam::1:role/x".into(),
            |s| s.memory_mb = 256,
            |s| s.timeout_seconds = 3,
            |s| {
                s.environment.insert("EXTRA".into(), "1".into());
            },
        ];
        for mutate in mutations {
            let mut a = in_sync(&d);
            mutate(&mut a.settings);
            assert_eq!(
                diff(&d, Some("sha"), Some(&a), false),
                Change::Update(vec![Aspect::Configuration])
            );
        }
    }

    #[test]
    fn a_failed_function_or_update_is_repaired_by_sending_both_again() {
        use aws_sdk_lambda::types::{LastUpdateStatus, State};
        let d = desired_for_stack();
        let a = Actual {
            failed: Some("Access denied to the KMS key".into()),
            ..in_sync(&d)
        };
        assert_eq!(
            diff(&d, None, Some(&a), false),
            Change::Update(vec![Aspect::Code, Aspect::Configuration])
        );
        let failure = |state, update| settle::failure(state, update, Some("state"), Some("update"));
        assert_eq!(
            failure(Some(&State::Active), Some(&LastUpdateStatus::Successful)),
            None
        );
        assert_eq!(failure(Some(&State::Pending), None), None);
        assert_eq!(
            failure(Some(&State::Failed), None).as_deref(),
            Some("state")
        );
        assert_eq!(
            failure(Some(&State::Active), Some(&LastUpdateStatus::Failed)).as_deref(),
            Some("update")
        );
    }

    #[test]
    fn untagged_function_is_foreign() {
        let d = desired_for_stack();
        let mine = in_sync(&d);
        assert!(check_owner(&d, &mine).is_ok());
        let hand_made = Actual {
            stack_tag: None,
            ..mine
        };
        let err = check_owner(&d, &hand_made).unwrap_err().to_string();
        assert!(err.contains("function cats-api"), "{err}");
    }
}
