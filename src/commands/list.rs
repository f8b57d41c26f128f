//! `catup list`: every catup stack in the account, in every region, with what is left of
//! it, the images it holds and an estimated monthly cost. Reads only.

use std::process::ExitCode;

use crate::aws::{Aws, ConnectOptions};
use crate::cli::GlobalArgs;
use crate::output::emit;
use crate::pricing::PRICES_AS_OF;
use crate::region::Region;
use crate::stack_finder::{self, report::ListReport};

pub async fn run(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    if let Some(region) = &global.region {
        Region::parse(region)?;
    }
    let aws = Aws::connect(&ConnectOptions {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    })
    .await?;
    // The first call proves the credentials and endpoint, with the error that says so.
    aws.account_id().await?;
    let regions = Region::all_with(&aws.region);
    let (stacks, unread_regions) = stack_finder::census(&aws, &regions).await?;
    let report = ListReport {
        prices_as_of: PRICES_AS_OF,
        stacks,
        unread_regions,
    };
    emit(&report, global.json)?;
    Ok(ExitCode::SUCCESS)
}
