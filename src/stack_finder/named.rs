//! One stack's regions from the names catup gives its buckets (`<stack>-site-<account>-<region>`,
//! `<stack>-images-...`), each confirmed by the bucket's own tags: one global listing and a
//! read per candidate, not a call in every region. What the commands use to say where a
//! stack is; `catup list` reads every region instead (custom names, what is left without
//! its buckets).

use crate::aws::{Aws, SdkResultExt};
use crate::region::Region;
use crate::resource_support::bucket_role::BucketRole;
use crate::stack::{ROLE_TAG, STACK_TAG};

/// The regions whose default-named buckets of `stack` are tagged as its own.
pub async fn bucket_regions(
    aws: &Aws,
    stack: &str,
    regions: &[Region],
) -> anyhow::Result<Vec<Region>> {
    let listed = aws
        .s3
        .list_buckets()
        .send()
        .await
        .or_fail(|| "list the account's buckets".to_owned())?;
    let mut reads = tokio::task::JoinSet::new();
    for bucket in listed.buckets() {
        let Some(name) = bucket.name() else { continue };
        if let Some((role, region)) = named_for(name, stack, regions) {
            let (here, name, stack) = (aws.in_region(&region), name.to_owned(), stack.to_owned());
            reads.spawn(async move {
                let tagging = here.s3.get_bucket_tagging().bucket(&name).send().await;
                let tags = match tagging {
                    Ok(out) => out.tag_set,
                    // AWS answered (no tags, another region's, gone): not this stack's here.
                    Err(e) if e.raw_response().is_some() => Vec::new(),
                    Err(e) => {
                        return Err(anyhow::anyhow!(
                            "read tags of bucket {name}: {}",
                            crate::aws::reason(&e)
                        ))
                    }
                };
                let tag = |key: &str| tags.iter().find(|t| t.key == key).map(|t| t.value.as_str());
                let ours = tag(STACK_TAG) == Some(stack.as_str())
                    && tag(ROLE_TAG) == Some(role.tag_value());
                Ok(ours.then_some(region))
            });
        }
    }
    let mut found = Vec::new();
    while let Some(done) = reads.join_next().await {
        found.extend(done??);
    }
    Ok(found)
}

/// The role and region a bucket's name gives it, if it is named as catup names `stack`'s.
fn named_for(bucket: &str, stack: &str, regions: &[Region]) -> Option<(BucketRole, Region)> {
    let rest = bucket.strip_prefix(stack)?.strip_prefix('-')?;
    let (role, rest) = if let Some(rest) = rest.strip_prefix("site-") {
        (BucketRole::Site, rest)
    } else {
        (BucketRole::Images, rest.strip_prefix("images-")?)
    };
    let (account, region) = rest.split_once('-')?;
    let account_like = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let region = regions.iter().find(|r| r.as_str() == region)?;
    account_like.then(|| (role, region.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_stack_s_own_bucket_names_are_candidates() {
        let regions = [Region::parse("eu-west-1").unwrap()];
        let found = |name: &str| named_for(name, "cats", &regions).map(|(role, _)| role);
        assert_eq!(
            found("cats-site-123456789012-eu-west-1"),
            Some(BucketRole::Site)
        );
        assert_eq!(
            found("cats-images-123456789012-eu-west-1"),
            Some(BucketRole::Images)
        );
        assert_eq!(found("cats-images-123456789012-us-east-1"), None);
        assert_eq!(found("catsx-images-123456789012-eu-west-1"), None);
        assert_eq!(found("cats-backup-123456789012-eu-west-1"), None);
        assert_eq!(found("cats-images-12345-eu-west-1"), None);
    }
}
