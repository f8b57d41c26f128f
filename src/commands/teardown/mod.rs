//! `catup teardown`: delete everything the stack owns, and nothing it does not. Teardown
//! reads what exists and whose it is, makes its plan (`plan.rs`), and refuses everything when
//! any resource is refused, so a refusal leaves nothing half-deleted; `--dry-run` prints
//! the plan and stops there.

mod plan;
mod read;
mod resolve;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::bail;

use super::Context;
use crate::cli::{GlobalArgs, TeardownArgs};
use crate::output::{emit, say, TeardownPlanReport, TeardownReport};
use crate::plan::{Kind, Outcome};
use crate::resources::{bucket, function, images_bucket, log_group, role, site_bucket};
use crate::stack::Stack;

pub use plan::{Action, Step, TeardownPlan};
pub use read::Found;

pub async fn run(global: &GlobalArgs, args: &TeardownArgs) -> anyhow::Result<ExitCode> {
    let mut ctx = Context::open_lenient(global).await?;
    let found = resolve::read_resolved(&mut ctx).await?;
    let plan = TeardownPlan::of(&ctx.stack, &found)?;
    if args.dry_run {
        let report = TeardownPlanReport {
            stack: ctx.stack.name.as_str().to_owned(),
            region: ctx.stack.region.to_string(),
            would_delete: plan.deletes_anything(),
            refusal: plan.refusal().map(str::to_owned),
            resources: plan.lines(),
            left_alone: ctx.left_alone.clone(),
        };
        emit(&report, global.json)?;
        return Ok(match plan.refusal() {
            Some(refusal) => {
                say(format_args!("error: {refusal}"));
                ExitCode::FAILURE
            }
            None => ExitCode::SUCCESS,
        });
    }
    let report = match teardown(&ctx, &plan, &found, args.yes).await {
        // The user said no: nothing went wrong, yet nothing was done (non-zero, as Terraform).
        Err(e) if e.downcast_ref::<Cancelled>().is_some() => {
            say(Cancelled);
            return Ok(ExitCode::FAILURE);
        }
        report => report?,
    };
    emit(&report, global.json)?;
    Ok(ExitCode::SUCCESS)
}

/// The prompt was answered no.
#[derive(Debug, thiserror::Error)]
#[error("teardown cancelled: nothing changed")]
pub struct Cancelled;

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
        return Err(Cancelled.into());
    }
    Ok(())
}

/// Executes `plan`: exactly its deletions, in the order the resources depend on each other.
pub async fn teardown(
    ctx: &Context,
    plan: &TeardownPlan,
    found: &Found,
    yes: bool,
) -> anyhow::Result<TeardownReport> {
    let (aws, stack, reporter) = (&ctx.aws, &ctx.stack, &ctx.reporter);
    let report = |deleted_anything| TeardownReport {
        stack: stack.name.as_str().to_owned(),
        region: stack.region.to_string(),
        deleted_anything,
        resources: reporter.lines(),
        left_alone: ctx.left_alone.clone(),
    };
    if let Some(refusal) = plan.refusal() {
        bail!("{refusal}");
    }
    if !plan.deletes_anything() {
        return Ok(report(false));
    }
    if !yes {
        crate::waiting::paused(async { confirm(stack) }).await?;
    }

    let progress = |message: String| reporter.note(message);
    let absent = |step: &Step| reporter.resource(step.kind, &step.name, &Outcome::Absent);
    tokio::try_join!(
        async {
            // Deleting the function deletes its URL and the URL's permissions with it. The
            // images bucket empties meanwhile but is deleted only once the function is gone
            // (emptied once more then if uploads arrived), so that no new presigned upload URL
            // is handed out for it; the log group too, so that no late invocation re-creates
            // it (untagged, with a role that may create log groups: never catup's to delete
            // again). For that reason the log group is deleted with the function even when it
            // was absent at the read.
            let images = &plan.images;
            let (_, already) = tokio::try_join!(
                async {
                    match plan.function.deletes() {
                        true => {
                            let outcome = function::delete(aws, &plan.function.name).await?;
                            let url = Outcome::of_deletion(plan.url.deletes());
                            reporter.resource(Kind::FunctionUrl, &plan.url.name, &url);
                            reporter.resource(Kind::Function, &plan.function.name, &outcome);
                        }
                        false => [&plan.url, &plan.function].into_iter().for_each(absent),
                    }
                    anyhow::Ok(())
                },
                async {
                    match images.deletes() {
                        true => bucket::empty(aws, &images.name).await,
                        false => Ok(0),
                    }
                },
            )?;
            tokio::try_join!(
                async {
                    let group = &plan.log_group;
                    match group.deletes() || plan.function.deletes() {
                        true => {
                            let outcome = log_group::delete(aws, &group.name).await?;
                            reporter.resource(group.kind, &group.name, &outcome);
                        }
                        false => absent(group),
                    }
                    anyhow::Ok(())
                },
                async {
                    match images.deletes() {
                        true => {
                            let more = images_bucket::delete(aws, &images.name, &progress).await?;
                            deleted(ctx, images, already + more);
                        }
                        false => absent(images),
                    }
                    anyhow::Ok(())
                },
            )?;
            anyhow::Ok(())
        },
        async {
            let roles = [(&plan.role, &found.role)].into_iter().chain(
                plan.legacy_role
                    .iter()
                    .map(|step| (step, &found.legacy_role)),
            );
            for (step, actual) in roles {
                match (&step.action, actual) {
                    (Action::Delete, Some(actual)) => {
                        let outcome = role::delete_described(aws, &step.name, actual).await?;
                        if let Some(note) = step.note {
                            reporter.note(format!("role {} ({note}): deleted", step.name));
                        }
                        reporter.resource(step.kind, &step.name, &outcome);
                    }
                    (Action::External, _) => {
                        reporter.resource(step.kind, &step.name, &Outcome::External)
                    }
                    _ => absent(step),
                }
            }
            anyhow::Ok(())
        },
        async {
            let site = &plan.site;
            match site.deletes() {
                true => {
                    let objects = site_bucket::delete(aws, &site.name, &progress).await?;
                    deleted(ctx, site, objects);
                }
                false => absent(site),
            }
            anyhow::Ok(())
        },
    )?;
    Ok(report(true))
}

/// Reports a deleted bucket and how many object versions went with it.
fn deleted(ctx: &Context, bucket: &Step, objects: usize) {
    if objects > 0 {
        ctx.reporter.note(format!(
            "{} {}: deleted {}",
            bucket.kind,
            bucket.name,
            crate::output::count(objects, "object version", "object versions")
        ));
    }
    ctx.reporter
        .resource(bucket.kind, &bucket.name, &Outcome::Deleted);
}
