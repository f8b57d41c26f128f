//! `catup list`: every catup stack in the account, in every region, with what is left of
//! it, the images it holds and an estimated monthly cost. Reads only.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::output::emit;
use crate::pricing::PRICES_AS_OF;
use crate::region::Region;
use crate::stack_finder::{self, report::ListReport};

pub async fn run(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let aws = super::connect_account(global).await?;
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
