//! Whether a stack makes thumbnails. `--thumbnails` turns it on, `--no-thumbnails` off; with
//! neither, the upload function's `THUMBNAILS=1` (which the gallery reads anyway) remembers
//! it. The thumbnail resources are read only where that says they may exist, so a stack
//! without thumbnails pays no call for them; teardown always looks for them.

use crate::reconcile::{Change, Foreign, Kind};
use crate::resource::Reading;
use crate::resources::function;
use crate::stack_resources::{Desired, Observed};

/// The upload function's variable: the stack makes thumbnails.
pub const VAR: &str = "THUMBNAILS";

/// Whether the upload function says the stack makes thumbnails.
pub fn remembered(upload: Option<&function::Actual>) -> bool {
    upload.is_some_and(|f| f.settings.environment.get(VAR).is_some_and(|v| v == "1"))
}

/// Whether status, plan and deploy read the thumbnail resources: a flag asks about them, or
/// the upload function remembers them (or was not read yet).
pub fn worth_reading(read: &Reading<'_>) -> bool {
    read.stack.overrides.thumbnails.is_some()
        || match read.function_read {
            None => true,
            Some(upload) => remembered(upload.as_ref()),
        }
}

/// What the flags and the memory ask of the thumbnail resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    On,
    /// `--no-thumbnails`: deploy removes them.
    Off,
    /// Neither flag nor memory: what exists is kept (and repaired), nothing is created.
    AsItIs,
}

/// The flag, else what the upload function remembers.
pub fn wanted_of(flag: Option<bool>, upload: Option<&function::Actual>) -> Wanted {
    match flag {
        Some(true) => Wanted::On,
        Some(false) => Wanted::Off,
        None if remembered(upload) => Wanted::On,
        None => Wanted::AsItIs,
    }
}

/// What the stack's flags and its upload function ask for.
pub fn wanted(desired: &Desired, observed: &Observed) -> Wanted {
    wanted_of(desired.function.thumbnails, observed.function.as_ref())
}

/// Whether plans and reports list a thumbnail resource.
pub fn listed(wanted: Wanted, exists: bool) -> bool {
    wanted == Wanted::On || exists
}

/// [`listed`] for the stack's flags and upload function.
pub fn is_listed(desired: &Desired, observed: &Observed, exists: bool) -> bool {
    listed(wanted(desired, observed), exists)
}

/// `read` where [`worth_reading`] says so; absent otherwise (no call made).
pub async fn read_if_worth<T>(
    r: &Reading<'_>,
    read: impl std::future::Future<Output = anyhow::Result<Option<T>>>,
) -> anyhow::Result<Option<T>> {
    match worth_reading(r) {
        true => read.await,
        false => Ok(None),
    }
}

/// An ownership check of the resource the thumbnail one is a copy of, named as `kind`.
pub fn owned_as(kind: Kind, owner: Result<(), Foreign>) -> Result<(), Foreign> {
    owner.map_err(|foreign| Foreign { kind, ..foreign })
}

/// One aspect of a thumbnail resource: its own, or its removal by `--no-thumbnails`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optional<A> {
    Removal,
    Of(A),
}

impl<A: std::fmt::Display> std::fmt::Display for Optional<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Optional::Removal => f.write_str("removal (--no-thumbnails)"),
            Optional::Of(aspect) => aspect.fmt(f),
        }
    }
}

/// The change of a thumbnail resource: its own `diff` where it is wanted (or kept), its
/// removal where `--no-thumbnails` asks for it.
pub fn diff<A>(
    wanted: Wanted,
    exists: bool,
    diff: impl FnOnce() -> Change<A>,
) -> Change<Optional<A>> {
    match (wanted, exists) {
        (Wanted::Off, true) => Change::Update(vec![Optional::Removal]),
        (Wanted::Off | Wanted::AsItIs, false) => Change::InSync,
        (Wanted::On, _) | (Wanted::AsItIs, true) => match diff() {
            Change::Create => Change::Create,
            Change::Update(aspects) => {
                Change::Update(aspects.into_iter().map(Optional::Of).collect())
            }
            Change::InSync => Change::InSync,
            Change::External => Change::External,
        },
    }
}

/// The resource's own change inside an optional one (`None`: its removal).
pub fn own<A: Clone>(change: &Change<Optional<A>>) -> Option<Change<A>> {
    Some(match change {
        Change::Create => Change::Create,
        Change::Update(aspects) => {
            let mut own = Vec::new();
            for aspect in aspects {
                match aspect {
                    Optional::Removal => return None,
                    Optional::Of(a) => own.push(a.clone()),
                }
            }
            Change::Update(own)
        }
        Change::InSync => Change::InSync,
        Change::External => Change::External,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_no_thumbnails_removes_and_only_wanted_creates() {
        let create = || Change::<u8>::Create;
        assert_eq!(diff(Wanted::On, false, create), Change::Create);
        assert_eq!(diff(Wanted::AsItIs, false, create), Change::InSync);
        assert_eq!(diff(Wanted::Off, false, create), Change::InSync);
        assert_eq!(
            diff(Wanted::Off, true, || Change::<u8>::InSync),
            Change::Update(vec![Optional::Removal])
        );
        let repair = || Change::Update(vec![7u8]);
        assert_eq!(
            diff(Wanted::AsItIs, true, repair),
            Change::Update(vec![Optional::Of(7)])
        );
        assert_eq!(
            own(&Change::Update(vec![Optional::Of(7u8)])),
            Some(Change::Update(vec![7]))
        );
        assert_eq!(
            own(&Change::<Optional<u8>>::Update(vec![Optional::Removal])),
            None
        );
        assert!(listed(Wanted::On, false) && listed(Wanted::AsItIs, true));
        assert!(!listed(Wanted::Off, false) && !listed(Wanted::AsItIs, false));
    }
}
