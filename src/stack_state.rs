//! The two sides every command compares: the desired state of each resource, derived from
//! the stack alone, and the observed state, read from AWS.

use std::collections::HashMap;

use crate::aws::Aws;
use crate::plan::Foreign;
use crate::resources::{
    function, function_url, images_bucket, log_group, role, site_bucket, site_files,
};
use crate::stack::Stack;

/// The desired state of every resource, derived from the stack alone.
pub struct Desired {
    pub images: images_bucket::Desired,
    pub site: site_bucket::Desired,
    pub log_group: log_group::Desired,
    pub role: Option<role::Desired>,
    pub function: function::Desired,
    pub url: function_url::Desired,
}

impl Desired {
    pub fn of(stack: &Stack) -> anyhow::Result<Desired> {
        Ok(Desired {
            images: images_bucket::desired(stack)?,
            site: site_bucket::desired(stack)?,
            log_group: log_group::desired(stack),
            role: role::desired(stack)?,
            function: function::desired(stack),
            url: function_url::desired(stack),
        })
    }
}

/// The actual state of every resource, read concurrently.
pub struct Observed {
    pub images: Option<images_bucket::Actual>,
    pub site: Option<site_bucket::Actual>,
    pub log_group: Option<log_group::Actual>,
    pub role: Option<role::Actual>,
    pub function: Option<function::Actual>,
    pub url: Option<function_url::Actual>,
    pub site_etags: HashMap<String, String>,
}

impl Observed {
    /// `function_read`: the function as already read (`None`: read it here).
    pub async fn read(
        aws: &Aws,
        stack: &Stack,
        function_read: Option<Option<function::Actual>>,
    ) -> anyhow::Result<Observed> {
        let log_group_arn = stack.log_group_arn();
        let (images, (site, site_etags), log_group, role, function, url) = tokio::try_join!(
            images_bucket::describe(aws, &stack.images_bucket),
            async {
                // Listed beside the bucket's own reads, not after them; the bucket's error
                // wins, so that a foreign bucket gets HeadBucket's advice, not a bare
                // AccessDenied.
                let (site, etags) = tokio::join!(
                    site_bucket::describe(aws, &stack.site_bucket),
                    site_files::describe(aws, &stack.site_bucket)
                );
                anyhow::Ok(match site? {
                    Some(site) => (Some(site), etags?),
                    None => (None, HashMap::new()),
                })
            },
            log_group::describe(aws, &stack.log_group, &log_group_arn),
            role::describe_if_ours(aws, stack.role_name.as_deref()),
            function::describe_unless_read(aws, &stack.function_name, function_read),
            function_url::describe(aws, &stack.function_name),
        )?;
        let found = |present: bool| if present { "exists" } else { "absent" };
        tracing::info!(target: "catup::steps", "read images bucket {}: {}", stack.images_bucket, found(images.is_some()));
        tracing::info!(target: "catup::steps", "read site bucket {}: {} ({} objects)", stack.site_bucket, found(site.is_some()), site_etags.len());
        tracing::info!(target: "catup::steps", "read log group {}: {}", stack.log_group, found(log_group.is_some()));
        tracing::info!(target: "catup::steps", "read role {}: {}", stack.role_arn, found(role.is_some()));
        tracing::info!(target: "catup::steps", "read function {}: {}", stack.function_name, found(function.is_some()));
        tracing::info!(target: "catup::steps", "read function url of {}: {}", stack.function_name, found(url.is_some()));
        Ok(Observed {
            images,
            site,
            log_group,
            role,
            function,
            url,
            site_etags,
        })
    }

    /// Resources with one of our names that another owns (deploy changes nothing of them).
    pub fn foreign(&self, desired: &Desired) -> Vec<Foreign> {
        let mut found = Vec::new();
        let mut check = |result: Result<(), Foreign>| found.extend(result.err());
        if let Some(a) = &self.images {
            check(images_bucket::check_owner(&desired.images, a));
        }
        if let Some(a) = &self.site {
            check(site_bucket::check_owner(&desired.site, a));
        }
        if let Some(a) = &self.log_group {
            check(log_group::check_owner(&desired.log_group, a));
        }
        if let (Some(d), Some(a)) = (&desired.role, &self.role) {
            check(role::check_owner(d, a));
        }
        if let Some(a) = &self.function {
            check(function::check_owner(&desired.function, a));
        }
        found
    }
}
