//! `catup teardown`: delete everything the stack owns, and nothing it does not. Teardown
//! reads what exists and whose it is, makes its plan (`teardown_plan`), and refuses everything when
//! any resource is refused, so a refusal leaves nothing half-deleted; `--dry-run` prints
//! the plan and stops there.

mod all;
mod execute;
mod resolve;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::bail;

use super::Context;
use crate::cli::{GlobalArgs, TeardownArgs};
use crate::output::{emit, say, TeardownPlanReport};
use crate::stack::Stack;

pub use crate::stack_resources::Found;
pub use crate::teardown_plan::{Step, TeardownAction, TeardownPlan};
pub use execute::teardown;

pub async fn run(global: &GlobalArgs, args: &TeardownArgs) -> anyhow::Result<ExitCode> {
    if args.all {
        return all::run(global, args.yes).await;
    }
    let mut ctx = Context::open_lenient(global).await?;
    let found = resolve::read_resolved(&mut ctx).await?;
    let plan = TeardownPlan::of(&ctx.stack, &found)?;
    // Nothing of it here: a stack deployed elsewhere is named with the command to run there,
    // and teardown ends as "not deployed" (here), changing nothing.
    if !plan.deletes_anything() && plan.refusal().is_none() {
        let elsewhere = super::finding::elsewhere(&ctx, "teardown").await;
        if !elsewhere.is_empty() {
            if global.json {
                let stack = &ctx.stack;
                let message = format!(
                    "stack '{}' has nothing in {}",
                    stack.name.as_str(),
                    stack.region
                );
                let error = super::finding::not_here_json(&message, &elsewhere);
                let _ = writeln!(std::io::stdout(), "{error}");
            }
            return Ok(super::exit(super::EXIT_NOT_DEPLOYED));
        }
    }
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
    answered_yes()
}

/// Reads the answer to the question just asked on stderr: yes, or [`Cancelled`].
fn answered_yes() -> anyhow::Result<()> {
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        return Err(Cancelled.into());
    }
    Ok(())
}
