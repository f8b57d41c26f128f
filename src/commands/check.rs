//! `catup check`: a teacher's grader. From a website URL alone (no AWS credentials, region
//! or configuration: nothing of AWS is read or called), it reads the page and its
//! config.js, finds the Function URL, and makes the requests a browser on the site makes,
//! in the same order (the checks are `verify`'s, `verify::checker`). Each check passes,
//! fails with the lecture's troubleshooting hint, or is skipped because one it needs
//! failed. `--class FILE` checks a whole class, a few sites at a time, each within its
//! deadline. The one thing written is the tiny test image each site gets (its key is
//! printed); nothing is deleted: no credentials, no deletion.

use std::process::ExitCode;
use std::time::{Duration, Instant};

mod class;
mod page;
mod report;
mod site;
mod step;

use crate::cli::{CheckArgs, GlobalArgs};
use crate::output::emit;
use report::CheckReport;

/// Room left under `--timeout` for the report: the run ends with every row, never with
/// the deadline's error.
const REPORT_MARGIN: Duration = Duration::from_secs(2);

pub async fn run(global: &GlobalArgs, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    refuse_aws_flags(global)?;
    let entries = class::entries(&args.urls, args.class.as_deref())?;
    let limits = class::Limits {
        jobs: usize::try_from(args.jobs).unwrap_or(1),
        site: Duration::from_secs(args.deadline),
        run: (global.timeout > 0).then(|| {
            let whole = Duration::from_secs(global.timeout);
            Instant::now() + whole.saturating_sub(REPORT_MARGIN)
        }),
    };
    let sites = class::check_all(entries, &limits).await;
    let table = args.class.is_some() || sites.len() > 1;
    let report = CheckReport::new(sites, table);
    match args.csv.as_deref() {
        Some(path) if path.as_os_str() == "-" => print_csv(&report)?,
        Some(path) => std::fs::write(path, report.csv())
            .map_err(|e| anyhow::anyhow!("write the CSV to {}: {e}", path.display()))?,
        None => {}
    }
    if args.csv.as_deref().is_none_or(|p| p.as_os_str() != "-") {
        emit(&report, global.json)?;
    }
    Ok(match report.passed {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}

/// check reads nothing of AWS: a flag that would choose an account, a region or a
/// resource is a mistake to say, not to ignore.
fn refuse_aws_flags(global: &GlobalArgs) -> anyhow::Result<()> {
    let given = [
        ("--profile", global.profile.is_some()),
        ("--region", global.region.is_some()),
        ("--endpoint-url", global.endpoint_url.is_some()),
        ("--role-arn", global.role_arn.is_some()),
        ("--site-bucket", global.site_bucket.is_some()),
        ("--images-bucket", global.images_bucket.is_some()),
    ];
    match given.iter().find(|(_, given)| *given) {
        Some((flag, _)) => anyhow::bail!(
            "catup check uses no AWS account (it checks a site from its URL, as a browser does): drop {flag}"
        ),
        None => Ok(()),
    }
}

fn print_csv(report: &CheckReport) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out
        .write_all(report.csv().as_bytes())
        .and_then(|()| out.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            Err(crate::output::StdoutClosed.into())
        }
        written => Ok(written?),
    }
}
