//! The account's own S3 Block Public Access setting (set by the account, or by its
//! organization), which overrides every bucket's: with BlockPublicPolicy on, S3 refuses the
//! site's public-read policy; with RestrictPublicBuckets on, the website answers 403 although
//! the bucket's own settings are right. Read before the site bucket is touched.

use aws_sdk_s3control::types::PublicAccessBlockConfiguration;

use crate::aws::{error_code, reason, Aws, SdkResultExt};

/// What the account's setting means for a public website.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountAccess {
    /// No account-level block that stops a public website (ACL blocks do not: the site uses
    /// a bucket policy, not ACLs).
    AllowsWebsite,
    /// These flags are on for the whole account.
    Blocks(Vec<&'static str>),
    /// The setting could not be read (no s3:GetAccountPublicAccessBlock); the reason.
    Unknown(String),
}

impl AccountAccess {
    fn of(config: &PublicAccessBlockConfiguration) -> AccountAccess {
        let on: Vec<&'static str> = [
            ("BlockPublicPolicy", config.block_public_policy()),
            ("RestrictPublicBuckets", config.restrict_public_buckets()),
        ]
        .into_iter()
        .filter(|(_, flag)| *flag == Some(true))
        .map(|(name, _)| name)
        .collect();
        if on.is_empty() {
            AccountAccess::AllowsWebsite
        } else {
            AccountAccess::Blocks(on)
        }
    }

    /// The one line a deploy stops with, when the account blocks the website.
    pub fn refusal(&self, account_id: &str) -> Option<String> {
        let AccountAccess::Blocks(flags) = self else {
            return None;
        };
        Some(format!(
            "the account's S3 Block Public Access setting ({}) keeps every bucket private, so the website cannot be public: lift it for account {account_id} in the S3 console (Block Public Access settings for this account) or with `aws s3control put-public-access-block --account-id {account_id} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=false`; if your organization sets it, ask its administrator",
            flags.join(", ")
        ))
    }

    /// What status says of the site bucket when the account blocks the website.
    pub fn drift(&self) -> Option<String> {
        match self {
            AccountAccess::Blocks(flags) => Some(format!(
                "the account's Block Public Access ({}) keeps the website private",
                flags.join(", ")
            )),
            _ => None,
        }
    }
}

pub async fn read(aws: &Aws, account_id: &str) -> anyhow::Result<AccountAccess> {
    let answer = aws
        .s3control
        .get_public_access_block()
        .account_id(account_id)
        .send()
        .await;
    match answer {
        Ok(out) => Ok(out
            .public_access_block_configuration()
            .map_or(AccountAccess::AllowsWebsite, AccountAccess::of)),
        Err(e) if error_code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => {
            Ok(AccountAccess::AllowsWebsite)
        }
        Err(e) if error_code(&e) == Some("AccessDenied") => Ok(AccountAccess::Unknown(reason(&e))),
        Err(e) => Err(e).or_fail(|| {
            format!("read the account's S3 Block Public Access setting (account {account_id})")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(policy: bool, restrict: bool) -> AccountAccess {
        AccountAccess::of(
            &PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(policy)
                .restrict_public_buckets(restrict)
                .build(),
        )
    }

    #[test]
    fn only_policy_and_restrict_flags_block_the_website() {
        assert_eq!(access(false, false), AccountAccess::AllowsWebsite);
        assert_eq!(
            access(true, false),
            AccountAccess::Blocks(vec!["BlockPublicPolicy"])
        );
        assert_eq!(
            access(false, true),
            AccountAccess::Blocks(vec!["RestrictPublicBuckets"])
        );
        let line = access(true, true).refusal("123456789012").unwrap();
        assert!(
            line.contains("BlockPublicPolicy, RestrictPublicBuckets"),
            "{line}"
        );
        assert!(line.contains("--account-id 123456789012"), "{line}");
        assert!(!line.contains('\n'));
        assert_eq!(access(false, false).refusal("1"), None);
    }
}
