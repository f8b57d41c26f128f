//! `catup deploy`: observe everything, refuse what is not ours, then close the gaps in
//! dependency order (independent resources concurrently), and upload the site last with a
//! config.js that holds the real Function URL.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use super::{default_frontend, preflight, Context, Desired, Observed, SOURCE_TREE};
use crate::cli::{DeployArgs, DeployInputs, GlobalArgs};
use crate::frontend_files;
use crate::output::{emit, progress, DeployReport, Reporter};
use crate::package::build::{Build, PROFILE};
use crate::package::{self, Package};
use crate::plan::{Kind, Outcome};
use crate::resources::account_access::{self, AccountAccess};
use crate::resources::function::RoleOrigin;
use crate::resources::{
    function, function_url, images_bucket, log_group, role, site_bucket, site_files,
};
use crate::stack::Stack;
use crate::stack_plan::{Plan, SiteInput};

pub async fn run(global: &GlobalArgs, args: &DeployArgs) -> anyhow::Result<ExitCode> {
    let (ctx, frontend, zipping) = prepare(global, &args.inputs, Packing::Zip).await?;
    let mut report = deploy(&ctx, zipped(zipping), frontend, None).await?;
    if args.verify {
        let target = super::verify::Target {
            function_url: report.function_url.clone(),
            website_url: report.website_url.clone(),
        };
        report.verification = Some(super::verify::verify_where_served(&ctx, &target).await);
    }
    emit(&report, global.json)?;
    let verified = report.verification.as_ref().is_none_or(|v| v.passed);
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What the package is for: uploading (zip it), or comparing only (`plan`: its hash, from an
/// earlier zip of the same binary when there was one).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    Zip,
    CompareOnly,
}

/// The package being zipped in the background.
pub type Zipping = tokio::task::JoinHandle<anyhow::Result<Package>>;

/// The package once zipped.
pub async fn zipped(zipping: Zipping) -> anyhow::Result<Package> {
    zipping.await.context("packaging task")?
}

/// What deploy and plan need before reading AWS: the connection, the site's files, and the
/// function's package, zipping in the background (a few hundred milliseconds) while AWS is
/// read. Local inputs first: a bad name, folder or binary fails before any build or AWS call.
pub async fn prepare(
    global: &GlobalArgs,
    inputs: &DeployInputs,
    packing: Packing,
) -> anyhow::Result<(Context, Vec<site_files::SiteFile>, Zipping)> {
    let names = super::validate_names(global)?;
    site_files::upload_limit()?;
    // A release catup carries the site with its function (there is no checkout to read).
    let frontend = match (&inputs.frontend, package::embedded::site()) {
        (None, Some(carried)) => carried,
        (dir, _) => {
            let dir = dir.clone().unwrap_or_else(default_frontend);
            load_frontend(&dir, inputs.allow_secret_looking_files)?
        }
    };
    // A given binary is checked before any AWS call, and so is the toolchain for a build;
    // the build itself waits until the credentials and region are known to work, so that a
    // missing one is not reported after minutes.
    let input = match &inputs.bootstrap {
        Some(path) => {
            anyhow::ensure!(
                !path.is_dir(),
                "--bootstrap {} is a folder: pass the bootstrap executable itself (e.g. target/lambda/bootstrap)",
                path.display()
            );
            anyhow::ensure!(
                path.is_file(),
                "--bootstrap {}: no such file",
                path.display()
            );
            let checked = package::check_file(path)?;
            preflight::check_unzipped_size(checked.bytes.len() as u64)?;
            Input::Given(checked)
        }
        // A release catup ships the function it carries: no toolchain is looked for.
        None if inputs.source.is_none() && package::embedded::carries_function() => {
            Input::Carried(package::embedded::function()?)
        }
        None => {
            let tree = inputs.source.as_deref().unwrap_or(Path::new(SOURCE_TREE));
            match packing {
                Packing::Zip => Input::Build(package::plan_build(tree)?),
                // plan builds only to compare with a function that exists (known once
                // connected): for a stack not deployed yet it is "create" either way.
                Packing::CompareOnly => Input::BuildToCompare(tree.to_owned()),
            }
        }
    };
    let zip = |checked| {
        tokio::task::spawn_blocking(move || {
            anyhow::Ok(match packing {
                Packing::Zip => package::package_checked(checked)?,
                Packing::CompareOnly => package::compare_only(checked)?,
            })
        })
    };
    let (ctx, zipping) = match input {
        Input::Given(checked) => {
            let zipping = zip(checked);
            (Context::connect(global, names).await?, zipping)
        }
        Input::Carried(package) => {
            preflight::check_unzipped_size(package.binary_bytes)?;
            progress(format!(
                "deploying the function this catup carries (SHA-256 {}); --source DIR builds one from a checkout",
                package::embedded::SHA256_HEX.unwrap_or("unknown")
            ));
            let ready = tokio::task::spawn(async move { anyhow::Ok(package) });
            (Context::connect(global, names).await?, ready)
        }
        Input::Build(plan) => {
            let ctx = Context::connect(global, names).await?;
            let checked = package::check_file(&build(plan).await?)?;
            preflight::check_unzipped_size(checked.bytes.len() as u64)?;
            (ctx, zip(checked))
        }
        Input::BuildToCompare(tree) => {
            let ctx = Context::connect(global, names).await?;
            if matches!(ctx.function_read, Some(None)) {
                progress("the function does not exist yet: it is planned as created, without building it");
                let nothing = tokio::task::spawn(async { anyhow::Ok(Package::not_built()) });
                (ctx, nothing)
            } else {
                let plan = package::plan_build(&tree)?;
                let checked = package::check_file(&build(plan).await?)?;
                preflight::check_unzipped_size(checked.bytes.len() as u64)?;
                (ctx, zip(checked))
            }
        }
    };
    Ok((ctx, frontend, zipping))
}

/// The site's files, checked before any AWS call; what is left out is said on stderr.
pub fn load_frontend(
    dir: &Path,
    allow_secret_looking: bool,
) -> anyhow::Result<Vec<site_files::SiteFile>> {
    let frontend = frontend_files::load(dir, allow_secret_looking)?;
    if let Some(line) = frontend_files::skipped_line(&frontend) {
        progress(line);
    }
    Ok(frontend.files)
}

/// The function's binary: given with --bootstrap, built here, or carried by a release catup.
enum Input {
    Given(package::CheckedBinary),
    Build(Build),
    /// `plan` without a binary: built only if the function exists, to compare its code.
    BuildToCompare(PathBuf),
    Carried(Package),
}

/// Builds lambda-fn's bootstrap, off the async runtime, saying first what is built, how, why,
/// and (for a first build only) that it takes minutes; cargo's own progress follows on stderr.
pub async fn build(plan: Build) -> anyhow::Result<PathBuf> {
    progress(format!(
        "building the function (lambda-fn, profile {PROFILE}) from {}, since no --bootstrap was given: {}",
        plan.tree.display(),
        plan.path.describe()
    ));
    progress(plan.expectation());
    // A build's minutes do not count against --timeout, whichever command builds.
    let building = tokio::task::spawn_blocking(move || plan.run(&progress));
    let built = crate::waiting::paused(building)
        .await
        .context("build task")??;
    Ok(built)
}

/// Deploys the stack. `site_api_url` replaces the Function URL in config.js (`catup dev`
/// points the page at its local endpoint).
pub async fn deploy(
    ctx: &Context,
    package: impl Future<Output = anyhow::Result<Package>>,
    frontend: Vec<site_files::SiteFile>,
    site_api_url: Option<&str>,
) -> anyhow::Result<DeployReport> {
    let (stack, reporter) = (&ctx.stack, &ctx.reporter);
    let survey = survey(ctx, package, &frontend, site_api_url).await?;
    if let Some(refusal) = survey.refusal(stack) {
        return Err(refusal);
    }
    if let AccountAccess::Unknown(why) = &survey.account {
        reporter.note(format!("cannot read the account's S3 Block Public Access setting ({why}); if S3 refuses the site's public policy, that setting is why"));
    }
    for row in survey.plan.rows().iter().filter(|r| r.action.changes()) {
        reporter.note(super::plan::sentence(row));
    }
    let function_url = apply(ctx, &survey, &frontend, site_api_url).await?;

    let resources = reporter.lines();
    Ok(DeployReport {
        stack: stack.name.as_str().to_owned(),
        region: stack.region.to_string(),
        website_url: stack.website_url(),
        function_url,
        site_bucket: stack.site_bucket.clone(),
        images_bucket: stack.images_bucket.clone(),
        function_name: stack.function_name.clone(),
        changed: resources
            .iter()
            .any(|l| l.state != "unchanged" && l.state != "external"),
        resources,
        verification: None,
    })
}

/// What deploy knows before its first change: every read, the package, and the plan.
pub struct Survey {
    pub desired: Desired,
    pub observed: Observed,
    pub account: AccountAccess,
    pub package: Package,
    pub plan: Plan,
}

impl Survey {
    /// Why deploy may not start: a resource that is not the stack's, or the account's Block
    /// Public Access, which overrides the site bucket's own.
    pub fn refusal(&self, stack: &Stack) -> Option<anyhow::Error> {
        if let Some(foreign) = self.plan.refused.first() {
            return Some(foreign.clone().into());
        }
        self.account
            .refusal(&stack.account_id)
            .map(|why| anyhow::anyhow!(why))
    }
}

/// Reads everything and plans, changing nothing.
pub async fn survey(
    ctx: &Context,
    package: impl Future<Output = anyhow::Result<Package>>,
    frontend: &[site_files::SiteFile],
    site_api_url: Option<&str>,
) -> anyhow::Result<Survey> {
    let (aws, stack) = (&ctx.aws, &ctx.stack);
    let desired = Desired::of(stack)?;
    // Every read first, side by side (the package zips meanwhile): nothing changes before
    // every resource is known to be ours, and a given --role-arn is known to be usable.
    let given_role = async {
        match &stack.role_name {
            None => preflight::check_role_usable(aws, &stack.role_arn).await,
            Some(_) => Ok(()),
        }
    };
    let (observed, account, (), package) = tokio::try_join!(
        Observed::read(aws, stack, ctx.function_read.clone()),
        account_access::read(aws, &stack.account_id),
        given_role,
        package,
    )?;
    preflight::check_zipped_size(&package)?;
    let site = SiteInput {
        files: frontend,
        complete: true,
        api_url: site_api_url,
    };
    let plan = Plan::new(
        stack,
        &desired,
        &observed,
        Some(&package.code_sha256),
        &site,
    );
    Ok(Survey {
        desired,
        observed,
        account,
        package,
        plan,
    })
}

/// Applies the plan as a dependency graph: each step starts as soon as what it needs is done.
/// The buckets, log group and role need nothing; the function needs its role; the URL needs
/// the function; the site files need the site bucket; config.js needs the site bucket and
/// the URL; removed files go once everything new is up. Returns the Function URL.
async fn apply(
    ctx: &Context,
    survey: &Survey,
    frontend: &[site_files::SiteFile],
    site_api_url: Option<&str>,
) -> anyhow::Result<String> {
    let (aws, stack, reporter) = (&ctx.aws, &ctx.stack, &ctx.reporter);
    let (desired, observed, plan) = (&survey.desired, &survey.observed, &survey.plan);
    let upload_limit = site_files::upload_limit()?;
    let progress = |message: String| reporter.note(message);
    let (url_known, url_wanted) = tokio::sync::oneshot::channel::<String>();
    let (bucket_ready, bucket_wanted) = tokio::sync::oneshot::channel::<()>();
    let (_, _, function_url, (), config) = tokio::try_join!(
        step(
            reporter,
            Kind::ImagesBucket,
            &stack.images_bucket,
            images_bucket::apply(
                aws,
                &desired.images,
                observed.images.as_ref(),
                &plan.images,
                &progress,
            ),
        ),
        step(
            reporter,
            Kind::LogGroup,
            &stack.log_group,
            log_group::apply(
                aws,
                &desired.log_group,
                observed.log_group.as_ref(),
                &plan.log_group,
            ),
        ),
        async {
            let role_origin = match (&desired.role, &plan.role) {
                (Some(d), Some(change)) => {
                    let apply = role::apply(aws, d, observed.role.as_ref(), change);
                    match step(reporter, Kind::Role, &d.name, apply).await? {
                        Outcome::Created => RoleOrigin::CreatedNow,
                        _ => RoleOrigin::CreatedEarlier,
                    }
                }
                _ => {
                    reporter.resource(Kind::Role, &stack.role_arn, &Outcome::External);
                    RoleOrigin::Given
                }
            };
            let apply = function::apply(
                aws,
                &desired.function,
                &survey.package,
                &plan.function,
                role_origin,
                &progress,
            );
            step(reporter, Kind::Function, &stack.function_name, apply).await?;

            // catup dev serves the function itself: the emulator's URL would lead nowhere.
            let (outcome, function_url) = function_url::apply(
                aws,
                &desired.url,
                observed.url.as_ref(),
                &plan.url,
                &progress,
                |url| {
                    let _ = url_known.send(site_api_url.unwrap_or(url).to_owned());
                },
            )
            .await?;
            let api_url = site_api_url.unwrap_or(&function_url);
            reporter.resource(Kind::FunctionUrl, api_url, &outcome);
            anyhow::Ok(function_url)
        },
        async {
            let apply = site_bucket::apply(
                aws,
                &desired.site,
                observed.site.as_ref(),
                &plan.site,
                &progress,
                || {
                    let _ = bucket_ready.send(());
                },
            );
            step(reporter, Kind::SiteBucket, &stack.site_bucket, apply).await?;
            anyhow::Ok(())
        },
        async {
            // A failed site bucket drops the sender; its own error is the one reported.
            if bucket_wanted.await.is_err() {
                return Ok(None);
            }
            let (_, config) = tokio::try_join!(
                site_files::upload(
                    aws,
                    &stack.site_bucket,
                    site_files::stale(frontend, &observed.site_etags),
                    upload_limit,
                ),
                async {
                    // A failed URL step drops the sender; its own error is the one reported.
                    let Ok(api_url) = url_wanted.await else {
                        return Ok(None);
                    };
                    let config = site_files::config_js(&api_url);
                    let stale =
                        site_files::stale(std::slice::from_ref(&config), &observed.site_etags);
                    site_files::upload(aws, &stack.site_bucket, stale, 1).await?;
                    anyhow::Ok(Some(config))
                },
            )?;
            site_files::delete(aws, &stack.site_bucket, &plan.site_sync().delete).await?;
            anyhow::Ok(config)
        },
    )?;

    let mut files = frontend.to_vec();
    files.extend(config);
    let outcome = site_files::diff(&files, &observed.site_etags, true, false).outcome();
    reporter.resource(Kind::SiteFiles, &format!("{} files", files.len()), &outcome);
    Ok(function_url)
}

/// Applies one resource's change and reports its outcome as soon as it is done.
async fn step(
    reporter: &Reporter,
    kind: Kind,
    name: &str,
    apply: impl Future<Output = anyhow::Result<Outcome>>,
) -> anyhow::Result<Outcome> {
    let outcome = apply.await?;
    reporter.resource(kind, name, &outcome);
    Ok(outcome)
}
