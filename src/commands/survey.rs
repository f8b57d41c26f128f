//! Deploying a stack: read everything, plan, refuse what is not the stack's, then apply the
//! plan over the declared list of resources (each as soon as what it needs is done).

use std::future::Future;

use super::{preflight, Context};
use crate::deploy_plan::DeployPlan;
use crate::output::DeployReport;
use crate::package::Package;
use crate::reconcile::{Kind, LineState};
use crate::resource::{Applying, SiteInput};
use crate::resource_support::account_access::{self, AccountAccess};
use crate::resource_support::thumbnails::Optional;
use crate::resources::{function, site_files};
use crate::stack::Stack;
use crate::stack_resources::{self, Changes, Desired, Observed};

/// Deploys the stack. `site_api_url` replaces the Function URL in config.js (`catup dev`
/// points the page at its local endpoint).
pub async fn deploy(
    ctx: &Context,
    package: (
        impl Future<Output = anyhow::Result<Package>>,
        Option<&Package>,
    ),
    frontend: Vec<site_files::SiteFile>,
    site_api_url: Option<&str>,
) -> anyhow::Result<DeployReport> {
    let (stack, reporter) = (&ctx.stack, &ctx.reporter);
    let package_thumbs = package.1;
    let survey = survey(ctx, package, &frontend, site_api_url).await?;
    if let Some(refusal) = survey.refusal(stack) {
        return Err(refusal);
    }
    // Before any change: the thumbnail function's code is needed where it is sent.
    let thumbs_code = Optional::Of(function::Aspect::Code);
    let sends_thumbs_code = survey.plan.changes.thumbs_function.differs(thumbs_code);
    if sends_thumbs_code && package_thumbs.is_none() {
        anyhow::bail!(
            "the thumbnail function needs its code: pass --thumbs-bootstrap FILE (thumbs-fn's thumbs-bootstrap), or --thumbnails from a catup checkout to build it"
        );
    }
    if let AccountAccess::Unknown(why) = &survey.account {
        reporter.note(format!("cannot read the account's S3 Block Public Access setting ({why}); if S3 refuses the site's public policy, that setting is why"));
    }
    for row in survey.plan.rows().iter().filter(|r| r.action.changes()) {
        reporter.note(row.sentence());
    }
    let function_url = apply(ctx, &survey, package_thumbs, &frontend, site_api_url).await?;

    let resources = reporter.lines();
    Ok(DeployReport {
        stack: stack.name.as_str().to_owned(),
        region: stack.region.to_string(),
        website_url: stack.website_url(),
        function_url,
        site_bucket: stack.site_bucket.clone(),
        images_bucket: stack.images_bucket.clone(),
        function_name: stack.function_name.clone(),
        changed: resources
            .iter()
            .any(|l| !matches!(l.state, LineState::Unchanged | LineState::External)),
        resources,
        verification: None,
    })
}

/// What deploy knows before its first change: every read, the package, and the plan.
pub struct Survey {
    pub desired: Desired,
    pub observed: Observed,
    pub account: AccountAccess,
    pub package: Package,
    pub plan: DeployPlan,
}

impl Survey {
    /// Why deploy may not start: a resource that is not the stack's, or the account's Block
    /// Public Access, which overrides the site bucket's own.
    pub fn refusal(&self, stack: &Stack) -> Option<anyhow::Error> {
        if let Some(foreign) = self.plan.refused.first() {
            return Some(foreign.clone().into());
        }
        self.account
            .refusal(&stack.account_id)
            .map(|why| anyhow::anyhow!(why))
    }
}

/// Reads everything and plans, changing nothing.
pub async fn survey(
    ctx: &Context,
    (package, thumbs): (
        impl Future<Output = anyhow::Result<Package>>,
        Option<&Package>,
    ),
    frontend: &[site_files::SiteFile],
    site_api_url: Option<&str>,
) -> anyhow::Result<Survey> {
    let (aws, stack) = (&ctx.aws, &ctx.stack);
    let desired = Desired::of(stack)?;
    // Every read first, side by side (the package zips meanwhile): nothing changes before
    // every resource is known to be ours, and a given --role-arn is known to be usable.
    let given_role = async {
        match &stack.role_name {
            None => crate::resources::role::given::check_role_usable(aws, &stack.role_arn).await,
            Some(_) => Ok(()),
        }
    };
    let reading = ctx.reading();
    let (observed, account, (), package) = tokio::try_join!(
        Observed::read(&reading),
        account_access::read(aws, &stack.account_id),
        given_role,
        package,
    )?;
    preflight::check_zipped_size(&package)?;
    check_concurrency_room(ctx, &desired, &observed).await?;
    let site = SiteInput {
        files: frontend,
        complete: true,
        api_url: site_api_url,
    };
    let code = crate::deploy_plan::Code {
        upload: Some(&package.code_sha256),
        thumbs: thumbs.map(|t| t.code_sha256.as_str()),
    };
    let plan = DeployPlan::new(stack, &desired, &observed, code, &site);
    Ok(Survey {
        desired,
        observed,
        account,
        package,
        plan,
    })
}

/// Applies the plan over the list of resources: each starts as soon as what it needs is
/// done (see each resource's `NEEDS`), independent ones side by side. Returns the Function
/// URL.
async fn apply(
    ctx: &Context,
    survey: &Survey,
    thumbs_package: Option<&Package>,
    frontend: &[site_files::SiteFile],
    site_api_url: Option<&str>,
) -> anyhow::Result<String> {
    let applying = Applying {
        aws: &ctx.aws,
        stack: &ctx.stack,
        desired: &survey.desired,
        observed: &survey.observed,
        changes: &survey.plan.changes,
        package: &survey.package,
        thumbs_package,
        frontend,
        site_api_url,
        site_sync: survey.plan.site_sync(),
        reporter: &ctx.reporter,
        milestones: stack_resources::milestones(),
    };
    Changes::apply(&applying).await?;
    Ok(applying.address(Kind::FunctionUrl).unwrap_or_default())
}

/// A reservation the account cannot give is refused before any change (one read, made only
/// when `--concurrency` asks for a new reservation).
async fn check_concurrency_room(
    ctx: &Context,
    desired: &Desired,
    observed: &Observed,
) -> anyhow::Result<()> {
    use crate::resources::function::concurrency::{self, Reservation};
    let current = observed
        .function
        .as_ref()
        .and_then(|f| f.reserved_concurrency);
    let wanted = desired.function.concurrency;
    let Reservation::Reserve(n) = wanted else {
        return Ok(());
    };
    if !wanted.differs(current) {
        return Ok(());
    }
    let (total, unreserved) = concurrency::account_room(&ctx.aws).await?;
    concurrency::check_room(n, total, unreserved, current)
}
