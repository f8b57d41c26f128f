//! Teardown's mirror of the deploy plan: for each resource, what teardown will do to it,
//! built purely from what was read. Teardown executes exactly this, and refuses everything
//! when any resource is refused (nothing is ever half-deleted); `--dry-run` prints it.

use crate::reconcile::{Foreign, Kind, LineState};
use crate::reporter::ResourceLine;

/// What teardown will do to one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeardownAction {
    Delete,
    Absent,
    /// Not the stack's to delete (or not deletable now): `why` in a few words, `message` the
    /// error teardown stops with.
    Refused {
        why: String,
        message: String,
    },
    /// The caller's `--role-arn` role: never catup's to delete.
    External,
}

impl TeardownAction {
    pub fn line_state(&self) -> LineState {
        match self {
            TeardownAction::Delete => LineState::Delete,
            TeardownAction::Absent => LineState::Absent,
            TeardownAction::Refused { .. } => LineState::Refused,
            TeardownAction::External => LineState::External,
        }
    }

    pub fn word(&self) -> &'static str {
        self.line_state().word()
    }

    pub fn of_existence(found: bool) -> TeardownAction {
        if found {
            TeardownAction::Delete
        } else {
            TeardownAction::Absent
        }
    }
}

impl From<Foreign> for TeardownAction {
    fn from(foreign: Foreign) -> TeardownAction {
        TeardownAction::Refused {
            message: foreign.to_string(),
            why: foreign.why,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: Kind,
    pub name: String,
    pub action: TeardownAction,
    /// Why this resource is in the list at all, where that is not obvious.
    pub note: Option<&'static str>,
}

impl Step {
    pub fn new(kind: Kind, name: &str, action: TeardownAction) -> Step {
        Step {
            kind,
            name: name.to_owned(),
            action,
            note: None,
        }
    }

    pub fn deletes(&self) -> bool {
        self.action == TeardownAction::Delete
    }

    pub fn line(&self) -> ResourceLine {
        let detail = match &self.action {
            TeardownAction::Refused { why, .. } => Some(why.clone()),
            _ => self.note.map(str::to_owned),
        };
        ResourceLine {
            kind: self.kind,
            name: self.name.clone(),
            state: self.action.line_state(),
            detail,
        }
    }
}

/// One or more steps per resource of the stack (none for what goes with another), in the
/// order reports list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeardownPlan {
    steps: Vec<Step>,
}

impl TeardownPlan {
    /// The plan of these steps (`Found::steps` makes them, one resource of the list after
    /// the other).
    pub fn new(steps: Vec<Step>) -> TeardownPlan {
        TeardownPlan { steps }
    }

    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter()
    }

    /// The (first) step of `kind`.
    pub fn step(&self, kind: Kind) -> &Step {
        self.steps_of(kind)
            .next()
            .expect("every kind with a step is planned")
    }

    /// Every step of `kind` (the role's own, and a legacy one).
    pub fn steps_of(&self, kind: Kind) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(move |s| s.kind == kind)
    }

    /// The error teardown stops with, before deleting anything: the first refusal's.
    pub fn refusal(&self) -> Option<&str> {
        self.steps().find_map(|step| match &step.action {
            TeardownAction::Refused { message, .. } => Some(message.as_str()),
            _ => None,
        })
    }

    /// Nothing refused, and something to delete.
    pub fn deletes_anything(&self) -> bool {
        self.refusal().is_none() && self.steps().any(Step::deletes)
    }

    pub fn lines(&self) -> Vec<ResourceLine> {
        self.steps().map(Step::line).collect()
    }
}

/// Delete when the ownership check passes, else refused with its reason.
pub fn owned(check: Result<(), Foreign>) -> TeardownAction {
    match check {
        Ok(()) => TeardownAction::Delete,
        Err(foreign) => foreign.into(),
    }
}

#[cfg(test)]
mod tests;
