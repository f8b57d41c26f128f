//! `catup status`: the Function URL, the website URL and each resource's state, read-only.

use std::process::ExitCode;

use super::{exit, validate_names, Context, Desired, Observed, EXIT_DRIFTED, EXIT_NOT_DEPLOYED};
use crate::cli::{GlobalArgs, StatusArgs};
use crate::output::{emit, ResourceLine, StatusReport};
use crate::plan::{Change, Kind, State};
use crate::resources::account_access;
use crate::resources::{
    function, function_url, images_bucket, log_group, role, site_bucket, site_files,
};

pub async fn run(global: &GlobalArgs, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    validate_names(global)?;
    let frontend = match &args.frontend {
        Some(dir) => super::deploy::load_frontend(dir, args.allow_secret_looking_files)?,
        None => Vec::new(),
    };
    let ctx = Context::open(global).await?;
    let report = status(&ctx, frontend).await?;
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
    frontend: Vec<site_files::SiteFile>,
) -> anyhow::Result<StatusReport> {
    let stack = &ctx.stack;
    let desired = Desired::of(stack)?;
    let (observed, account) = tokio::try_join!(
        Observed::read(&ctx.aws, stack),
        account_access::read(&ctx.aws, &stack.account_id)
    )?;

    let mut lines = vec![
        line(
            Kind::ImagesBucket,
            &stack.images_bucket,
            images_bucket::diff(&desired.images, observed.images.as_ref()),
        ),
        line(
            Kind::SiteBucket,
            &stack.site_bucket,
            site_bucket::diff(&desired.site, observed.site.as_ref()),
        ),
        line(
            Kind::LogGroup,
            &stack.log_group,
            log_group::diff(&desired.log_group, observed.log_group.as_ref()),
        ),
        match &desired.role {
            Some(d) => line(Kind::Role, &d.name, role::diff(d, observed.role.as_ref())),
            None => ResourceLine::from_state(Kind::Role, &stack.role_arn, &State::External),
        },
        // Status builds nothing, so it compares the function's settings, not its code.
        line(
            Kind::Function,
            &stack.function_name,
            function::diff(&desired.function, None, observed.function.as_ref()),
        ),
    ];
    let function_url = observed.url.as_ref().map(|u| u.url.clone());
    lines.push(line(
        Kind::FunctionUrl,
        function_url.as_deref().unwrap_or(&stack.function_name),
        function_url::diff(&desired.url, observed.url.as_ref()),
    ));
    lines.push(site_files_line(
        stack.site_bucket.as_str(),
        function_url.as_deref(),
        &observed,
        frontend,
    ));
    // A resource with our name but another owner is drift, not an error: status changes nothing.
    for foreign in observed.foreign(&desired) {
        if let Some(line) = lines.iter_mut().find(|l| l.kind == foreign.kind) {
            line.state = State::Drifted(String::new()).word();
            line.detail = Some(format!("not this stack's: {}", foreign.why));
        }
    }

    // A failed function says why: deploy sends its code and configuration again.
    if let (Some(why), Some(line)) = (
        observed.function.as_ref().and_then(|f| f.failed.as_ref()),
        lines.iter_mut().find(|l| l.kind == Kind::Function),
    ) {
        line.state = State::Drifted(String::new()).word();
        line.detail = Some(format!(
            "Lambda's last update failed ({why}): run deploy to repair"
        ));
    }
    // The account's Block Public Access keeps the website private whatever the bucket says.
    if let (Some(why), Some(line)) = (
        account.drift(),
        lines
            .iter_mut()
            .find(|l| l.kind == Kind::SiteBucket && l.state == State::Ok.word()),
    ) {
        line.state = State::Drifted(String::new()).word();
        line.detail = Some(why);
    }

    let deployed = lines.iter().all(|l| l.state != State::Missing.word());
    let in_sync = deployed
        && lines
            .iter()
            .all(|l| l.state == State::Ok.word() || l.state == State::External.word());
    Ok(StatusReport {
        stack: stack.name.as_str().to_owned(),
        region: stack.region.to_string(),
        deployed,
        in_sync,
        function_url,
        website_url: stack.website_url(),
        site_bucket: stack.site_bucket.clone(),
        images_bucket: stack.images_bucket.clone(),
        function_name: stack.function_name.clone(),
        role_name: stack.role_name.clone(),
        resources: lines,
    })
}

fn line(kind: Kind, name: &str, change: Change) -> ResourceLine {
    ResourceLine::from_state(kind, name, &change.state())
}

/// config.js must hold the live URL; the frontend files are compared too when given.
fn site_files_line(
    bucket: &str,
    url: Option<&str>,
    observed: &Observed,
    mut files: Vec<site_files::SiteFile>,
) -> ResourceLine {
    let name = format!("{bucket}/");
    let Some(url) = url else {
        let state = if observed.site_etags.is_empty() {
            State::Missing
        } else {
            State::Drifted("config.js has no Function URL to point at".into())
        };
        return ResourceLine::from_state(Kind::SiteFiles, &name, &state);
    };
    files.push(site_files::config_js(url));
    line(
        Kind::SiteFiles,
        &name,
        site_files::diff(&files, &observed.site_etags),
    )
}
