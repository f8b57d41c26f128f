//! Teardown's own read: whether each resource exists, whose it is (its tags), and whether
//! S3 Object Lock would stop a bucket's deletion half-way. Every read goes out at once after
//! the account lookup; nothing deploy compares (policies, CORS, website, settings) is read.

use crate::aws::Aws;
use crate::resource_support::bucket::ownership::{self, BucketRole};
use crate::resource_support::bucket::{self, Basics, PublicAccessFlags};
use crate::resource_support::object_lock;
use crate::resources::{function, function_url, log_group, role};
use crate::stack::Stack;

/// An existing bucket as teardown sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub basics: Basics,
    /// For a bucket tagged for this stack but with no role tag (an older catup's): its public
    /// access block and whether it holds images, which decide whether it may be the site.
    pub exposure: Option<(Option<PublicAccessFlags>, bool)>,
    /// The error Object Lock makes teardown stop with (locked versions, or a failed check).
    pub locked: Option<String>,
    /// The error listing its objects ended with: emptying would fail the same way.
    pub unlistable: Option<String>,
}

/// What exists of the stack, and whose it is.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub images: Option<Bucket>,
    pub site: Option<Bucket>,
    pub log_group: Option<log_group::Actual>,
    /// `None` also with `--role-arn` (the role is not the stack's to read or delete).
    pub role: Option<role::Actual>,
    /// The role of the old, region-less name, if it exists.
    pub legacy_role: Option<role::Actual>,
    pub function: Option<function::Actual>,
    pub url: bool,
}

impl Found {
    pub fn bucket(&self, role: BucketRole) -> Option<&Bucket> {
        match role {
            BucketRole::Site => self.site.as_ref(),
            BucketRole::Images => self.images.as_ref(),
        }
    }

    /// `function_read`: the function as connecting read it, if it did (not asked again).
    pub async fn read(
        aws: &Aws,
        stack: &Stack,
        function_read: Option<Option<function::Actual>>,
    ) -> anyhow::Result<Found> {
        let legacy = stack
            .legacy_role_name
            .as_deref()
            .filter(|_| stack.role_name.is_some());
        let log_group_arn = stack.log_group_arn();
        let (images, site, log_group, role, legacy_role, function, url) = tokio::try_join!(
            read_bucket(aws, stack, &stack.images_bucket, BucketRole::Images),
            read_bucket(aws, stack, &stack.site_bucket, BucketRole::Site),
            log_group::describe(aws, &stack.log_group, &log_group_arn),
            role::describe_if_ours(aws, stack.role_name.as_deref()),
            role::describe_if_ours(aws, legacy),
            function::describe_unless_read(aws, &stack.function_name, function_read),
            function_url::exists(aws, &stack.function_name),
        )?;
        Ok(Found {
            images,
            site,
            log_group,
            role,
            legacy_role,
            function,
            url,
        })
    }
}

async fn read_bucket(
    aws: &Aws,
    stack: &Stack,
    name: &str,
    role: BucketRole,
) -> anyhow::Result<Option<Bucket>> {
    // The Object Lock check and a one-entry listing go out beside the ownership read; the
    // ownership read's error wins (a foreign account's bucket gets HeadBucket's advice, not a
    // bare AccessDenied).
    let (basics, lock, listing) = tokio::join!(
        bucket::read_owner(aws, name),
        object_lock::check_deletable(aws, name),
        bucket::check_listable(aws, name)
    );
    let Some(basics) = basics? else {
        return Ok(None);
    };
    let older_site_bucket = role == BucketRole::Site
        && basics.tagged_for(stack.tag_value())
        && ownership::role_tag(&basics).is_none();
    let exposure = match older_site_bucket {
        true => Some(tokio::try_join!(
            bucket::read_public_access(aws, name),
            ownership::holds_images(aws, name)
        )?),
        false => None,
    };
    Ok(Some(Bucket {
        basics,
        exposure,
        locked: lock.err().map(|e| format!("{e:#}")),
        unlistable: listing.err().map(|e| format!("{e:#}")),
    }))
}
