//! The plan: what deploy will do to each resource, built without any AWS call from the
//! desired state, the observed state and the package's hash. `plan` prints it, `status`
//! reports it as states, `deploy` prints it and then applies exactly it.

use serde::Serialize;

use crate::plan::{Action, Change, Foreign, Kind};
use crate::resources::{
    function, function_url, images_bucket, log_group, role, site_bucket, site_files,
};
use crate::stack::Stack;
use crate::stack_state::{Desired, Observed};

/// The site's files as the plan sees them.
pub struct SiteInput<'a> {
    /// The frontend's files (config.js aside).
    pub files: &'a [site_files::SiteFile],
    /// `files` is the whole site: any other object but config.js is to be deleted. False for
    /// `status` without `--frontend`, which compares config.js alone.
    pub complete: bool,
    /// The URL config.js points at instead of the Function URL (`catup dev`'s local one).
    pub api_url: Option<&'a str>,
}

/// One change per resource, in the order commands report them.
#[derive(Debug, Clone)]
pub struct Plan {
    pub images: Change<images_bucket::Aspect>,
    pub site: Change<site_bucket::Aspect>,
    pub log_group: Change<log_group::Aspect>,
    /// `None` for a `--role-arn` role: not this stack's to change.
    pub role: Option<Change<role::Aspect>>,
    pub function: Change<function::Aspect>,
    pub url: Change<function_url::Aspect>,
    pub site_files: Change<site_files::Aspect>,
    /// Resources with one of the stack's names that are not its own: deploy refuses to start.
    pub refused: Vec<Foreign>,
    site_sync: SiteSync,
    names: Names,
}

pub use site_files::Sync as SiteSync;

/// Each resource's name as reports show it.
#[derive(Debug, Clone)]
struct Names {
    images: String,
    site: String,
    log_group: String,
    role: String,
    function: String,
    url: String,
    site_files: String,
}

/// One resource in a plan, for people and scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    pub kind: Kind,
    pub name: String,
    pub action: Action,
}

/// `{"kind", "name", "action": "update", "aspects": [...], "reason": null}`.
impl Serialize for PlanRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let aspects: &[String] = match &self.action {
            Action::Update(aspects) => aspects,
            _ => &[],
        };
        let reason = match &self.action {
            Action::Refused(why) => Some(why),
            _ => None,
        };
        let mut row = s.serialize_struct("PlanRow", 5)?;
        row.serialize_field("kind", &self.kind)?;
        row.serialize_field("name", &self.name)?;
        row.serialize_field("action", self.action.word())?;
        row.serialize_field("aspects", aspects)?;
        row.serialize_field("reason", &reason)?;
        row.end()
    }
}

impl Plan {
    /// `code_sha256`: the package's, or `None` when there is no package (status), and the
    /// function's code is then not compared.
    pub fn new(
        stack: &Stack,
        desired: &Desired,
        observed: &Observed,
        code_sha256: Option<&str>,
        site: &SiteInput<'_>,
    ) -> Plan {
        let url = observed.url.as_ref().map(|u| u.url.as_str());
        // config.js holds the URL the page calls: known unless the Function URL is created now.
        let config = site.api_url.or(url).map(site_files::config_js);
        let mut files = site.files.to_vec();
        let config_pending = config.is_none();
        files.extend(config);
        let site_sync =
            site_files::sync(&files, &observed.site_etags, site.complete, config_pending);
        Plan {
            images: images_bucket::diff(&desired.images, observed.images.as_ref()),
            site: site_bucket::diff(&desired.site, observed.site.as_ref()),
            log_group: log_group::diff(&desired.log_group, observed.log_group.as_ref()),
            role: desired
                .role
                .as_ref()
                .map(|d| role::diff(d, observed.role.as_ref())),
            function: function::diff(
                &desired.function,
                code_sha256,
                observed.function.as_ref(),
                function::role_recreated(
                    observed.function.as_ref(),
                    desired.role.is_some() && observed.role.is_none(),
                    observed.role.as_ref().and_then(|r| r.created_at),
                ),
            ),
            url: function_url::diff(&desired.url, observed.url.as_ref()),
            site_files: site_sync.change(),
            refused: observed.foreign(desired),
            site_sync,
            names: Names {
                images: stack.images_bucket.clone(),
                site: stack.site_bucket.clone(),
                log_group: stack.log_group.clone(),
                role: stack.role_name.clone().unwrap_or(stack.role_arn.clone()),
                function: stack.function_name.clone(),
                url: url.unwrap_or(&stack.function_name).to_owned(),
                site_files: format!("{}/", stack.site_bucket),
            },
        }
    }

    /// One row per resource, in report order; a resource that is not the stack's is refused.
    pub fn rows(&self) -> Vec<PlanRow> {
        let n = &self.names;
        let role = match &self.role {
            Some(change) => change.action(),
            None => Action::External,
        };
        let rows = [
            (Kind::ImagesBucket, &n.images, self.images.action()),
            (Kind::SiteBucket, &n.site, self.site.action()),
            (Kind::LogGroup, &n.log_group, self.log_group.action()),
            (Kind::Role, &n.role, role),
            (Kind::Function, &n.function, self.function.action()),
            (Kind::FunctionUrl, &n.url, self.url.action()),
            (Kind::SiteFiles, &n.site_files, self.site_files.action()),
        ];
        rows.into_iter()
            .map(|(kind, name, action)| {
                let refusal = self.refused.iter().find(|f| f.kind == kind);
                PlanRow {
                    kind,
                    name: name.clone(),
                    action: match refusal {
                        Some(foreign) => Action::Refused(foreign.why.clone()),
                        None => action,
                    },
                }
            })
            .collect()
    }

    /// The site's objects deploy uploads (config.js among them while its URL is not known
    /// yet) and deletes.
    pub fn site_sync(&self) -> &SiteSync {
        &self.site_sync
    }
}
