//! The pure vocabulary of reconciling: what a resource needs (`Change`), what a command did
//! (`Outcome`), and whose a resource is (`Ownership`).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use thiserror::Error;

use crate::stack::{ROLE_TAG, STACK_TAG};

/// The resources of a stack, in the order commands report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    ImagesBucket,
    SiteBucket,
    LogGroup,
    Role,
    Function,
    FunctionUrl,
    SiteFiles,
    Budget,
    ThumbsLogGroup,
    ThumbsRole,
    ThumbsFunction,
    ThumbsTrigger,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::ImagesBucket => "images bucket",
            Kind::SiteBucket => "site bucket",
            Kind::LogGroup => "log group",
            Kind::Role => "role",
            Kind::Function => "function",
            Kind::FunctionUrl => "function url",
            Kind::SiteFiles => "site files",
            Kind::Budget => "budget",
            Kind::ThumbsLogGroup => "thumbnail log group",
            Kind::ThumbsRole => "thumbnail role",
            Kind::ThumbsFunction => "thumbnail function",
            Kind::ThumbsTrigger => "thumbnail trigger",
        })
    }
}

/// Declares the aspects of one resource that can differ, in the order apply changes them:
/// an enum (so that a typo is a compile error, not a skipped repair) whose Display is the
/// word reports use.
macro_rules! aspects {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $word:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant,)+
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(match self {
                    $($name::$variant => $word,)+
                })
            }
        }
    };
}
pub(crate) use aspects;

/// One differing aspect of some resource, kept as that resource's own enum value (its
/// `aspects!` enum, or a site file) until it is printed: reports and plans hold these, and
/// nothing compares their words.
#[derive(Clone)]
pub struct AnyAspect(Arc<dyn AspectValue>);

/// What an aspect of any resource can do: print itself, and compare with another.
pub trait AspectValue: fmt::Display + fmt::Debug + Send + Sync + 'static {
    fn as_any(&self) -> &dyn Any;
    fn same_as(&self, other: &dyn AspectValue) -> bool;
}

impl<T: fmt::Display + fmt::Debug + PartialEq + Send + Sync + 'static> AspectValue for T {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn same_as(&self, other: &dyn AspectValue) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
}

impl AnyAspect {
    pub fn new(aspect: impl AspectValue) -> AnyAspect {
        AnyAspect(Arc::new(aspect))
    }

    /// The resource's own aspect, when it is one of `T`.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref::<T>()
    }
}

impl PartialEq for AnyAspect {
    fn eq(&self, other: &AnyAspect) -> bool {
        self.0.same_as(other.0.as_ref())
    }
}

impl Eq for AnyAspect {}

impl fmt::Debug for AnyAspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for AnyAspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Aspects as a report prints them: "cors, tags".
pub fn words(aspects: &[AnyAspect]) -> Vec<String> {
    aspects.iter().map(ToString::to_string).collect()
}

/// What closes the gap between desired and actual, in terms of a resource's aspects `A`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<A> {
    Create,
    /// It exists, but these aspects differ.
    Update(Vec<A>),
    InSync,
    /// Not the stack's to change (a `--role-arn` role).
    External,
}

impl<A: AspectValue + PartialEq + Clone> Change<A> {
    /// `InSync` when nothing differs, else `Update` with the differing aspects.
    pub fn from_differences(differences: Vec<A>) -> Change<A> {
        if differences.is_empty() {
            Change::InSync
        } else {
            Change::Update(differences)
        }
    }

    /// From (aspect, differs) pairs, in the order the aspects are applied.
    pub fn from_checks(checks: impl IntoIterator<Item = (A, bool)>) -> Change<A> {
        Change::from_differences(
            checks
                .into_iter()
                .filter(|(_, differs)| *differs)
                .map(|(aspect, _)| aspect)
                .collect(),
        )
    }

    pub fn differs(&self, aspect: A) -> bool {
        match self {
            Change::Create => true,
            Change::Update(aspects) => aspects.contains(&aspect),
            Change::InSync | Change::External => false,
        }
    }

    pub fn is_create(&self) -> bool {
        matches!(self, Change::Create)
    }

    /// The differing aspects, typed for reports and plans.
    fn any(aspects: &[A]) -> Vec<AnyAspect> {
        aspects.iter().cloned().map(AnyAspect::new).collect()
    }

    /// The outcome of applying this change successfully.
    pub fn outcome(&self) -> Outcome {
        match self {
            Change::Create => Outcome::Created,
            Change::Update(aspects) => Outcome::Updated(Self::any(aspects)),
            Change::InSync => Outcome::Unchanged,
            Change::External => Outcome::External,
        }
    }

    /// What `plan` says deploy will do.
    pub fn action(&self) -> DeployAction {
        match self {
            Change::Create => DeployAction::Create,
            Change::Update(aspects) => DeployAction::Update(Self::any(aspects)),
            Change::InSync => DeployAction::Unchanged,
            Change::External => DeployAction::External,
        }
    }
}

/// What deploy will do to one resource, as `plan` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployAction {
    Create,
    Update(Vec<AnyAspect>),
    Unchanged,
    /// Another's resource with one of the stack's names: deploy refuses to start.
    Refused(String),
    /// Not ours to manage (a `--role-arn` role).
    External,
}

impl DeployAction {
    pub fn line_state(&self) -> LineState {
        match self {
            DeployAction::Create => LineState::Create,
            DeployAction::Update(_) => LineState::Update,
            DeployAction::Unchanged => LineState::Unchanged,
            DeployAction::Refused(_) => LineState::Refused,
            DeployAction::External => LineState::External,
        }
    }

    pub fn word(&self) -> &'static str {
        self.line_state().word()
    }

    pub fn detail(&self) -> Option<String> {
        match self {
            DeployAction::Update(aspects) => Some(words(aspects).join(", ")),
            DeployAction::Refused(why) => Some(why.clone()),
            _ => None,
        }
    }

    /// [`DeployAction::detail`] with a long list of aspects (a site's files) cut to its first few.
    pub fn short_detail(&self) -> Option<String> {
        match self {
            DeployAction::Update(aspects) => Some(abridged(&words(aspects))),
            _ => self.detail(),
        }
    }

    /// The state `status` reports for a resource deploy would treat so.
    pub fn state(&self) -> State {
        match self {
            DeployAction::Create => State::Missing,
            DeployAction::Update(aspects) => State::Drifted(Drift::Aspects(aspects.clone())),
            DeployAction::Unchanged => State::Ok,
            DeployAction::Refused(why) => {
                State::Drifted(Drift::Because(format!("not this stack's: {why}")))
            }
            DeployAction::External => State::External,
        }
    }

    /// Whether deploy would call AWS to change something here.
    pub fn changes(&self) -> bool {
        matches!(self, DeployAction::Create | DeployAction::Update(_))
    }
}

/// What a command did to one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated(Vec<AnyAspect>),
    Unchanged,
    Deleted,
    /// Teardown found nothing to delete.
    Absent,
    /// Not ours to manage (a `--role-arn` role).
    External,
}

impl Outcome {
    pub fn line_state(&self) -> LineState {
        match self {
            Outcome::Created => LineState::Created,
            Outcome::Updated(_) => LineState::Updated,
            Outcome::Unchanged => LineState::Unchanged,
            Outcome::Deleted => LineState::Deleted,
            Outcome::Absent => LineState::Absent,
            Outcome::External => LineState::External,
        }
    }

    pub fn detail(&self) -> Option<String> {
        match self {
            Outcome::Updated(aspects) => Some(words(aspects).join(", ")),
            _ => None,
        }
    }

    /// The outcome of a delete call that found (or did not find) its target.
    pub fn of_deletion(found: bool) -> Outcome {
        if found {
            Outcome::Deleted
        } else {
            Outcome::Absent
        }
    }

    pub fn is_mutation(&self) -> bool {
        matches!(
            self,
            Outcome::Created | Outcome::Updated(_) | Outcome::Deleted
        )
    }
}

/// What `status` sees of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Ok,
    Missing,
    Drifted(Drift),
    /// Managed outside catup (a `--role-arn` role).
    External,
}

impl State {
    pub fn line_state(&self) -> LineState {
        match self {
            State::Ok => LineState::Ok,
            State::Missing => LineState::Missing,
            State::Drifted(_) => LineState::Drifted,
            State::External => LineState::External,
        }
    }

    pub fn detail(&self) -> Option<String> {
        match self {
            State::Drifted(Drift::Aspects(aspects)) => Some(words(aspects).join(", ")),
            State::Drifted(Drift::Because(why)) => Some(why.clone()),
            _ => None,
        }
    }
}

/// The word a report line starts with: what a command did (deploy, teardown), what it would
/// do (plan, teardown --dry-run) or what it sees (status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineState {
    Created,
    Updated,
    Unchanged,
    Deleted,
    Absent,
    External,
    Ok,
    Missing,
    Drifted,
    Create,
    Update,
    Delete,
    Refused,
}

impl LineState {
    pub fn word(self) -> &'static str {
        match self {
            LineState::Created => "created",
            LineState::Updated => "updated",
            LineState::Unchanged => "unchanged",
            LineState::Deleted => "deleted",
            LineState::Absent => "absent",
            LineState::External => "external",
            LineState::Ok => "ok",
            LineState::Missing => "missing",
            LineState::Drifted => "drifted",
            LineState::Create => "create",
            LineState::Update => "update",
            LineState::Delete => "delete",
            LineState::Refused => "refused",
        }
    }
}

impl fmt::Display for LineState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.word())
    }
}

/// A long list of aspects (a site's files) shortened to its first few.
pub fn abridged(items: &[String]) -> String {
    const SHOWN: usize = 6;
    if items.len() <= SHOWN {
        return items.join(", ");
    }
    format!(
        "{}, and {} more",
        items[..SHOWN].join(", "),
        items.len() - SHOWN
    )
}

/// How a resource differs from what deploy makes of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// These aspects differ; deploy changes them.
    Aspects(Vec<AnyAspect>),
    /// Something else is wrong (a failed update, the account's setting), said in words.
    Because(String),
}

/// Whose a resource is, from its `catup:stack` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    Ours,
    Untagged,
    OtherStack(String),
}

impl Ownership {
    pub fn of(tag: Option<&str>, stack: &str) -> Ownership {
        match tag {
            Some(t) if t == stack => Ownership::Ours,
            Some(t) => Ownership::OtherStack(t.to_owned()),
            None => Ownership::Untagged,
        }
    }

    /// Ok only when the resource carries this stack's tag.
    pub fn require_ours(
        tag: Option<&str>,
        kind: Kind,
        name: &str,
        stack: &str,
    ) -> Result<(), Foreign> {
        match Ownership::of(tag, stack) {
            Ownership::Ours => Ok(()),
            other => Err(Foreign::new(kind, name, stack, &other)),
        }
    }
}

/// A resource with one of this stack's names that this stack does not own (or may not use
/// that way): catup changes and deletes nothing of it.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{kind} {name} {message}")]
pub struct Foreign {
    pub kind: Kind,
    pub name: String,
    pub stack: String,
    pub why: String,
    /// The whole sentence after the resource's kind and name.
    pub message: String,
}

impl Foreign {
    pub fn new(kind: Kind, name: &str, stack: &str, owner: &Ownership) -> Foreign {
        let why = match owner {
            Ownership::OtherStack(other) => format!("it is tagged {STACK_TAG}={other}"),
            _ => format!("it has no {STACK_TAG} tag"),
        };
        let hint = match kind {
            Kind::ImagesBucket => " or --images-bucket",
            Kind::SiteBucket => " or --site-bucket",
            Kind::Role => " or --role-arn",
            _ => "",
        };
        // A resource whose tag someone removed is still this stack's: say how to put it back.
        let restore = match owner {
            Ownership::OtherStack(_) => String::new(),
            _ => format!(
                "; if it is this stack's and lost its tag, restore the tag: {}",
                restore_tag_command(kind, name, stack)
            ),
        };
        let message = format!("exists but does not belong to stack '{stack}' ({why}); delete or rename it, or use another --stack{hint}{restore}");
        Foreign {
            kind,
            name: name.to_owned(),
            stack: stack.to_owned(),
            why,
            message,
        }
    }

    /// A resource this stack may not use as asked: `why` for status, `advice` says what to do.
    pub fn refused(kind: Kind, name: &str, stack: &str, why: String, advice: String) -> Foreign {
        Foreign {
            kind,
            name: name.to_owned(),
            stack: stack.to_owned(),
            message: format!("{why}: {advice}"),
            why,
        }
    }
}

/// The command that puts this stack's tag back on a resource that lost it.
pub fn restore_tag_command(kind: Kind, name: &str, stack: &str) -> String {
    let bucket = |role: &str| {
        format!(
        "aws s3api put-bucket-tagging --bucket {name} --tagging 'TagSet=[{{Key={STACK_TAG},Value={stack}}},{{Key={ROLE_TAG},Value={role}}}]'"
    )
    };
    match kind {
        Kind::SiteBucket | Kind::SiteFiles => bucket("site"),
        Kind::ImagesBucket => bucket("images"),
        Kind::Role | Kind::ThumbsRole => {
            format!("aws iam tag-role --role-name {name} --tags Key={STACK_TAG},Value={stack}")
        }
        Kind::LogGroup | Kind::ThumbsLogGroup => {
            format!("aws logs tag-log-group --log-group-name {name} --tags {STACK_TAG}={stack}")
        }
        // Named by catup, never tagged: nothing to restore.
        Kind::Budget => format!("aws budgets delete-budget --account-id <account> --budget-name {name}"),
        // The trigger is the thumbnail function's permission and the bucket's notification:
        // whose it is, is the function's tag.
        Kind::Function | Kind::FunctionUrl | Kind::ThumbsFunction | Kind::ThumbsTrigger => format!(
            "aws lambda tag-resource --resource \"$(aws lambda get-function --function-name {name} --query Configuration.FunctionArn --output text)\" --tags {STACK_TAG}={stack}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    aspects! {
        /// Aspects of a made-up resource.
        Thing {
            Tags => "tags",
            Cors => "cors",
            Policy => "policy",
        }
    }

    #[test]
    fn change_maps_to_outcome_state_and_action() {
        let cases = [
            (
                Change::Create,
                Outcome::Created,
                State::Missing,
                DeployAction::Create,
            ),
            (
                Change::from_checks([
                    (Thing::Tags, false),
                    (Thing::Cors, true),
                    (Thing::Policy, true),
                ]),
                Outcome::Updated(vec![
                    AnyAspect::new(Thing::Cors),
                    AnyAspect::new(Thing::Policy),
                ]),
                State::Drifted(Drift::Aspects(vec![
                    AnyAspect::new(Thing::Cors),
                    AnyAspect::new(Thing::Policy),
                ])),
                DeployAction::Update(vec![
                    AnyAspect::new(Thing::Cors),
                    AnyAspect::new(Thing::Policy),
                ]),
            ),
            (
                Change::InSync,
                Outcome::Unchanged,
                State::Ok,
                DeployAction::Unchanged,
            ),
        ];
        for (change, outcome, state, action) in cases {
            assert_eq!(change.outcome(), outcome);
            assert_eq!(change.action().state(), state);
            assert_eq!(change.action(), action);
        }
        let DeployAction::Update(aspects) = Change::Update(vec![Thing::Cors]).action() else {
            panic!("an update");
        };
        assert_eq!(aspects[0].get::<Thing>(), Some(&Thing::Cors));
        assert_eq!(
            Change::Update(vec![Thing::Cors])
                .outcome()
                .detail()
                .unwrap(),
            "cors"
        );
        assert_eq!(Change::<Thing>::from_differences(vec![]), Change::InSync);
        assert_eq!(Change::from_checks([(Thing::Tags, false)]), Change::InSync);
    }

    #[test]
    fn long_file_lists_are_abridged() {
        let many: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
        assert_eq!(abridged(&many), "f0, f1, f2, f3, f4, f5, and 4 more");
        assert_eq!(abridged(&["a".into(), "b".into()]), "a, b");
    }

    aspects! {
        /// Another resource with an aspect of the same word.
        Other {
            Cors => "cors",
        }
    }

    #[test]
    fn aspects_are_their_resource_s_values_not_their_words() {
        assert_eq!(AnyAspect::new(Thing::Cors), AnyAspect::new(Thing::Cors));
        assert_ne!(AnyAspect::new(Thing::Cors), AnyAspect::new(Thing::Tags));
        assert_ne!(AnyAspect::new(Thing::Cors), AnyAspect::new(Other::Cors));
        assert_eq!(AnyAspect::new(Other::Cors).get::<Thing>(), None);
        assert_eq!(words(&[AnyAspect::new(Other::Cors)]), ["cors"]);
    }

    #[test]
    fn differs_is_true_for_every_aspect_of_a_create() {
        assert!(Change::Create.differs(Thing::Cors));
        assert!(Change::Update(vec![Thing::Cors]).differs(Thing::Cors));
        assert!(!Change::Update(vec![Thing::Cors]).differs(Thing::Tags));
        assert!(!Change::<Thing>::InSync.differs(Thing::Cors));
    }

    #[test]
    fn ownership_and_refusal_message() {
        assert_eq!(Ownership::of(Some("a"), "a"), Ownership::Ours);
        assert_eq!(Ownership::of(None, "a"), Ownership::Untagged);
        let other = Ownership::of(Some("b"), "a");
        assert_eq!(other, Ownership::OtherStack("b".into()));
        let msg = Foreign::new(Kind::ImagesBucket, "img", "a", &other).to_string();
        assert!(msg.contains("images bucket img") && msg.contains("catup:stack=b"));
        assert!(msg.contains("--images-bucket"), "{msg}");
        let msg = Foreign::new(Kind::Function, "a-api", "a", &Ownership::Untagged).to_string();
        assert!(msg.contains("no catup:stack tag"), "{msg}");
    }

    #[test]
    fn restore_commands_name_the_resource_and_the_tag() {
        let cmd = restore_tag_command(Kind::SiteBucket, "b", "s");
        assert!(
            cmd.contains("--bucket b")
                && cmd.contains("Key=catup:stack,Value=s")
                && cmd.contains("Value=site"),
            "{cmd}"
        );
        let cmd = restore_tag_command(Kind::Role, "r", "s");
        assert_eq!(
            cmd,
            "aws iam tag-role --role-name r --tags Key=catup:stack,Value=s"
        );
        let cmd = restore_tag_command(Kind::Function, "f", "s");
        assert!(
            cmd.contains("--function-name f") && cmd.contains("catup:stack=s"),
            "{cmd}"
        );
    }
}
