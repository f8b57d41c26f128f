//! `catup plan`: what deploy would do, resource by resource, and the site files it would
//! upload and delete; changes nothing. Exits 0 when there is nothing to do, 2 when deploy
//! would change something (Terraform's `-detailed-exitcode`), 1 on error or refusal.

use std::process::ExitCode;

use super::deploy::{prepare, survey, zipped, Packing};
use super::exit;
use crate::cli::{GlobalArgs, PlanArgs};
use crate::output::{abridged, emit, PlanReport};
use crate::stack_plan::PlanRow;

/// Deploy would change something.
pub const EXIT_CHANGES: u8 = 2;

pub async fn run(global: &GlobalArgs, args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let (ctx, frontend, zipping) = prepare(global, &args.inputs, Packing::CompareOnly).await?;
    let survey = survey(&ctx, zipped(zipping), &frontend, None).await?;
    let refusal = survey.refusal(&ctx.stack);
    let rows = survey.plan.rows();
    let report = PlanReport {
        stack: ctx.stack.name.as_str().to_owned(),
        region: ctx.stack.region.to_string(),
        changes: rows.iter().any(|r| r.action.changes()),
        site_files: survey.plan.site_sync().clone(),
        refusal: refusal.as_ref().map(|e| format!("{e:#}")),
        resources: rows,
    };
    emit(&report, global.json)?;
    Ok(if let Some(refusal) = refusal {
        crate::output::say(format_args!("error: deploy would refuse: {refusal:#}"));
        ExitCode::FAILURE
    } else if report.changes {
        exit(EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    })
}

/// "will create images bucket X", "will update function f (code)": how deploy announces a
/// change before it makes it.
pub fn sentence(row: &PlanRow) -> String {
    let mut line = format!("will {} {} {}", row.action.word(), row.kind, row.name);
    if let Some(detail) = row.action.detail() {
        line.push_str(&format!(" ({})", abridged(&detail)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Kind};

    #[test]
    fn sentences_name_the_change_and_its_aspects() {
        let row = PlanRow {
            kind: Kind::Function,
            name: "cats-api".into(),
            action: Action::Update(vec!["code".into()]),
        };
        assert_eq!(sentence(&row), "will update function cats-api (code)");
        let row = PlanRow {
            kind: Kind::ImagesBucket,
            name: "b".into(),
            action: Action::Create,
        };
        assert_eq!(sentence(&row), "will create images bucket b");
    }
}
