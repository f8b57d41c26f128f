//! `catup deploy`: observe everything, refuse what is not ours, then close the gaps in
//! dependency order (independent resources concurrently), and upload the site last with a
//! config.js that holds the real Function URL.

use std::process::ExitCode;

use super::inputs::{prepare, zipped, Packing, ThumbsInput};
use super::survey::deploy;
use crate::cli::{DeployArgs, GlobalArgs};
use crate::output::emit;

pub async fn run(global: &GlobalArgs, args: &DeployArgs) -> anyhow::Result<ExitCode> {
    let thumbs = ThumbsInput::choose(&args.inputs, Packing::Zip)?;
    let (ctx, frontend, zipping) = prepare(global, &args.inputs, Packing::Zip).await?;
    let thumbs = thumbs.package(Packing::Zip).await?;
    let packages = (zipped(zipping), thumbs.as_ref());
    let mut report = deploy(&ctx, packages, frontend, None).await?;
    if args.verify {
        let target = super::verification::Target {
            function_url: report.function_url.clone(),
            website_url: report.website_url.clone(),
        };
        report.verification = Some(super::verification::verify_where_served(&ctx, &target).await);
    }
    emit(&report, global.json)?;
    let verified = report.verification.as_ref().is_none_or(|v| v.passed);
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
