//! The deploy plan: what deploy will do to each resource, built without any AWS call from
//! the desired state, the observed state and the package's hash. `plan` prints it, `status`
//! reports it as states, `deploy` prints it and then applies exactly it.

use serde::Serialize;

use crate::reconcile::{DeployAction, Foreign, Kind};
use crate::resource::{Planning, SiteInput};
use crate::resources::site_files;
use crate::stack::Stack;
use crate::stack_resources::{Changes, Desired, Observed, Row};

/// One change per resource, in the order commands report them.
#[derive(Debug, Clone)]
pub struct DeployPlan {
    pub changes: Changes,
    /// Resources with one of the stack's names that are not its own: deploy refuses to start.
    pub refused: Vec<Foreign>,
    site_sync: SiteSync,
    rows: Vec<PlanRow>,
}

pub use site_files::Sync as SiteSync;

/// One resource in a plan, for people and scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    pub kind: Kind,
    pub name: String,
    pub action: DeployAction,
}

/// `{"kind", "name", "action": "update", "aspects": [...], "reason": null}`.
impl Serialize for PlanRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // The aspects' words: the edge where they become text.
        let aspects = match &self.action {
            DeployAction::Update(aspects) => crate::reconcile::words(aspects),
            _ => Vec::new(),
        };
        let reason = match &self.action {
            DeployAction::Refused(why) => Some(why),
            _ => None,
        };
        let mut row = s.serialize_struct("PlanRow", 5)?;
        row.serialize_field("kind", &self.kind)?;
        row.serialize_field("name", &self.name)?;
        row.serialize_field("action", self.action.word())?;
        row.serialize_field("aspects", &aspects)?;
        row.serialize_field("reason", &reason)?;
        row.end()
    }
}

/// The packages' hashes a plan compares the functions' code with (`None`: not compared).
#[derive(Debug, Clone, Copy, Default)]
pub struct Code<'a> {
    pub upload: Option<&'a str>,
    pub thumbs: Option<&'a str>,
}

impl DeployPlan {
    /// `code_sha256`: the package's, or `None` when there is no package (status), and the
    /// function's code is then not compared.
    pub fn new(
        stack: &Stack,
        desired: &Desired,
        observed: &Observed,
        code: Code<'_>,
        site: &SiteInput<'_>,
    ) -> DeployPlan {
        let planning = Planning {
            stack,
            desired,
            observed,
            code_sha256: code.upload,
            thumbs_code_sha256: code.thumbs,
            site,
        };
        let changes = Changes::of(&planning);
        let refused = observed.foreign(desired);
        let rows = changes
            .rows(stack, desired, observed)
            .into_iter()
            .map(|row| PlanRow::refused_or(row, &refused))
            .collect();
        DeployPlan {
            site_sync: site_files::planned_sync(&planning),
            changes,
            refused,
            rows,
        }
    }

    /// One row per resource, in report order; a resource that is not the stack's is refused.
    pub fn rows(&self) -> Vec<PlanRow> {
        self.rows.clone()
    }

    /// The site's objects deploy uploads (config.js among them while its URL is not known
    /// yet) and deletes.
    pub fn site_sync(&self) -> &SiteSync {
        &self.site_sync
    }
}

impl PlanRow {
    /// "will create images bucket X", "will update function f (code)": how deploy announces
    /// a change before it makes it.
    pub fn sentence(&self) -> String {
        let mut line = format!("will {} {} {}", self.action.word(), self.kind, self.name);
        if let Some(detail) = self.action.short_detail() {
            line.push_str(&format!(" ({detail})"));
        }
        line
    }

    fn refused_or(row: Row, refused: &[Foreign]) -> PlanRow {
        let refusal = refused.iter().find(|f| f.kind == row.kind);
        PlanRow {
            kind: row.kind,
            name: row.name,
            action: match refusal {
                Some(foreign) => DeployAction::Refused(foreign.why.clone()),
                None => row.change,
            },
        }
    }
}
