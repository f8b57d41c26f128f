//! The account's catup budgets (AWS Budgets is global): each named `catup-<stack>-<region>`
//! by catup, and so placed under its stack and region. Budgets carry no tags catup could
//! read, so the name is what says a budget is a stack's (see resources/budget.rs).

use crate::aws::{error_code, is_not_found, Aws, SdkResultExt};
use crate::reconcile::Kind;
use crate::region::Region;
use crate::stack::StackName;

use super::tagged::Tagged;

/// Every catup budget of the account, under its stack and region; none where the account may
/// not read budgets (lab accounts).
pub async fn find(aws: &Aws, regions: &[Region]) -> anyhow::Result<Vec<Tagged>> {
    let account_id = aws.account_id().await?;
    let mut pages = aws
        .budgets
        .describe_budgets()
        .account_id(&account_id)
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = match page {
            Err(e) if error_code(&e) == Some("AccessDeniedException") => return Ok(Vec::new()),
            // An account with no budget at all answers NotFoundException.
            Err(e) if is_not_found(&e) => break,
            other => other.or_fail(|| "list the account's budgets".to_owned())?,
        };
        found.extend(
            page.budgets()
                .iter()
                .filter_map(|b| named_for(b.budget_name(), regions)),
        );
    }
    Ok(found)
}

fn named_for(budget: &str, regions: &[Region]) -> Option<Tagged> {
    let stem = budget.strip_prefix("catup-")?;
    regions.iter().find_map(|region| {
        let stack = stem.strip_suffix(&format!("-{region}"))?;
        StackName::parse(stack).ok()?;
        Some(Tagged {
            stack: stack.to_owned(),
            kind: Kind::Budget,
            name: budget.to_owned(),
            region: region.clone(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_a_stack_s_only_when_named_for_a_stack_and_region() {
        let regions = [Region::parse("eu-west-1").unwrap()];
        let found = named_for("catup-my-cats-eu-west-1", &regions).unwrap();
        assert_eq!(
            (found.stack.as_str(), found.kind),
            ("my-cats", Kind::Budget)
        );
        assert!(named_for("catup-cats-us-east-1", &regions).is_none());
        assert!(named_for("Monthly", &regions).is_none());
        assert!(named_for("catup-X-eu-west-1", &regions).is_none());
    }
}
