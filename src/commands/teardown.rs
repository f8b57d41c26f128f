//! `catup teardown`: delete everything the stack owns, and nothing it does not. Every
//! resource is checked before the first deletion, so a refusal leaves nothing half-deleted.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::bail;

use super::{Context, Desired, Observed};
use crate::cli::{GlobalArgs, TeardownArgs};
use crate::output::{emit, TeardownReport};
use crate::plan::{Kind, Outcome};
use crate::resources::{bucket, function, log_group, object_lock, role};
use crate::stack::Stack;

pub async fn run(global: &GlobalArgs, args: &TeardownArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::open(global).await?;
    let report = teardown(&ctx, args.yes).await?;
    emit(&report, global.json)?;
    Ok(ExitCode::SUCCESS)
}

fn nothing_exists(o: &Observed) -> bool {
    o.images.is_none()
        && o.site.is_none()
        && o.log_group.is_none()
        && o.role.is_none()
        && o.function.is_none()
        && o.url.is_none()
}

fn confirm(stack: &Stack) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!("teardown deletes stack '{}' and every image in it: pass --yes to confirm (stdin is not a terminal)", stack.name.as_str());
    }
    eprint!(
        "Delete stack '{}' in {} (function, role, log group, buckets {} and {} with all their objects)? [y/N] ",
        stack.name.as_str(),
        stack.region,
        stack.site_bucket,
        stack.images_bucket
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        bail!("teardown cancelled: nothing was deleted");
    }
    Ok(())
}

/// The role of the old, region-less name, when it is this stack's and was last written for
/// this region (another region's function may still use one written for that region).
async fn legacy_role(ctx: &Context, desired: &Desired) -> anyhow::Result<Option<String>> {
    let (Some(name), Some(d)) = (&ctx.stack.legacy_role_name, &desired.role) else {
        return Ok(None);
    };
    let actual = role::describe(&ctx.aws, name).await?;
    Ok(actual
        .filter(|a| role::is_this_regions_legacy(d, a))
        .map(|_| name.clone()))
}

pub async fn teardown(ctx: &Context, yes: bool) -> anyhow::Result<TeardownReport> {
    let (aws, stack, reporter) = (&ctx.aws, &ctx.stack, &ctx.reporter);
    let desired = Desired::of(stack)?;
    let (observed, legacy_role) = tokio::try_join!(
        Observed::read(aws, stack, ctx.function_read.clone()),
        legacy_role(ctx, &desired)
    )?;
    let report = |deleted_anything| TeardownReport {
        stack: stack.name.as_str().to_owned(),
        region: stack.region.to_string(),
        deleted_anything,
        resources: reporter.lines(),
    };
    if nothing_exists(&observed) && legacy_role.is_none() {
        return Ok(report(false));
    }
    observed.check_ours(&desired)?;
    // Object Lock would stop teardown half-way: find locked objects before deleting anything.
    tokio::try_join!(
        async {
            match &observed.images {
                Some(_) => object_lock::check_deletable(aws, &stack.images_bucket).await,
                None => Ok(()),
            }
        },
        async {
            match &observed.site {
                Some(_) => object_lock::check_deletable(aws, &stack.site_bucket).await,
                None => Ok(()),
            }
        },
    )?;
    if !yes {
        confirm(stack)?;
    }

    let progress = |message: String| reporter.note(message);
    // `already`: versions deleted while the function was still going.
    let emptied = |kind: Kind, name: &str, exists: bool, already: usize| {
        let name = name.to_owned();
        async move {
            let outcome = if exists {
                let objects = already + bucket::empty_and_delete(aws, &name, &progress).await?;
                if objects > 0 {
                    reporter.note(format!(
                        "{kind} {name}: deleted {}",
                        crate::output::count(objects, "object version", "object versions")
                    ));
                }
                Outcome::Deleted
            } else {
                Outcome::Absent
            };
            reporter.resource(kind, &name, &outcome);
            anyhow::Ok(())
        }
    };
    let images_exist = observed.images.is_some();
    tokio::try_join!(
        async {
            // Deleting the function deletes its URL and the URL's permissions with it. The
            // images bucket empties meanwhile but is deleted only once the function is gone
            // (emptied once more then), so that no new presigned upload URL is handed out
            // for it; the log group too, so that no late invocation re-creates it (untagged,
            // with a role that may create log groups: never catup's to delete again).
            let (_, already) = tokio::try_join!(
                async {
                    let outcome = function::delete(aws, &stack.function_name).await?;
                    let url = Outcome::of_deletion(observed.url.is_some());
                    reporter.resource(Kind::FunctionUrl, &stack.function_name, &url);
                    reporter.resource(Kind::Function, &stack.function_name, &outcome);
                    anyhow::Ok(())
                },
                async {
                    match images_exist {
                        true => bucket::empty(aws, &stack.images_bucket).await,
                        false => Ok(0),
                    }
                },
            )?;
            tokio::try_join!(
                async {
                    let outcome = log_group::delete(aws, &stack.log_group).await?;
                    reporter.resource(Kind::LogGroup, &stack.log_group, &outcome);
                    anyhow::Ok(())
                },
                emptied(
                    Kind::ImagesBucket,
                    &stack.images_bucket,
                    images_exist,
                    already
                ),
            )?;
            anyhow::Ok(())
        },
        async {
            match &stack.role_name {
                Some(name) => {
                    let outcome = role::delete(aws, name).await?;
                    reporter.resource(Kind::Role, name, &outcome);
                    if let Some(legacy) = &legacy_role {
                        role::delete(aws, legacy).await?;
                        reporter.note(format!(
                            "role {legacy} (the region-less name of older catup versions): deleted"
                        ));
                    }
                }
                None => reporter.resource(Kind::Role, &stack.role_arn, &Outcome::External),
            }
            anyhow::Ok(())
        },
        emptied(
            Kind::SiteBucket,
            &stack.site_bucket,
            observed.site.is_some(),
            0
        ),
    )?;
    Ok(report(true))
}
