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
    // The images are listed beside the reads (no call more in a row); the listing counts only
    // when the bucket exists.
    let (observed, account, held) = tokio::join!(
        Observed::read(&reading),
        account_access::read(&ctx.aws, &stack.account_id),
        held::images(&ctx.aws, &stack.images_bucket),
    );
    let (observed, account) = (observed?, account?);
    let images = match &observed.images {
        Some(_) => Some(held?),
        None => None,
    };
    // Status builds nothing, so the plan compares the function's settings, not its code.
    let site = SiteInput {
        files: frontend.as_deref().unwrap_or_default(),
        complete: frontend.is_some(),
        api_url: None,
    };
    let plan = DeployPlan::new(stack, &desired, &observed, Default::default(), &site);
    let states = states_of(&plan, &observed, account.drift());
    let deployed = states.iter().all(|(.., s)| *s != State::Missing);
    let in_sync = deployed
        && states
            .iter()
            .all(|(.., s)| matches!(s, State::Ok | State::External));
    let log_bytes = observed.log_group.as_ref().map_or(0, |g| g.stored_bytes);
    let usage = usage_of(images.as_ref(), log_bytes);
    let caps = Caps::of(&observed);
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
        keep_days: caps.keep_days,
        max_images: caps.max_images,
        reserved_concurrency: caps.reserved_concurrency,
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

/// Each resource's state as deploy's plan sees it, with what the plan cannot tell: a failed
/// function says why (deploy sends its code and configuration again), and the account's
/// Block Public Access keeps the website private whatever the bucket says.
fn states_of(
    plan: &DeployPlan,
    observed: &Observed,
    account_drift: Option<String>,
) -> Vec<(Kind, String, State)> {
    let mut states: Vec<(Kind, String, State)> = plan
        .rows()
        .into_iter()
        .map(|row| (row.kind, row.name, row.action.state()))
        .collect();
    if let (Some(why), Some(state)) = (
        observed.function.as_ref().and_then(|f| f.failed.as_ref()),
        state_of(&mut states, Kind::Function),
    ) {
        *state = State::Drifted(Drift::Because(format!(
            "Lambda's last update failed ({why}): run deploy to repair"
        )));
    }
    if let (Some(why), Some(state)) = (account_drift, state_of(&mut states, Kind::SiteBucket)) {
        if *state == State::Ok {
            *state = State::Drifted(Drift::Because(why));
        }
    }
    states
}

/// The caps the user set (`deploy --keep-days`, `--max-images`, `--concurrency`), as the
/// resources hold them.
struct Caps {
    keep_days: Option<i32>,
    max_images: Option<u32>,
    reserved_concurrency: Option<i32>,
}

impl Caps {
    fn of(observed: &Observed) -> Caps {
        let function = observed.function.as_ref();
        let variable = crate::resources::function::MAX_IMAGES_VAR;
        Caps {
            keep_days: observed.images.as_ref().and_then(|i| i.lifecycle.keep_days),
            max_images: function
                .and_then(|f| f.settings.environment.get(variable))
                .and_then(|cap| cap.parse().ok()),
            reserved_concurrency: function
                .and_then(|f| f.reserved_concurrency)
                .filter(|r| *r > 0),
        }
    }
}
