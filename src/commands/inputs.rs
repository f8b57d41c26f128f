//! What deploy and plan read and build before any AWS change: the connection, the site's
//! files, and the function's package (given, carried, or built from a checkout).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{default_frontend, preflight, Context, SOURCE_TREE};
use crate::cli::{DeployInputs, GlobalArgs};
use crate::frontend_files;
use crate::output::progress;
use crate::package::build::{Build, FunctionCrate, PROFILE};
use crate::package::{self, Package};
use crate::resources::{budget, site_files};

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

/// Where the thumbnail function's package comes from: `--thumbs-bootstrap`, the one a release
/// catup carries, or (deploy `--thumbnails` from a checkout) thumbs-fn built from source.
/// Without any, its code is neither compared nor sent.
pub enum ThumbsInput {
    None,
    Given(package::CheckedBinary),
    Carried(Package),
    Build(Build),
}

impl ThumbsInput {
    /// Checks what is local (the file, the toolchain) before any AWS call or build.
    pub fn choose(inputs: &DeployInputs, packing: Packing) -> anyhow::Result<ThumbsInput> {
        Ok(match &inputs.thumbs_bootstrap {
            Some(path) => ThumbsInput::Given(given_binary("--thumbs-bootstrap", path)?),
            None if inputs.source.is_none() && package::embedded::carries_thumbs() => {
                ThumbsInput::Carried(package::embedded::thumbs()?)
            }
            None if inputs.thumbnails && packing == Packing::Zip => {
                let tree = inputs.source.as_deref().unwrap_or(Path::new(SOURCE_TREE));
                ThumbsInput::Build(package::prepare_build_of(tree, FunctionCrate::Thumbs)?)
            }
            None => ThumbsInput::None,
        })
    }

    /// The package (building it first where it is built here).
    pub async fn package(self, packing: Packing) -> anyhow::Result<Option<Package>> {
        let checked = match self {
            ThumbsInput::None => return Ok(None),
            ThumbsInput::Carried(package) => return Ok(Some(package)),
            ThumbsInput::Given(checked) => checked,
            ThumbsInput::Build(plan) => built(plan).await?,
        };
        Ok(Some(zipped(zip(checked, packing)).await?))
    }
}

/// The budget the flags ask for, its email checked before any AWS call.
fn budget_wanted(inputs: &DeployInputs) -> anyhow::Result<budget::Wanted> {
    Ok(match (inputs.budget_usd, &inputs.budget_email) {
        (None, _) => budget::Wanted::AsItIs,
        (Some(0), _) => budget::Wanted::None,
        (Some(usd), Some(email)) => {
            let (user, domain) = email.split_once('@').unwrap_or_default();
            anyhow::ensure!(
                !user.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace),
                "--budget-email {email:?} is not an email address: pass the address the budget's alerts go to"
            );
            budget::Wanted::Monthly {
                usd,
                email: email.clone(),
            }
        }
        (Some(_), None) => {
            anyhow::bail!("--budget-usd needs --budget-email ADDR: the address its alerts go to")
        }
    })
}

/// What deploy and plan need before reading AWS: the connection, the site's files, and the
/// function's package, zipping in the background (a few hundred milliseconds) while AWS is
/// read. Local inputs first: a bad name, folder or binary fails before any build or AWS call.
pub async fn prepare(
    global: &GlobalArgs,
    inputs: &DeployInputs,
    packing: Packing,
) -> anyhow::Result<(Context, Vec<site_files::SiteFile>, Zipping)> {
    let (name, overrides) = super::validate_names(global)?;
    let names = (
        name,
        crate::stack::Overrides {
            keep_days: inputs.keep_days,
            max_images: inputs.max_images,
            concurrency: inputs.concurrency,
            budget: budget_wanted(inputs)?,
            thumbnails: match (inputs.thumbnails, inputs.no_thumbnails) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            sizes: crate::stack::Sizes {
                upload: crate::stack::Size {
                    memory_mb: inputs.api_memory,
                    timeout_seconds: inputs.api_timeout,
                },
                thumbs: crate::stack::Size {
                    memory_mb: inputs.thumbs_memory,
                    timeout_seconds: inputs.thumbs_timeout,
                },
            },
            ..overrides
        },
    );
    site_files::upload_limit()?;
    // A release catup carries the site with its function (there is no checkout to read).
    let frontend = match (&inputs.frontend, package::embedded::site()) {
        (None, Some(carried)) => carried,
        (dir, _) => {
            let dir = dir.clone().unwrap_or_else(default_frontend);
            load_frontend(&dir, inputs.allow_secret_looking_files)?
        }
    };
    let input = Input::choose(inputs, packing)?;
    let zip = |checked| zip(checked, packing);
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
            (ctx, zip(built(plan).await?))
        }
        Input::BuildToCompare(tree) => {
            let ctx = Context::connect(global, names).await?;
            if matches!(ctx.function_read, Some(None)) {
                progress("the function does not exist yet: it is planned as created, without building it");
                let nothing = tokio::task::spawn(async { anyhow::Ok(Package::not_built()) });
                (ctx, nothing)
            } else {
                let plan = package::prepare_build(&tree)?;
                (ctx, zip(built(plan).await?))
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

impl Input {
    /// A given binary is checked before any AWS call, and so is the toolchain for a build;
    /// the build itself waits until the credentials and region are known to work, so that a
    /// missing one is not reported after minutes.
    fn choose(inputs: &DeployInputs, packing: Packing) -> anyhow::Result<Input> {
        Ok(match &inputs.bootstrap {
            Some(path) => Input::Given(given_binary("--bootstrap", path)?),
            // A release catup ships the function it carries: no toolchain is looked for.
            None if inputs.source.is_none() && package::embedded::carries_function() => {
                Input::Carried(package::embedded::function()?)
            }
            None => {
                let tree = inputs.source.as_deref().unwrap_or(Path::new(SOURCE_TREE));
                match packing {
                    Packing::Zip => Input::Build(package::prepare_build(tree)?),
                    // plan builds only to compare with a function that exists (known once
                    // connected): for a stack not deployed yet it is "create" either way.
                    Packing::CompareOnly => Input::BuildToCompare(tree.to_owned()),
                }
            }
        })
    }
}

/// A binary given with `flag` (`--bootstrap`, `--thumbs-bootstrap`), checked before any AWS
/// call: a file, an x86_64 Linux executable, within Lambda's size.
fn given_binary(flag: &str, path: &Path) -> anyhow::Result<package::CheckedBinary> {
    let example = flag.trim_start_matches('-');
    anyhow::ensure!(
        !path.is_dir(),
        "{flag} {} is a folder: pass the bootstrap executable itself (e.g. target/lambda/{example})",
        path.display()
    );
    anyhow::ensure!(path.is_file(), "{flag} {}: no such file", path.display());
    let checked = package::check_file(path)?;
    preflight::check_unzipped_size(checked.bytes.len() as u64)?;
    Ok(checked)
}

/// Builds `plan` and checks what it built as a given binary is checked.
async fn built(plan: Build) -> anyhow::Result<package::CheckedBinary> {
    let checked = package::check_file(&build(plan).await?)?;
    preflight::check_unzipped_size(checked.bytes.len() as u64)?;
    Ok(checked)
}

/// Zips (or, for `plan`, hashes) a checked binary in the background.
fn zip(checked: package::CheckedBinary, packing: Packing) -> Zipping {
    tokio::task::spawn_blocking(move || {
        anyhow::Ok(match packing {
            Packing::Zip => package::package_checked(checked)?,
            Packing::CompareOnly => package::compare_only(checked)?,
        })
    })
}

/// Builds a function's bootstrap (lambda-fn's or thumbs-fn's), off the async runtime, saying
/// first what is built, how, why, and (for a first build only) that it takes minutes; cargo's
/// own progress follows on stderr.
pub async fn build(plan: Build) -> anyhow::Result<PathBuf> {
    let package = plan.function.package();
    let flag = match plan.function {
        FunctionCrate::Upload => "--bootstrap",
        FunctionCrate::Thumbs => "--thumbs-bootstrap",
    };
    progress(format!(
        "building the function ({package}, profile {PROFILE}) from {}, since no {flag} was given: {}",
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
