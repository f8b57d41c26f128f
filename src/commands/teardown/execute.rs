//! Executing teardown's plan: exactly its deletions, in the order the resources depend on
//! each other. A branch that fails never abandons the others mid-call: every branch runs to
//! its end, and the errors are reported together.

use anyhow::bail;

use super::plan::{Action, Step, TeardownPlan};
use super::read::Found;
use crate::commands::Context;
use crate::output::TeardownReport;
use crate::reconcile::{Kind, Outcome};
use crate::resource_support::bucket;
use crate::resources::{function, images_bucket, log_group, role, site_bucket};

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
    let run = Run { ctx, plan, found };
    let (function_side, site) = tokio::join!(run.function_side(), run.site());
    all_of([function_side, site])?;
    Ok(report(true))
}

/// One teardown being executed.
struct Run<'a> {
    ctx: &'a Context,
    plan: &'a TeardownPlan,
    found: &'a Found,
}

impl Run<'_> {
    fn progress(&self, message: String) {
        self.ctx.reporter.note(message);
    }

    fn absent(&self, step: &Step) {
        self.ctx
            .reporter
            .resource(step.kind, &step.name, &Outcome::Absent);
    }

    /// Deleting the function deletes its URL and the URL's permissions with it. The images
    /// bucket empties meanwhile but is deleted only once the function is gone (emptied once
    /// more then if uploads arrived), so that no new presigned upload URL is handed out for
    /// it; the log group too, so that no late invocation re-creates it (untagged, with a role
    /// that may create log groups: never catup's to delete again). The role goes after the
    /// function as well: a function left without its role fails every invocation, and a role
    /// deleted and re-created under the same name leaves a function's KMS grant stale.
    async fn function_side(&self) -> anyhow::Result<()> {
        // Whether the function was deleted, for the branches that must wait for it.
        let (gone_tx, gone_rx) = tokio::sync::watch::channel(None);
        let function_gone = || {
            let mut rx = gone_rx.clone();
            async move { anyhow::Ok(*rx.wait_for(Option::is_some).await? == Some(true)) }
        };
        let (function, after_it, images) = tokio::join!(
            async {
                let function = self.function().await;
                let _ = gone_tx.send(Some(function.is_ok()));
                function
            },
            async {
                if !function_gone().await? {
                    return Ok(());
                }
                let (group, roles) = tokio::join!(self.log_group(), self.roles());
                all_of([group, roles])
            },
            async {
                let already = self.empty_images().await?;
                // A function that could not be deleted keeps its bucket (its error is
                // the one reported).
                match function_gone().await? {
                    true => self.images(already).await,
                    false => Ok(()),
                }
            },
        );
        all_of([function, after_it, images])
    }

    async fn function(&self) -> anyhow::Result<()> {
        let plan = self.plan;
        if !plan.function.deletes() {
            [&plan.url, &plan.function]
                .into_iter()
                .for_each(|s| self.absent(s));
            return Ok(());
        }
        let reporter = &self.ctx.reporter;
        let outcome = function::delete(&self.ctx.aws, &plan.function.name).await?;
        let url = Outcome::of_deletion(plan.url.deletes());
        reporter.resource(Kind::FunctionUrl, &plan.url.name, &url);
        reporter.resource(Kind::Function, &plan.function.name, &outcome);
        Ok(())
    }

    async fn empty_images(&self) -> anyhow::Result<usize> {
        match self.plan.images.deletes() {
            true => bucket::empty(&self.ctx.aws, &self.plan.images.name).await,
            false => Ok(0),
        }
    }

    /// Deleted with the function even when it was absent at the read (see `function_side`).
    async fn log_group(&self) -> anyhow::Result<()> {
        let group = &self.plan.log_group;
        if !(group.deletes() || self.plan.function.deletes()) {
            self.absent(group);
            return Ok(());
        }
        let outcome = log_group::delete(&self.ctx.aws, &group.name).await?;
        self.ctx
            .reporter
            .resource(group.kind, &group.name, &outcome);
        Ok(())
    }

    async fn images(&self, already: usize) -> anyhow::Result<()> {
        let images = &self.plan.images;
        if !images.deletes() {
            self.absent(images);
            return Ok(());
        }
        let progress = |message: String| self.progress(message);
        let more = images_bucket::delete(&self.ctx.aws, &images.name, &progress).await?;
        self.deleted(images, already + more);
        Ok(())
    }

    async fn roles(&self) -> anyhow::Result<()> {
        let (plan, found, reporter) = (self.plan, self.found, &self.ctx.reporter);
        let roles = [(&plan.role, &found.role)]
            .into_iter()
            .chain(plan.legacy_role.iter().map(|s| (s, &found.legacy_role)));
        let progress = |message: String| self.progress(message);
        for (step, actual) in roles {
            match (&step.action, actual) {
                (Action::Delete, Some(actual)) => {
                    let aws = &self.ctx.aws;
                    let outcome =
                        role::delete_described(aws, &step.name, actual, &progress).await?;
                    if let Some(note) = step.note {
                        reporter.note(format!("role {} ({note}): deleted", step.name));
                    }
                    reporter.resource(step.kind, &step.name, &outcome);
                }
                (Action::External, _) => {
                    reporter.resource(step.kind, &step.name, &Outcome::External)
                }
                _ => self.absent(step),
            }
        }
        Ok(())
    }

    async fn site(&self) -> anyhow::Result<()> {
        let site = &self.plan.site;
        if !site.deletes() {
            self.absent(site);
            return Ok(());
        }
        let progress = |message: String| self.progress(message);
        let objects = site_bucket::delete(&self.ctx.aws, &site.name, &progress).await?;
        self.deleted(site, objects);
        Ok(())
    }

    /// Reports a deleted bucket and how many object versions went with it.
    fn deleted(&self, bucket: &Step, objects: usize) {
        if objects > 0 {
            self.progress(format!(
                "{} {}: deleted {}",
                bucket.kind,
                bucket.name,
                crate::output::count(objects, "object version", "object versions")
            ));
        }
        self.ctx
            .reporter
            .resource(bucket.kind, &bucket.name, &Outcome::Deleted);
    }
}

/// Every branch's error, in one line: the first, then how many more and what they were.
fn all_of<const N: usize>(results: [anyhow::Result<()>; N]) -> anyhow::Result<()> {
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
