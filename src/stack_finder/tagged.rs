//! One region's catup resources, by their ownership tag (`tag:GetResources` with the key
//! `catup:stack`), each kept only where its name is the one catup gives it (a function,
//! a log group) or its role tag says which bucket of the stack it is.

use aws_config::retry::RetryConfig;
use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, TagFilter};
use aws_sdk_resourcegroupstagging::Client;

use crate::aws::{reason, Aws};
use crate::reconcile::Kind;
use crate::region::Region;
use crate::stack::{Stack, StackName, ROLE_TAG, STACK_TAG};

/// One resource a tag says is a stack's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub stack: String,
    pub kind: Kind,
    pub name: String,
    /// Where the listing found it (a bucket's own region is read afterwards).
    pub region: Region,
}

/// What a stack has that the tagging API lists: only these services are asked about (the
/// whole of "logs": moto knows log groups by another type name than AWS's `log-group`).
const TYPES: &[&str] = &["s3:bucket", "lambda:function", "logs"];

/// Every catup resource the region's listing holds; an error names the region.
pub async fn read(aws: &Aws) -> Result<Vec<Tagged>, String> {
    let mut pages = impatient(&aws.tagging)
        .get_resources()
        .tag_filters(TagFilter::builder().key(STACK_TAG).build())
        .set_resource_type_filters(Some(TYPES.iter().map(|t| (*t).to_owned()).collect()))
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| reason(&e))?;
        found.extend(
            page.resource_tag_mapping_list()
                .iter()
                .filter_map(|m| of_mapping(m, &aws.region)),
        );
    }
    Ok(found)
}

/// Two attempts, not five: a region that fails (one AWS has not enabled for the account, one
/// an emulator does not know) is reported as not read rather than waited out with back-off.
fn impatient(client: &Client) -> Client {
    let config = client.config().to_builder();
    Client::from_conf(
        config
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(2)
                    .with_initial_backoff(std::time::Duration::from_millis(100)),
            )
            .build(),
    )
}

fn of_mapping(mapping: &ResourceTagMapping, region: &Region) -> Option<Tagged> {
    let tag = |key: &str| {
        mapping
            .tags()
            .iter()
            .find(|t| t.key() == key)
            .map(|t| t.value().to_owned())
    };
    let stack = tag(STACK_TAG)?;
    let (kind, name) = kind_and_name(mapping.resource_arn()?, tag(ROLE_TAG).as_deref(), &stack)?;
    Some(Tagged {
        stack,
        kind,
        name,
        region: region.clone(),
    })
}

/// What the ARN is of the stack's, if anything: a tag on a resource of another name or
/// role is not catup's doing.
fn kind_and_name(arn: &str, role: Option<&str>, stack: &str) -> Option<(Kind, String)> {
    let name = StackName::parse(stack).ok()?;
    let function = Stack::function_name_of(&name);
    if let Some(bucket) = arn.strip_prefix("arn:aws:s3:::") {
        let kind = match role {
            Some("site") => Kind::SiteBucket,
            Some("images") => Kind::ImagesBucket,
            _ => return None,
        };
        return Some((kind, bucket.to_owned()));
    }
    let resource = arn.splitn(6, ':').nth(5)?;
    if arn.starts_with("arn:aws:lambda:") && resource == format!("function:{function}") {
        return Some((Kind::Function, function));
    }
    let group = format!("/aws/lambda/{function}");
    let logged = resource
        .strip_prefix("log-group:")
        .map(|g| g.strip_suffix(":*").unwrap_or(g));
    (arn.starts_with("arn:aws:logs:") && logged == Some(group.as_str()))
        .then_some((Kind::LogGroup, group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_catup_s_names_and_bucket_roles_count() {
        let cases = [
            ("arn:aws:s3:::b", Some("images"), Some(Kind::ImagesBucket)),
            ("arn:aws:s3:::b", Some("site"), Some(Kind::SiteBucket)),
            ("arn:aws:s3:::b", None, None),
            ("arn:aws:s3:::b", Some("backups"), None),
            (
                "arn:aws:lambda:eu-west-1:1:function:cats-api",
                None,
                Some(Kind::Function),
            ),
            ("arn:aws:lambda:eu-west-1:1:function:other", None, None),
            (
                "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/cats-api",
                None,
                Some(Kind::LogGroup),
            ),
            (
                "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/cats-api:*",
                None,
                Some(Kind::LogGroup),
            ),
            ("arn:aws:logs:eu-west-1:1:log-group:/mine", None, None),
            ("arn:aws:iam::1:role/cats-api-eu-west-1-role", None, None),
        ];
        for (arn, role, kind) in cases {
            let found = kind_and_name(arn, role, "cats").map(|(k, _)| k);
            assert_eq!(found, kind, "{arn} {role:?}");
        }
        assert_eq!(kind_and_name("arn:aws:s3:::b", Some("site"), "NO"), None);
    }
}
