//! The commands: each decides the order and concurrency of the resources; the resources
//! themselves know how to read, compare, change and delete.

pub mod deploy;
pub mod dev;
pub mod logs;
pub mod preflight;
pub mod status;
pub mod teardown;
pub mod verify;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::aws::{Aws, ConnectOptions};
use crate::cli::GlobalArgs;
use crate::output::Reporter;
use crate::plan::Foreign;
use crate::resources::{
    function, function_url, images_bucket, log_group, remembered, role, site_bucket, site_files,
};
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
}

impl Context {
    /// Validates the names (before any AWS call), connects, and reads the account id.
    pub async fn open(global: &GlobalArgs) -> anyhow::Result<Context> {
        let (name, overrides) = validate_names(global)?;
        let aws = Aws::connect(&ConnectOptions {
            region: global.region.clone(),
            profile: global.profile.clone(),
            endpoint_url: global.endpoint_url.clone(),
        })
        .await?;
        let account_id = aws.account_id().await?;
        let function = Stack::function_name_of(&name);
        let arn = Stack::function_arn_of(&aws.region, &account_id, &function);
        let overrides = remembered_overrides(&aws, &arn, &name, &overrides).await?;
        if let Some(arn) = &overrides.role_arn {
            preflight::check_role_account(arn, &account_id)?;
        }
        let stack = Stack::new(name, aws.region.clone(), &account_id, &overrides)?;
        Ok(Context {
            aws,
            stack,
            reporter: Reporter::new(global.json),
        })
    }
}

/// The flags given, completed with the ones the stack's function remembers (each said on
/// stderr), or refused where they differ.
async fn remembered_overrides(
    aws: &Aws,
    function_arn: &str,
    name: &StackName,
    given: &Overrides,
) -> anyhow::Result<Overrides> {
    let remembered = remembered::read(aws, function_arn).await?;
    let merged = remembered::merge(given, &remembered, name.as_str())?;
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
    Ok(merged)
}

/// Checks every name given on the command line; no AWS call, no build, nothing else first.
pub fn validate_names(global: &GlobalArgs) -> anyhow::Result<(StackName, Overrides)> {
    let name = StackName::parse(&global.stack)?;
    let overrides = Overrides {
        site_bucket: global.site_bucket.clone(),
        images_bucket: global.images_bucket.clone(),
        role_arn: global.role_arn.clone(),
    };
    if let Some(bucket) = &overrides.site_bucket {
        crate::stack::validate_bucket_name(bucket)?;
    }
    if let Some(bucket) = &overrides.images_bucket {
        crate::stack::validate_images_bucket_name(bucket)?;
    }
    if let Some(arn) = &overrides.role_arn {
        preflight::parse_role_arn(arn)?;
    }
    if let Some(region) = &global.region {
        crate::region::Region::parse(region)?;
    }
    Ok((name, overrides))
}

/// The desired state of every resource, derived from the stack alone.
pub struct Desired {
    pub images: images_bucket::Desired,
    pub site: site_bucket::Desired,
    pub log_group: log_group::Desired,
    pub role: Option<role::Desired>,
    pub function: function::Desired,
    pub url: function_url::Desired,
}

impl Desired {
    pub fn of(stack: &Stack) -> anyhow::Result<Desired> {
        Ok(Desired {
            images: images_bucket::desired(stack)?,
            site: site_bucket::desired(stack)?,
            log_group: log_group::desired(stack),
            role: role::desired(stack)?,
            function: function::desired(stack),
            url: function_url::desired(stack),
        })
    }
}

/// The actual state of every resource, read concurrently.
pub struct Observed {
    pub images: Option<images_bucket::Actual>,
    pub site: Option<site_bucket::Actual>,
    pub log_group: Option<log_group::Actual>,
    pub role: Option<role::Actual>,
    pub function: Option<function::Actual>,
    pub url: Option<function_url::Actual>,
    pub site_etags: HashMap<String, String>,
}

impl Observed {
    pub async fn read(aws: &Aws, stack: &Stack) -> anyhow::Result<Observed> {
        let (images, (site, site_etags), log_group, role, function, url) = tokio::try_join!(
            images_bucket::describe(aws, &stack.images_bucket),
            async {
                // Listed beside the bucket's own reads, not after them; the bucket's error
                // wins, so that a foreign bucket gets HeadBucket's advice, not a bare
                // AccessDenied.
                let (site, etags) = tokio::join!(
                    site_bucket::describe(aws, &stack.site_bucket),
                    site_files::describe(aws, &stack.site_bucket)
                );
                anyhow::Ok(match site? {
                    Some(site) => (Some(site), etags?),
                    None => (None, HashMap::new()),
                })
            },
            log_group::describe(aws, &stack.log_group),
            async {
                match &stack.role_name {
                    Some(name) => role::describe(aws, name).await,
                    None => Ok(None),
                }
            },
            function::describe(aws, &stack.function_name),
            function_url::describe(aws, &stack.function_name),
        )?;
        let found = |present: bool| if present { "exists" } else { "absent" };
        tracing::info!(target: "catup::steps", "read images bucket {}: {}", stack.images_bucket, found(images.is_some()));
        tracing::info!(target: "catup::steps", "read site bucket {}: {} ({} objects)", stack.site_bucket, found(site.is_some()), site_etags.len());
        tracing::info!(target: "catup::steps", "read log group {}: {}", stack.log_group, found(log_group.is_some()));
        tracing::info!(target: "catup::steps", "read role {}: {}", stack.role_arn, found(role.is_some()));
        tracing::info!(target: "catup::steps", "read function {}: {}", stack.function_name, found(function.is_some()));
        tracing::info!(target: "catup::steps", "read function url of {}: {}", stack.function_name, found(url.is_some()));
        Ok(Observed {
            images,
            site,
            log_group,
            role,
            function,
            url,
            site_etags,
        })
    }

    /// Resources with one of our names that another owns (deploy changes nothing of them).
    pub fn foreign(&self, desired: &Desired) -> Vec<Foreign> {
        let mut found = Vec::new();
        let mut check = |result: Result<(), Foreign>| found.extend(result.err());
        if let Some(a) = &self.images {
            check(images_bucket::check_owner(&desired.images, a));
        }
        if let Some(a) = &self.site {
            check(site_bucket::check_owner(&desired.site, a));
        }
        if let Some(a) = &self.log_group {
            check(log_group::check_owner(&desired.log_group, a));
        }
        if let (Some(d), Some(a)) = (&desired.role, &self.role) {
            check(role::check_owner(d, a));
        }
        if let Some(a) = &self.function {
            check(function::check_owner(&desired.function, a));
        }
        found
    }

    /// Deploy changes, and teardown deletes, only what this check passes: every resource
    /// with one of the stack's names carries the stack's tag (or is a killed deploy's
    /// leftover bucket).
    pub fn check_ours(&self, desired: &Desired) -> Result<(), Foreign> {
        match self.foreign(desired).into_iter().next() {
            Some(foreign) => Err(foreign),
            None => Ok(()),
        }
    }
}

pub fn exit(code: u8) -> ExitCode {
    ExitCode::from(code)
}
