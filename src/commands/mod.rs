//! The commands: each decides the order and concurrency of the resources; the resources
//! themselves know how to read, compare, change and delete.

pub mod check;
pub mod deploy;
pub mod dev;
pub mod finding;
pub mod inputs;
pub mod list;
pub mod logs;
pub mod package;
pub mod plan;
pub mod preflight;
pub mod status;
pub mod survey;
pub mod teardown;
pub mod verification;
pub mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::aws::{Aws, ConnectOptions};
use crate::cli::GlobalArgs;
use crate::output::Reporter;
use crate::resource_support::remembered;
use crate::resources::function;
use crate::stack::{Overrides, Stack, StackName};

/// Exit codes beyond 0 (success) and 1 (error); clap uses 2 for bad usage.
pub const EXIT_NOT_DEPLOYED: u8 = 3;
pub const EXIT_DRIFTED: u8 = 4;

/// Where catup's own source tree was at build time: the default frontend/ and the
/// lambda-fn package to build.
pub const SOURCE_TREE: &str = env!("CARGO_MANIFEST_DIR");

pub fn default_frontend() -> PathBuf {
    PathBuf::from(SOURCE_TREE).join("frontend")
}

/// A connected command: clients, the stack's names, and the reporter.
pub struct Context {
    pub aws: Aws,
    pub stack: Stack,
    pub reporter: Reporter,
    /// The stack's function as read while connecting (`None`: not read), so that the
    /// command's own read does not ask Lambda again.
    pub function_read: Option<Option<function::Actual>>,
    /// Remembered values teardown could not use and left alone (see [`Memory`]).
    pub left_alone: Vec<String>,
}

/// What a command does with a remembered value it cannot use: every command stops on one,
/// naming it; teardown is never blocked by one, and tears down what is provably the stack's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memory {
    Strict,
    Lenient,
}

impl Context {
    /// What every resource's read is given.
    pub fn reading(&self) -> crate::resource::Reading<'_> {
        crate::resource::Reading {
            aws: &self.aws,
            stack: &self.stack,
            function_read: &self.function_read,
        }
    }

    /// Validates the names (before any AWS call), connects, and reads the account id.
    pub async fn open(global: &GlobalArgs) -> anyhow::Result<Context> {
        Context::connect(global, validate_names(global)?).await
    }

    /// Connects with names `validate_names` has checked, and reads the account id.
    pub async fn connect(
        global: &GlobalArgs,
        names: (StackName, Overrides),
    ) -> anyhow::Result<Context> {
        Context::connect_with(global, names, Memory::Strict).await
    }

    /// [`Context::open`] for teardown: remembered values it cannot use are set aside.
    pub async fn open_lenient(global: &GlobalArgs) -> anyhow::Result<Context> {
        Context::connect_with(global, validate_names(global)?, Memory::Lenient).await
    }

    pub async fn connect_with(
        global: &GlobalArgs,
        (name, overrides): (StackName, Overrides),
        memory: Memory,
    ) -> anyhow::Result<Context> {
        let aws = Aws::connect(&ConnectOptions {
            region: global.region.clone(),
            profile: global.profile.clone(),
            endpoint_url: global.endpoint_url.clone(),
        })
        .await?;
        // The function (its tags remember the flags) is read beside STS: the first calls of
        // every command stand in a row before all others. STS's error comes first, and ends
        // the wait at once: it is the one that says what is wrong with the connection.
        let function_name = Stack::function_name_of(&name);
        let (account_id, function) = tokio::try_join!(aws.account_id(), async {
            anyhow::Ok(function::describe(&aws, &function_name).await)
        })?;
        let function = function?;
        let remembered = function
            .as_ref()
            .map(|f| remembered::overrides_of(&f.remembered))
            .unwrap_or_default();
        let function_role = function.as_ref().map(|f| f.settings.role.as_str());
        let defaults = crate::stack::DefaultBuckets::of(&name, &aws.region, &account_id);
        let (usable, unusable) =
            remembered::check(&remembered, &account_id, function_role, &defaults);
        let (overrides, unusable) = remembered_overrides(&usable, unusable, &name, &overrides)?;
        let left_alone = match (unusable.first(), memory) {
            (None, _) => Vec::new(),
            (Some(first), Memory::Strict) => {
                let arn = Stack::function_arn_of(&aws.region, &account_id, &function_name);
                anyhow::bail!("{}", first.message(name.as_str(), &arn))
            }
            (Some(_), Memory::Lenient) => unusable.iter().map(|u| u.left_alone()).collect(),
        };
        if let Some(arn) = &overrides.role_arn {
            crate::resources::role::given::check_role_account(arn, &account_id)?;
        }
        let stack = Stack::new(name, aws.region.clone(), &account_id, &overrides)?;
        Ok(Context {
            aws,
            stack,
            reporter: Reporter::new(global.json),
            function_read: Some(function),
            left_alone,
        })
    }
}

/// The flags given, completed with the ones the stack's function remembers (each said on
/// stderr), or refused where they differ.
fn remembered_overrides(
    usable: &Overrides,
    unusable: Vec<remembered::Unusable>,
    name: &StackName,
    given: &Overrides,
) -> anyhow::Result<(Overrides, Vec<remembered::Unusable>)> {
    let (merged, unusable) = remembered::merge(given, usable, unusable, name.as_str())?;
    let used = [
        ("--site-bucket", &given.site_bucket, &merged.site_bucket),
        (
            "--images-bucket",
            &given.images_bucket,
            &merged.images_bucket,
        ),
        ("--role-arn", &given.role_arn, &merged.role_arn),
    ];
    for (flag, given, merged) in used {
        if let (None, Some(value)) = (given, merged) {
            crate::output::progress(format!(
                "{flag} {value}: remembered from this stack's deploy"
            ));
        }
    }
    Ok((merged, unusable))
}

/// Checks every name given on the command line; no AWS call, no build, nothing else first.
pub fn validate_names(global: &GlobalArgs) -> anyhow::Result<(StackName, Overrides)> {
    let name = StackName::parse(&global.stack)?;
    let overrides = Overrides {
        site_bucket: global.site_bucket.clone(),
        images_bucket: global.images_bucket.clone(),
        role_arn: global.role_arn.clone(),
        ..Overrides::default()
    };
    if let Some(bucket) = &overrides.site_bucket {
        crate::stack::validate_bucket_name(bucket)?;
    }
    if let Some(bucket) = &overrides.images_bucket {
        crate::stack::validate_images_bucket_name(bucket)?;
    }
    if let Some(arn) = &overrides.role_arn {
        crate::resources::role::given::parse_role_arn(arn)?;
        let stored = remembered::tag_value(arn).chars().count();
        anyhow::ensure!(
            stored <= remembered::MAX_TAG_VALUE,
            "--role-arn {arn} is too long to remember in a Lambda tag ({stored} characters stored, at most {}): use a role with a shorter path",
            remembered::MAX_TAG_VALUE
        );
    }
    if let Some(region) = &global.region {
        crate::region::Region::parse(region)?;
    }
    Ok((name, overrides))
}

/// The account's clients for commands about every stack (`list`, `teardown --all`): the
/// region checked, then connected, and the first call made (its error says what is wrong).
pub async fn connect_account(global: &GlobalArgs) -> anyhow::Result<Aws> {
    if let Some(region) = &global.region {
        crate::region::Region::parse(region)?;
    }
    let aws = Aws::connect(&ConnectOptions {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    })
    .await?;
    aws.account_id().await?;
    Ok(aws)
}

pub fn exit(code: u8) -> ExitCode {
    ExitCode::from(code)
}
