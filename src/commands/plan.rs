//! `catup plan`: what deploy would do, resource by resource, and the site files it would
//! upload and delete; changes nothing. Exits 0 when there is nothing to do, 2 when deploy
//! would change something (Terraform's `-detailed-exitcode`), 1 on error or refusal.

use std::process::ExitCode;

use super::exit;
use super::inputs::{prepare, zipped, Packing, ThumbsInput};
use super::survey::survey;
use crate::cli::{GlobalArgs, PlanArgs};
use crate::output::{emit, PlanReport};
use crate::reconcile::DeployAction;

/// Deploy would change something.
pub const EXIT_CHANGES: u8 = 2;

pub async fn run(global: &GlobalArgs, args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let thumbs = ThumbsInput::choose(&args.inputs, Packing::CompareOnly)?;
    let (ctx, frontend, zipping) = prepare(global, &args.inputs, Packing::CompareOnly).await?;
    let thumbs = thumbs.package(Packing::CompareOnly).await?;
    let survey = survey(&ctx, (zipped(zipping), thumbs.as_ref()), &frontend, None).await?;
    let refusal = survey.refusal(&ctx.stack);
    let rows = survey.plan.rows();
    if rows
        .iter()
        .all(|r| matches!(r.action, DeployAction::Create | DeployAction::External))
    {
        super::finding::elsewhere(&ctx, "plan").await;
    }
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

#[cfg(test)]
mod tests {
    use crate::deploy_plan::PlanRow;
    use crate::reconcile::{AnyAspect, DeployAction, Kind};
    use crate::resources::function;

    #[test]
    fn sentences_name_the_change_and_its_aspects() {
        let row = PlanRow {
            kind: Kind::Function,
            name: "cats-api".into(),
            action: DeployAction::Update(vec![AnyAspect::new(function::Aspect::Code)]),
        };
        assert_eq!(row.sentence(), "will update function cats-api (code)");
        let row = PlanRow {
            kind: Kind::ImagesBucket,
            name: "b".into(),
            action: DeployAction::Create,
        };
        assert_eq!(row.sentence(), "will create images bucket b");
    }
}
