//! Executing teardown's plan: exactly its deletions, each resource once what must go first
//! is gone (the reverse of deploy's needs, and what each declares). A deletion that fails
//! never abandons the others mid-call: every one runs to its end, and the errors are
//! reported together.

use anyhow::bail;

use crate::commands::Context;
use crate::output::TeardownReport;
use crate::resource::Deleting;
use crate::stack_resources::{self, Found};
use crate::teardown_plan::TeardownPlan;

pub async fn teardown(
    ctx: &Context,
    plan: &TeardownPlan,
    found: &Found,
    yes: bool,
) -> anyhow::Result<TeardownReport> {
    let stack = &ctx.stack;
    let report = |deleted_anything| TeardownReport {
        stack: stack.name.as_str().to_owned(),
        region: stack.region.to_string(),
        deleted_anything,
        resources: ctx.reporter.lines(),
        left_alone: ctx.left_alone.clone(),
    };
    if let Some(refusal) = plan.refusal() {
        bail!("{refusal}");
    }
    if !plan.deletes_anything() {
        return Ok(report(false));
    }
    if !yes {
        crate::waiting::paused(async { super::confirm(stack) }).await?;
    }
    let deleting = Deleting {
        aws: &ctx.aws,
        stack,
        plan,
        found,
        reporter: &ctx.reporter,
        milestones: stack_resources::milestones(),
    };
    all_of(Found::delete(&deleting).await)?;
    Ok(report(true))
}

/// Every branch's error, in one line: the first, then how many more and what they were.
fn all_of(results: impl IntoIterator<Item = anyhow::Result<()>>) -> anyhow::Result<()> {
    let errors: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.err().map(|e| format!("{e:#}")))
        .collect();
    match errors.as_slice() {
        [] => Ok(()),
        [one] => bail!("{one}"),
        [first, rest @ ..] => bail!("{first}; also: {}", rest.join("; also: ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_branch_error_is_reported() {
        assert!(all_of([Ok(()), Ok(())]).is_ok());
        let one = all_of([Ok(()), Err(anyhow::anyhow!("a"))]).unwrap_err();
        assert_eq!(one.to_string(), "a");
        let two = all_of([Err(anyhow::anyhow!("a")), Ok(()), Err(anyhow::anyhow!("b"))]);
        assert_eq!(two.unwrap_err().to_string(), "a; also: b");
    }
}
