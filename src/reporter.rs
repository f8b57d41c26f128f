//! The lines of a report, one per resource, and the reporter that collects them as the
//! concurrent steps of a command finish (and prints each at once).

use std::fmt;
use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;

use crate::console::progress;
use crate::reconcile::{Kind, LineState, Outcome, State};

/// One resource in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceLine {
    pub kind: Kind,
    pub name: String,
    pub state: LineState,
    pub detail: Option<String>,
}

impl ResourceLine {
    pub fn from_outcome(kind: Kind, name: &str, outcome: &Outcome) -> ResourceLine {
        ResourceLine {
            kind,
            name: name.to_owned(),
            state: outcome.line_state(),
            detail: outcome.detail(),
        }
    }

    pub fn from_state(kind: Kind, name: &str, state: &State) -> ResourceLine {
        ResourceLine {
            kind,
            name: name.to_owned(),
            state: state.line_state(),
            detail: state.detail(),
        }
    }
}

impl fmt::Display for ResourceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>9}  {:<13} {}",
            self.state.word(),
            self.kind.to_string(),
            self.name
        )?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

/// Collects resource lines as commands finish them and prints progress. Shared by the
/// concurrent reconcilers (`&Reporter` is Sync).
pub struct Reporter {
    json: bool,
    lines: Mutex<Vec<ResourceLine>>,
}

impl Reporter {
    pub fn new(json: bool) -> Reporter {
        Reporter {
            json,
            lines: Mutex::new(Vec::new()),
        }
    }

    pub fn json(&self) -> bool {
        self.json
    }

    /// A progress note, on stderr so that stdout stays the report.
    pub fn note(&self, message: impl fmt::Display) {
        progress(message);
    }

    /// Records a finished resource and prints its line: on stdout in text mode (the lines are
    /// the report), on stderr with --json (stdout is the JSON object).
    pub fn resource(&self, kind: Kind, name: &str, outcome: &Outcome) {
        let line = ResourceLine::from_outcome(kind, name, outcome);
        tracing::info!(target: "catup::steps", "done: {}", line.to_string().trim_start());
        if self.json {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        } else {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
        self.lines.lock().expect("reporter lock").push(line);
    }

    /// The recorded lines, in the stack's resource order.
    pub fn lines(&self) -> Vec<ResourceLine> {
        let mut lines = self.lines.lock().expect("reporter lock").clone();
        lines.sort_by_key(|l| l.kind);
        lines
    }
}
