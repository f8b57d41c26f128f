//! The stacks' roles: IAM is global, so one listing serves every region. A role counts when
//! its name is one catup gives (`<stack>-api-<region>-role`) and its own tags say so
//! (`catup:stack`, `catup:region`).

use crate::aws::{Aws, SdkResultExt};
use crate::reconcile::Kind;
use crate::region::Region;
use crate::resources::role::REGION_TAG;
use crate::stack::{StackName, STACK_TAG};

use super::tagged::Tagged;

/// Every role of a catup stack (of `only`, when given) in one of `regions`.
pub async fn find(
    aws: &Aws,
    regions: &[Region],
    only: Option<&str>,
) -> anyhow::Result<Vec<Tagged>> {
    let mut pages = aws.iam.list_roles().into_paginator().send();
    let mut candidates = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.or_fail(|| "list the account's IAM roles".to_owned())?;
        candidates.extend(
            page.roles()
                .iter()
                .filter_map(|r| named_for(r.role_name(), regions))
                .filter(|c| only.is_none_or(|stack| c.stack == stack)),
        );
    }
    let mut tasks = tokio::task::JoinSet::new();
    for candidate in candidates {
        let iam = aws.iam.clone();
        tasks.spawn(async move {
            let tags = iam
                .list_role_tags()
                .role_name(&candidate.name)
                .send()
                .await
                .or_absent(|| format!("read tags of role {}", candidate.name))?;
            let tag = |key: &str| {
                let tags = tags.as_ref().map(|t| t.tags()).unwrap_or_default();
                tags.iter().find(|t| t.key() == key).map(|t| t.value())
            };
            let ours = tag(STACK_TAG) == Some(candidate.stack.as_str())
                && tag(REGION_TAG) == Some(candidate.region.as_str());
            anyhow::Ok(ours.then_some(candidate))
        });
    }
    let mut found = Vec::new();
    while let Some(done) = tasks.join_next().await {
        found.extend(done??);
    }
    Ok(found)
}

/// The stack and region a role's name says it is for, if it is named as catup names roles.
fn named_for(role: &str, regions: &[Region]) -> Option<Tagged> {
    let stem = role.strip_suffix("-role")?;
    regions.iter().find_map(|region| {
        let stack = stem.strip_suffix(&format!("-api-{region}"))?;
        StackName::parse(stack).ok()?;
        Some(Tagged {
            stack: stack.to_owned(),
            kind: Kind::Role,
            name: role.to_owned(),
            region: region.clone(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_a_candidate_only_when_named_for_a_stack_and_region() {
        let regions = [Region::parse("eu-west-1").unwrap()];
        let found = named_for("cats-api-eu-west-1-role", &regions).unwrap();
        assert_eq!((found.stack.as_str(), found.kind), ("cats", Kind::Role));
        assert!(named_for("cats-api-us-east-1-role", &regions).is_none());
        assert!(named_for("LabRole", &regions).is_none());
        assert!(named_for("X-api-eu-west-1-role", &regions).is_none());
    }
}
