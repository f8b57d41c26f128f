//! What teardown reads of a bucket (whether it exists, whose it is, and whether S3 Object
//! Lock or its listing would stop its deletion half-way), and the step that makes of it.
//! Nothing deploy compares (policies, CORS, website, settings) is read.

use super::ownership::{self, BucketRole};
use super::{Basics, PublicAccessFlags};
use crate::aws::Aws;
use crate::reconcile::{Foreign, Kind};
use crate::resource_support::object_lock;
use crate::stack::Stack;
use crate::teardown_plan::{Step, TeardownAction};

/// An existing bucket as teardown sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundBucket {
    pub basics: Basics,
    /// For a bucket tagged for this stack but with no role tag (an older catup's): its public
    /// access block and whether it holds images, which decide whether it may be the site.
    pub exposure: Option<(Option<PublicAccessFlags>, bool)>,
    /// The error Object Lock makes teardown stop with (locked versions, or a failed check).
    pub locked: Option<String>,
    /// The error listing its objects ended with: emptying would fail the same way.
    pub unlistable: Option<String>,
}

pub async fn read(
    aws: &Aws,
    stack: &Stack,
    name: &str,
    role: BucketRole,
) -> anyhow::Result<Option<FoundBucket>> {
    // The Object Lock check and a one-entry listing go out beside the ownership read; the
    // ownership read's error wins (a foreign account's bucket gets HeadBucket's advice, not a
    // bare AccessDenied).
    let (basics, lock, listing) = tokio::join!(
        super::read_owner(aws, name),
        object_lock::check_deletable(aws, name),
        super::check_listable(aws, name)
    );
    let Some(basics) = basics? else {
        return Ok(None);
    };
    let older_site_bucket = role == BucketRole::Site
        && basics.tagged_for(stack.tag_value())
        && ownership::role_tag(&basics).is_none();
    let exposure = match older_site_bucket {
        true => Some(tokio::try_join!(
            super::read_public_access(aws, name),
            ownership::holds_images(aws, name)
        )?),
        false => None,
    };
    Ok(Some(FoundBucket {
        basics,
        exposure,
        locked: lock.err().map(|e| format!("{e:#}")),
        unlistable: listing.err().map(|e| format!("{e:#}")),
    }))
}

/// Teardown's step for the stack's bucket of `role` named `name`.
pub fn step(
    kind: Kind,
    name: &str,
    found: Option<&FoundBucket>,
    role: BucketRole,
    stack: &Stack,
) -> Step {
    let action = match found {
        None => TeardownAction::Absent,
        Some(bucket) => match owner(name, stack.tag_value(), role, bucket) {
            Err(foreign) => foreign.into(),
            Ok(()) => match (&bucket.unlistable, &bucket.locked) {
                (Some(message), _) => TeardownAction::Refused {
                    why: "its objects cannot be listed".into(),
                    message: format!("{message}: teardown deleted nothing; fix the access to the bucket's listing, then run teardown again"),
                },
                (None, Some(message)) => TeardownAction::Refused {
                    why: "objects locked by S3 Object Lock".into(),
                    message: message.clone(),
                },
                (None, None) => TeardownAction::Delete,
            },
        },
    };
    Step::new(kind, name, action)
}

/// The ownership half of each bucket's `check_owner`, on what teardown reads: ours (or a
/// killed deploy's leftover), tagged for this role, and for the site bucket of an older
/// catup, nothing that holds images or blocks all public access.
fn owner(name: &str, stack: &str, role: BucketRole, bucket: &FoundBucket) -> Result<(), Foreign> {
    let basics = &bucket.basics;
    basics.check_deployable(role.kind(), name, stack)?;
    ownership::check_role(basics, role, name, stack)?;
    match (role, bucket.exposure) {
        (BucketRole::Site, Some((public_access, holds_images))) => {
            ownership::check_may_become_public(basics, public_access, holds_images, name, stack)
        }
        _ => Ok(()),
    }
}
