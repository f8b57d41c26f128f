//! `catup verify`: the stack's URLs (or those given), then every check of `verification`.

use std::process::ExitCode;

use anyhow::Context as _;

use super::verification::{verify_where_served, Target};
use super::Context;
use crate::cli::{GlobalArgs, VerifyArgs};
use crate::output::emit;
use crate::resources::function_url;

pub async fn run(global: &GlobalArgs, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::open(global).await?;
    let target = target(&ctx, args).await?;
    let report = verify_where_served(&ctx, &target).await;
    emit(&report, global.json)?;
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub async fn target(ctx: &Context, args: &VerifyArgs) -> anyhow::Result<Target> {
    let function_url = match &args.function_url {
        Some(url) => url.clone(),
        None => function_url::describe(&ctx.aws, &ctx.stack.function_name)
            .await?
            .map(|u| u.url)
            .with_context(|| {
                format!(
                    "stack '{}' has no Function URL: run catup deploy first",
                    ctx.stack.name.as_str()
                )
            })?,
    };
    Ok(Target {
        function_url,
        website_url: args
            .website_url
            .clone()
            .unwrap_or_else(|| ctx.stack.website_url()),
    })
}
