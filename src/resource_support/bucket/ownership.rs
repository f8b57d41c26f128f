//! Whose a bucket is and what it is for, beyond the stack tag: each bucket also carries its
//! role (site or images), a bucket never changes role, and a bucket that holds images or
//! blocks all public access is never made into a public website unless catup made it one.

use cat_upload_fn::listed_key;

use crate::aws::{Aws, SdkResultExt};
use crate::reconcile::{Foreign, Kind};
pub use crate::stack::ROLE_TAG;
use crate::stack::{Overrides, Stack, STACK_TAG};

pub use crate::resource_support::bucket_role::BucketRole;
use crate::resource_support::remembered;

use super::{Basics, PublicAccessFlags};

/// Where the function puts uploads; a bucket with objects under it holds someone's images.
pub const IMAGES_PREFIX: &str = "images/";

/// A bucket named only by the function's remembered tag (no flag in this command): the tag,
/// its flag, and the command that clears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    pub tag: &'static str,
    pub flag: &'static str,
    pub clear: String,
}

impl Pointer {
    pub fn of(stack: &Stack, role: BucketRole) -> Option<Pointer> {
        named_by_memory(&stack.overrides, role).then(|| {
            let (tag, flag) = remembered::bucket_tag(role);
            Pointer {
                tag,
                flag,
                clear: remembered::clear_command(&stack.function_arn(), tag),
            }
        })
    }
}

/// Whether the bucket of `role` is named only by the function's remembered tag.
pub fn named_by_memory(overrides: &Overrides, role: BucketRole) -> bool {
    match role {
        BucketRole::Site => overrides.from_memory.site_bucket,
        BucketRole::Images => overrides.from_memory.images_bucket,
    }
}

/// A remembered name is a pointer, not a proof: the bucket it names is acted on only if it
/// carries this stack's tag and the role's. An empty, untagged bucket (what a killed deploy
/// leaves) is adopted only for a name given in this very command.
pub fn check_pointer(
    basics: &Basics,
    role: BucketRole,
    pointer: Option<&Pointer>,
    name: &str,
    stack: &str,
) -> Result<(), Foreign> {
    match pointer {
        Some(pointer) if !basics.tagged_as(stack, role) => Err(Foreign::refused(
            role.kind(),
            name,
            stack,
            format!(
                "is named by the function's tag {} but is not tagged as this stack's {} bucket ({STACK_TAG}={stack}, {ROLE_TAG}={})",
                pointer.tag,
                role.tag_value(),
                role.tag_value()
            ),
            format!(
                "catup changes nothing of it; if it is the stack's, pass {} {name}, otherwise clear the tag: {}",
                pointer.flag, pointer.clear
            ),
        )),
        _ => Ok(()),
    }
}

/// The role tag's value, if the bucket has one.
pub fn role_tag(basics: &Basics) -> Option<&str> {
    basics
        .tags
        .iter()
        .find(|(k, _)| k == ROLE_TAG)
        .map(|(_, v)| v.as_str())
}

/// The tags catup puts on a bucket of this stack in this role.
pub fn bucket_tags(stack: &str, role: BucketRole) -> [(&'static str, String); 2] {
    [
        (STACK_TAG, stack.to_owned()),
        (ROLE_TAG, role.tag_value().to_owned()),
    ]
}

/// A bucket tagged for one role is never used in the other.
pub fn check_role(
    basics: &Basics,
    role: BucketRole,
    name: &str,
    stack: &str,
) -> Result<(), Foreign> {
    match role_tag(basics) {
        Some(tagged) if tagged != role.tag_value() => Err(Foreign::refused(
            role.kind(),
            name,
            stack,
            format!("is tagged {ROLE_TAG}={tagged}"),
            format!(
                "a bucket never changes role (a website would make a private bucket's objects public): choose another {}",
                role.flag()
            ),
        )),
        _ => Ok(()),
    }
}

/// A bucket that catup did not make a site bucket (no role tag) is made public only when it is
/// a killed deploy's leftover: never when it holds `images/` objects or blocks all public access.
pub fn check_may_become_public(
    basics: &Basics,
    public_access: Option<PublicAccessFlags>,
    holds_images: bool,
    name: &str,
    stack: &str,
) -> Result<(), Foreign> {
    if role_tag(basics).is_some() || basics.leftover {
        return Ok(());
    }
    let why = if holds_images {
        format!("holds objects under {IMAGES_PREFIX}")
    } else if public_access == Some([true; 4]) {
        "blocks all public access".to_owned()
    } else {
        return Ok(());
    };
    Err(Foreign::refused(
        Kind::SiteBucket,
        name,
        stack,
        format!("{why} and catup never made it a site bucket"),
        "catup does not make such a bucket a public website: choose another --site-bucket".into(),
    ))
}

/// Whether any object lies under `images/` (one key listed at most).
pub async fn holds_images(aws: &Aws, bucket: &str) -> anyhow::Result<bool> {
    let page = aws
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(IMAGES_PREFIX)
        .max_keys(1)
        .encoding_type(listed_key::LISTING_ENCODING)
        .send()
        .await
        .or_absent(|| format!("list {IMAGES_PREFIX} of bucket {bucket}"))?;
    Ok(page.is_some_and(|p| !p.contents().is_empty()))
}

/// No policy, CORS or website configuration: nothing anyone set up on the bucket.
pub async fn is_unconfigured(aws: &Aws, bucket: &str) -> anyhow::Result<bool> {
    let s3 = &aws.s3;
    let (policy, cors, website) = tokio::try_join!(
        async {
            let out = s3.get_bucket_policy().bucket(bucket).send().await;
            out.or_absent(|| format!("read policy of bucket {bucket}"))
        },
        async {
            let out = s3.get_bucket_cors().bucket(bucket).send().await;
            out.or_absent(|| format!("read CORS of bucket {bucket}"))
        },
        async {
            let out = s3.get_bucket_website().bucket(bucket).send().await;
            out.or_absent(|| format!("read website configuration of bucket {bucket}"))
        },
    )?;
    Ok(policy.is_none() && cors.is_none() && website.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basics(tags: &[(&str, &str)]) -> Basics {
        Basics {
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            leftover: false,
        }
    }

    #[test]
    fn a_bucket_never_changes_role() {
        let images = basics(&[(STACK_TAG, "s"), (ROLE_TAG, "images")]);
        let err = check_role(&images, BucketRole::Site, "b", "s")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("catup:role=images") && err.contains("--site-bucket"),
            "{err}"
        );
        assert!(check_role(&images, BucketRole::Images, "b", "s").is_ok());
        assert!(check_role(&basics(&[(STACK_TAG, "s")]), BucketRole::Site, "b", "s").is_ok());
    }

    #[test]
    fn only_a_site_bucket_or_a_leftover_becomes_public() {
        let old_images = basics(&[(STACK_TAG, "s")]);
        let blocked = Some([true; 4]);
        assert!(check_may_become_public(&old_images, blocked, false, "b", "s").is_err());
        assert!(check_may_become_public(&old_images, None, true, "b", "s").is_err());
        assert!(check_may_become_public(
            &old_images,
            Some([true, true, false, false]),
            false,
            "b",
            "s"
        )
        .is_ok());
        let site = basics(&[(STACK_TAG, "s"), (ROLE_TAG, "site")]);
        assert!(check_may_become_public(&site, blocked, false, "b", "s").is_ok());
        // Real S3 blocks all public access on every new bucket: a killed deploy's is adopted.
        let leftover = Basics {
            leftover: true,
            ..basics(&[])
        };
        assert!(check_may_become_public(&leftover, blocked, false, "b", "s").is_ok());
    }
}
