//! `catup teardown --all`: every stack `catup list` finds, in every region, each torn down
//! by the one teardown path (its own read, plan, refusal and deletions), after one
//! confirmation that names every stack and region.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::bail;

use super::{execute::teardown, resolve, Cancelled, TeardownPlan};
use crate::cli::GlobalArgs;
use crate::commands::Context;
use crate::output::{emit, say, TeardownAllReport, TeardownReport};
use crate::region::Region;
use crate::stack_finder;

pub async fn run(global: &GlobalArgs, yes: bool) -> anyhow::Result<ExitCode> {
    let per_stack = [
        ("--site-bucket", global.site_bucket.is_some()),
        ("--images-bucket", global.images_bucket.is_some()),
        ("--role-arn", global.role_arn.is_some()),
    ];
    if let Some((flag, _)) = per_stack.iter().find(|(_, given)| *given) {
        bail!("teardown --all takes no {flag}: each stack's names come from its own tags");
    }
    let aws = crate::commands::connect_account(global).await?;
    let (stacks, unread) = stack_finder::stacks(&aws, &Region::all_with(&aws.region)).await?;
    for region in &unread {
        say(format_args!(
            "not read: {} ({}): a stack there is not torn down",
            region.region, region.reason
        ));
    }
    if !stacks.is_empty() && !yes {
        match crate::waiting::paused(async { confirm(&stacks) }).await {
            Err(e) if e.downcast_ref::<Cancelled>().is_some() => {
                say(Cancelled);
                return Ok(ExitCode::FAILURE);
            }
            answer => answer?,
        }
    }
    let mut report = TeardownAllReport {
        stacks: Vec::new(),
        failed: Vec::new(),
    };
    for (stack, region) in &stacks {
        let mut one = global.clone();
        one.stack.clone_from(stack);
        one.region = Some(region.to_string());
        match one_stack(&one).await {
            Ok(torn_down) => report.stacks.push(torn_down),
            Err(e) => {
                say(format_args!(
                    "error: teardown of stack '{stack}' in {region}: {e:#}"
                ));
                report.failed.push(format!("{stack} in {region}: {e:#}"));
            }
        }
    }
    emit(&report, global.json)?;
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One stack's teardown, as `catup --stack S --region R teardown --yes` does it.
async fn one_stack(global: &GlobalArgs) -> anyhow::Result<TeardownReport> {
    let mut ctx = Context::open_lenient(global).await?;
    let found = resolve::read_resolved(&mut ctx).await?;
    let plan = TeardownPlan::of(&ctx.stack, &found)?;
    teardown(&ctx, &plan, &found, true).await
}

fn confirm(stacks: &[(String, Region)]) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "teardown --all deletes {} and every image in them: pass --yes to confirm (stdin is not a terminal)",
            crate::output::count(stacks.len(), "stack", "stacks")
        );
    }
    eprintln!("Delete every catup stack of this account, with all their objects:");
    for (stack, region) in stacks {
        eprintln!("  {stack} in {region}");
    }
    eprint!("[y/N] ");
    super::answered_yes()
}
