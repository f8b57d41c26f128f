//! `catup status`: the Function URL, the website URL and each resource's state, read-only.

use std::process::ExitCode;

use super::{exit, validate_names, Context, EXIT_DRIFTED, EXIT_NOT_DEPLOYED};
use crate::cli::{GlobalArgs, StatusArgs};
use crate::deploy_plan::DeployPlan;
use crate::output::{emit, ResourceLine, StatusReport};
use crate::pricing::{monthly_usd, Prices};
use crate::reconcile::{Drift, Kind, LineState, State};
use crate::resource::SiteInput;
use crate::resource_support::account_access;
use crate::resources::site_files;
use crate::stack_finder::{held, usage_of};
use crate::stack_resources::{Desired, Observed};

pub async fn run(global: &GlobalArgs, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let names = validate_names(global)?;
    let frontend = match &args.frontend {
        Some(dir) => Some(super::inputs::load_frontend(
            dir,
            args.allow_secret_looking_files,
        )?),
        None => None,
    };
    let ctx = Context::connect(global, names).await?;
    let mut report = status(&ctx, frontend).await?;
    let nothing_here = report
        .resources
        .iter()
        .all(|l| matches!(l.state, LineState::Missing | LineState::External));
    if nothing_here {
        report.found_in_regions = super::finding::elsewhere(&ctx, "status").await;
    }
    emit(&report, global.json)?;
    Ok(if !report.deployed {
        exit(EXIT_NOT_DEPLOYED)
    } else if !report.in_sync {
        exit(EXIT_DRIFTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// `frontend`: the files to compare besides config.js (none: config.js only).
pub async fn status(
    ctx: &Context,
    frontend: Option<Vec<site_files::SiteFile>>,
) -> anyhow::Result<StatusReport> {
    let stack = &ctx.stack;
    let desired = Desired::of(stack)?;
    let reading = ctx.reading();
    let (observed, account) = tokio::try_join!(
        Observed::read(&reading),
        account_access::read(&ctx.aws, &stack.account_id)
    )?;
    // Status builds nothing, so the plan compares the function's settings, not its code.
    let site = SiteInput {
        files: frontend.as_deref().unwrap_or_default(),
        complete: frontend.is_some(),
        api_url: None,
    };
    let plan = DeployPlan::new(stack, &desired, &observed, None, &site);
    let mut states: Vec<(Kind, String, State)> = plan
        .rows()
        .into_iter()
        .map(|row| (row.kind, row.name, row.action.state()))
        .collect();

    // A failed function says why: deploy sends its code and configuration again.
    if let (Some(why), Some(state)) = (
        observed.function.as_ref().and_then(|f| f.failed.as_ref()),
        state_of(&mut states, Kind::Function),
    ) {
        *state = State::Drifted(Drift::Because(format!(
            "Lambda's last update failed ({why}): run deploy to repair"
        )));
    }
    // The account's Block Public Access keeps the website private whatever the bucket says.
    if let (Some(why), Some(state)) = (account.drift(), state_of(&mut states, Kind::SiteBucket)) {
        if *state == State::Ok {
            *state = State::Drifted(Drift::Because(why));
        }
    }

    let deployed = states.iter().all(|(.., s)| *s != State::Missing);
    let in_sync = deployed
        && states
            .iter()
            .all(|(.., s)| matches!(s, State::Ok | State::External));
    let images = match &observed.images {
        Some(_) => Some(held::images(&ctx.aws, &stack.images_bucket).await?),
        None => None,
    };
    let log_bytes = observed.log_group.as_ref().map_or(0, |g| g.stored_bytes);
    let usage = usage_of(images.as_ref(), log_bytes);
    let lines = states
        .iter()
        .map(|(kind, name, state)| ResourceLine::from_state(*kind, name, state))
        .collect();
    Ok(StatusReport {
        stack: stack.name.as_str().to_owned(),
        region: stack.region.to_string(),
        deployed,
        in_sync,
        function_url: observed.url.as_ref().map(|u| u.url.clone()),
        website_url: stack.website_url(),
        site_bucket: stack.site_bucket.clone(),
        images_bucket: stack.images_bucket.clone(),
        function_name: stack.function_name.clone(),
        role_name: stack.role_name.clone(),
        resources: lines,
        monthly_usd: monthly_usd(&usage, &Prices::of(stack.region.as_str())),
        images,
        found_in_regions: Vec::new(),
    })
}

fn state_of(states: &mut [(Kind, String, State)], kind: Kind) -> Option<&mut State> {
    states
        .iter_mut()
        .find(|(k, ..)| *k == kind)
        .map(|(.., state)| state)
}
