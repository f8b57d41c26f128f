//! What every resource of the stack is to the commands: one trait, implemented in the
//! resource's own file, and the three contexts it is called with (reading, planning,
//! applying). The list of the stack's resources is `stack_resources`; everything a command
//! does to "every resource" goes through this trait, in that list's order.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use tokio::sync::watch;

use crate::aws::Aws;
use crate::package::Package;
use crate::reconcile::{Change, Foreign, Kind, Outcome};
use crate::reporter::Reporter;
use crate::resources::{function, site_files};
use crate::stack::Stack;
use crate::stack_resources::{Changes, Desired, Found, Observed};
use crate::teardown_plan::{Step, TeardownPlan};

/// What a resource needs before deploy may start on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The other resource is applied completely.
    Done(Kind),
    /// The other resource exists, as far as this one is concerned (a bucket that takes
    /// objects, a Function URL whose address is known): it says so during its own apply.
    Ready(Kind),
}

/// One resource of the stack: its desired state, how to read and compare it, whose it is,
/// and how deploy closes the gap.
pub trait Resource {
    const KIND: Kind;
    /// What deploy must have done first; teardown deletes in the reverse order.
    const NEEDS: &'static [Need];

    type Desired: Send + Sync;
    type Actual: Send + Sync;
    type Aspect: Clone + PartialEq + std::fmt::Display + std::fmt::Debug + Send + Sync + 'static;

    fn desired(stack: &Stack) -> anyhow::Result<Self::Desired>;

    /// The actual state, `None` when it does not exist.
    fn describe(
        read: &Reading<'_>,
    ) -> impl Future<Output = anyhow::Result<Option<Self::Actual>>> + Send;

    /// Whether an existing resource is the stack's (deploy changes nothing when one is not).
    fn check_owner(_desired: &Self::Desired, _actual: &Self::Actual) -> Result<(), Foreign> {
        Ok(())
    }

    fn diff(plan: &Planning<'_>) -> Change<Self::Aspect>;

    /// The resource's name in plans and status.
    fn name(stack: &Stack, observed: &Observed) -> String;

    /// Whether plans and reports list it: an optional resource (a budget) only when it is
    /// wanted or exists.
    fn listed(_desired: &Desired, _observed: &Observed) -> bool {
        true
    }

    /// Closes the gap `applying.changes` holds for it. Reported under `applied_name`.
    fn apply(applying: &Applying<'_>) -> impl Future<Output = anyhow::Result<()>>;

    /// The name deploy reports once applied (what it is called now that it exists).
    fn applied_name(applying: &Applying<'_>) -> String {
        Self::name(applying.stack, applying.observed)
    }

    /// What teardown reads of it: whether it exists and whose it is, less than `describe`.
    type Found: Clone + Default + std::fmt::Debug + Send + Sync;

    fn find(read: &Reading<'_>) -> impl Future<Output = anyhow::Result<Self::Found>> + Send;

    /// Teardown's steps for it: usually one; none for what goes with another resource.
    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>>;

    /// Deleted only once these are gone, beyond what needs it at deploy (which teardown
    /// deletes first anyway).
    const DELETED_AFTER: &'static [Kind] = &[];

    /// Gone with another resource (a Function URL with its function): deleting that one
    /// deletes this one, and what this one needs at deploy does not wait for it.
    const DELETED_WITH: Option<Kind> = None;

    /// Carries out its steps. `gone` resolves once what must go first is gone (false: that
    /// failed, and this stays); work that may go before (emptying a bucket) runs first.
    fn delete(
        deleting: &Deleting<'_>,
        gone: impl Future<Output = bool>,
    ) -> impl Future<Output = anyhow::Result<()>>;
}

/// What every deletion is given.
pub struct Deleting<'a> {
    pub aws: &'a Aws,
    pub stack: &'a Stack,
    pub plan: &'a TeardownPlan,
    pub found: &'a Found,
    pub reporter: &'a Reporter,
    pub(crate) milestones: Milestones,
}

impl Deleting<'_> {
    pub fn progress(&self, message: String) {
        self.reporter.note(message);
    }

    /// Reports a step as found absent.
    pub fn absent(&self, step: &Step) {
        self.reporter
            .resource(step.kind, &step.name, &Outcome::Absent);
    }

    /// Reports a deleted bucket and how many object versions went with it.
    pub fn deleted_bucket(&self, bucket: &Step, objects: usize) {
        if objects > 0 {
            self.progress(format!(
                "{} {}: deleted {}",
                bucket.kind,
                bucket.name,
                crate::console::count(objects, "object version", "object versions")
            ));
        }
        self.reporter
            .resource(bucket.kind, &bucket.name, &Outcome::Deleted);
    }
}

/// Teardown's work on one resource: its steps, once what must go first is gone (see
/// [`Resource::DELETED_AFTER`]); tells those waiting for it.
pub(crate) async fn delete_one<R: Resource>(
    deleting: &Deleting<'_>,
    first: Vec<Kind>,
) -> anyhow::Result<()> {
    let waited = std::sync::OnceLock::new();
    let gone = async {
        let mut all = true;
        for kind in first {
            all &= deleting.milestones.met(Need::Done(kind)).await;
        }
        let _ = waited.set(all);
        all
    };
    let result = R::delete(deleting, gone).await;
    match (&result, waited.get()) {
        (Ok(()), None | Some(true)) => deleting.milestones.done(R::KIND, Outcome::Deleted),
        _ => deleting.milestones.failed(R::KIND),
    }
    result
}

/// What every read is given.
pub struct Reading<'a> {
    pub aws: &'a Aws,
    pub stack: &'a Stack,
    /// The function as connecting read it (`None`: not read yet).
    pub function_read: &'a Option<Option<function::Actual>>,
}

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

/// What every comparison is given: both sides of every resource, and the inputs.
pub struct Planning<'a> {
    pub stack: &'a Stack,
    pub desired: &'a Desired,
    pub observed: &'a Observed,
    /// The package's hash (`None`: no package, as in `status`, which then does not compare
    /// the function's code).
    pub code_sha256: Option<&'a str>,
    /// The thumbnail function's package's hash, as `code_sha256`.
    pub thumbs_code_sha256: Option<&'a str>,
    pub site: &'a SiteInput<'a>,
}

/// What every apply is given: the survey, the inputs, and what the resources it needs have
/// already done.
pub struct Applying<'a> {
    pub aws: &'a Aws,
    pub stack: &'a Stack,
    pub desired: &'a Desired,
    pub observed: &'a Observed,
    pub changes: &'a Changes,
    pub package: &'a Package,
    /// The thumbnail function's package (`--thumbs-bootstrap`), when one was given.
    pub thumbs_package: Option<&'a Package>,
    pub frontend: &'a [site_files::SiteFile],
    /// The URL config.js points at instead of the Function URL (`catup dev`).
    pub site_api_url: Option<&'a str>,
    pub site_sync: &'a site_files::Sync,
    pub reporter: &'a Reporter,
    pub(crate) milestones: Milestones,
}

impl Applying<'_> {
    pub fn progress(&self, message: String) {
        self.reporter.note(message);
    }

    /// Tells the resources that need `kind` ready that they may start.
    pub fn ready(&self, kind: Kind) {
        self.milestones.reach(kind, Stage::Ready);
    }

    /// `kind`'s address once it published it (the Function URL's URL).
    pub fn address(&self, kind: Kind) -> Option<String> {
        let addresses = self.milestones.addresses.lock().expect("addresses lock");
        addresses.get(&kind).cloned()
    }

    /// Publishes `kind`'s address and says it is ready.
    pub fn publish(&self, kind: Kind, address: &str) {
        let mut addresses = self.milestones.addresses.lock().expect("addresses lock");
        addresses.insert(kind, address.to_owned());
        drop(addresses);
        self.ready(kind);
    }

    /// What deploy did to `kind`, once it is done.
    pub fn outcome(&self, kind: Kind) -> Option<Outcome> {
        let outcomes = self.milestones.outcomes.lock().expect("outcomes lock");
        outcomes.get(&kind).cloned()
    }
}

/// How far deploy got with one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    Pending,
    Ready,
    Done,
    /// It failed, or something it needs did: those that need it do not start.
    Failed,
}

/// Each resource's stage, address and outcome during one deploy.
pub(crate) struct Milestones {
    stages: HashMap<Kind, watch::Sender<Stage>>,
    addresses: Mutex<HashMap<Kind, String>>,
    outcomes: Mutex<HashMap<Kind, Outcome>>,
}

impl Milestones {
    pub(crate) fn new(kinds: &[Kind]) -> Milestones {
        Milestones {
            stages: kinds
                .iter()
                .map(|k| (*k, watch::Sender::new(Stage::Pending)))
                .collect(),
            addresses: Mutex::default(),
            outcomes: Mutex::default(),
        }
    }

    fn reach(&self, kind: Kind, stage: Stage) {
        self.stages[&kind].send_if_modified(|now| {
            let later = stage > *now && *now != Stage::Failed;
            if later {
                *now = stage;
            }
            later
        });
    }

    pub(crate) fn done(&self, kind: Kind, outcome: Outcome) {
        let mut outcomes = self.outcomes.lock().expect("outcomes lock");
        outcomes.insert(kind, outcome);
        drop(outcomes);
        self.reach(kind, Stage::Done);
    }

    pub(crate) fn failed(&self, kind: Kind) {
        self.reach(kind, Stage::Failed);
    }

    /// Waits until `need` is met; false when it never will be (what it needs failed).
    pub(crate) async fn met(&self, need: Need) -> bool {
        let (kind, wanted) = match need {
            Need::Done(kind) => (kind, Stage::Done),
            Need::Ready(kind) => (kind, Stage::Ready),
        };
        let mut stage = self.stages[&kind].subscribe();
        let reached = match stage.wait_for(|s| *s >= wanted).await {
            Ok(reached) => *reached,
            Err(_) => Stage::Failed,
        };
        reached != Stage::Failed
    }
}

/// Deploy's work on one resource: waits for what it needs, applies its change, reports the
/// outcome as soon as it is known, and tells those that need it.
pub(crate) async fn apply_one<R: Resource>(
    applying: &Applying<'_>,
    change: &Change<R::Aspect>,
) -> anyhow::Result<()> {
    for need in R::NEEDS {
        if !applying.milestones.met(*need).await {
            // What it needs failed: that error is the one reported.
            applying.milestones.failed(R::KIND);
            return Ok(());
        }
    }
    if let Err(e) = R::apply(applying).await {
        applying.milestones.failed(R::KIND);
        return Err(e);
    }
    let outcome = change.outcome();
    if R::listed(applying.desired, applying.observed) {
        applying
            .reporter
            .resource(R::KIND, &R::applied_name(applying), &outcome);
    }
    applying.milestones.done(R::KIND, outcome);
    Ok(())
}
