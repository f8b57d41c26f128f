//! Lifecycle rules on the images bucket. A rule someone else adds that expires objects
//! quietly empties the gallery, so it is drift that deploy removes; other rules (aborting
//! uploads) stay. The one expiry catup makes is the user's own cap, `--keep-days N`: a rule of
//! catup's id that expires uploads (and anything else in the bucket, thumbnails included)
//! after N days and aborts incomplete uploads after a day. The rule itself is what catup
//! remembers: a deploy without the flag keeps it as it is, `--keep-days 0` removes it.

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
};

use crate::aws::{Aws, SdkResultExt};
use crate::resource_support::bucket::Changing;

/// The id of the one rule catup writes.
pub const KEEP_DAYS_RULE: &str = "catup-keep-days";

/// What `--keep-days` asks of the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeepDays {
    /// No flag: catup's rule stays as it is (or absent).
    #[default]
    AsItIs,
    /// Expire objects after this many days.
    Days(i32),
    /// `--keep-days 0`: no rule of catup's.
    Forever,
}

impl KeepDays {
    pub fn from_flag(days: Option<u32>) -> KeepDays {
        match days {
            None => KeepDays::AsItIs,
            Some(0) => KeepDays::Forever,
            Some(n) => KeepDays::Days(i32::try_from(n).unwrap_or(i32::MAX)),
        }
    }
}

/// The bucket's lifecycle rules: catup's own, others that expire objects, and the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lifecycle {
    /// Days after which catup's rule expires objects, if it is there.
    pub keep_days: Option<i32>,
    pub expiring: Vec<LifecycleRule>,
    pub kept: Vec<LifecycleRule>,
}

impl Lifecycle {
    /// Whether the rules differ from what `wanted` asks: a rule of someone else's that
    /// expires objects, or catup's own rule missing, extra or for other days.
    pub fn differs(&self, wanted: KeepDays) -> bool {
        let ours_differs = match wanted {
            KeepDays::AsItIs => false,
            KeepDays::Days(days) => self.keep_days != Some(days),
            KeepDays::Forever => self.keep_days.is_some(),
        };
        !self.expiring.is_empty() || ours_differs
    }
}

pub fn expires(rule: &LifecycleRule) -> bool {
    rule.expiration().is_some() || rule.noncurrent_version_expiration().is_some()
}

pub async fn read_lifecycle(aws: &Aws, bucket: &str) -> anyhow::Result<Lifecycle> {
    let out = aws
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await;
    let out = match out {
        Err(e) if crate::aws::error_code(&e) == Some("NoSuchLifecycleConfiguration") => None,
        other => other.or_absent(|| format!("read lifecycle rules of bucket {bucket}"))?,
    };
    let rules = out.map(|o| o.rules().to_vec()).unwrap_or_default();
    Ok(split(rules))
}

fn split(rules: Vec<LifecycleRule>) -> Lifecycle {
    let (ours, others): (Vec<_>, Vec<_>) = rules
        .into_iter()
        .partition(|r| r.id() == Some(KEEP_DAYS_RULE));
    let keep_days = ours
        .iter()
        .find_map(|r| r.expiration().and_then(|e| e.days()));
    let (expiring, kept) = others.into_iter().partition(expires);
    Lifecycle {
        keep_days,
        expiring,
        kept,
    }
}

/// catup's rule for `days`.
fn keep_days_rule(days: i32) -> anyhow::Result<LifecycleRule> {
    Ok(LifecycleRule::builder()
        .id(KEEP_DAYS_RULE)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(LifecycleExpiration::builder().days(days).build())
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(1)
                .build(),
        )
        .build()?)
}

/// Writes the rules `wanted` asks for: the others that do not expire objects, and catup's own
/// (as it was, for `AsItIs`).
pub async fn put_rules(
    target: &Changing<'_>,
    lifecycle: &Lifecycle,
    wanted: KeepDays,
) -> anyhow::Result<()> {
    let (s3, bucket) = (&target.aws.s3, target.name);
    let days = match wanted {
        KeepDays::AsItIs => lifecycle.keep_days,
        KeepDays::Days(days) => Some(days),
        KeepDays::Forever => None,
    };
    let mut rules = lifecycle.kept.clone();
    rules.extend(days.map(keep_days_rule).transpose()?);
    if rules.is_empty() {
        target
            .call(|| s3.delete_bucket_lifecycle().bucket(bucket).send())
            .await
            .or_absent(|| format!("remove the lifecycle rules of bucket {bucket}"))?;
        return Ok(());
    }
    let config = BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()?;
    target
        .call(|| {
            s3.put_bucket_lifecycle_configuration()
                .bucket(bucket)
                .lifecycle_configuration(config.clone())
                .send()
        })
        .await
        .or_fail(|| format!("write the lifecycle rules of bucket {bucket}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiring(id: &str, days: i32) -> LifecycleRule {
        LifecycleRule::builder()
            .id(id)
            .status(ExpirationStatus::Enabled)
            .expiration(LifecycleExpiration::builder().days(days).build())
            .build()
            .unwrap()
    }

    #[test]
    fn only_rules_that_expire_objects_count() {
        let abort = LifecycleRule::builder()
            .id("abort-uploads")
            .status(ExpirationStatus::Enabled)
            .build()
            .unwrap();
        assert!(expires(&expiring("gone-in-a-day", 1)) && !expires(&abort));
    }

    #[test]
    fn catup_s_rule_is_the_cap_and_another_expiry_is_drift() {
        let ours = split(vec![keep_days_rule(7).unwrap()]);
        assert_eq!(ours.keep_days, Some(7));
        assert!(ours.expiring.is_empty());
        let cases = [
            (KeepDays::AsItIs, false),
            (KeepDays::Days(7), false),
            (KeepDays::Days(30), true),
            (KeepDays::Forever, true),
        ];
        for (wanted, differs) in cases {
            assert_eq!(ours.differs(wanted), differs, "{wanted:?}");
        }
        let none = split(vec![]);
        assert!(!none.differs(KeepDays::AsItIs) && !none.differs(KeepDays::Forever));
        assert!(none.differs(KeepDays::Days(7)));
        let someone_s = split(vec![expiring("theirs", 1)]);
        assert!(someone_s.differs(KeepDays::AsItIs));
        assert_eq!(KeepDays::from_flag(Some(0)), KeepDays::Forever);
        assert_eq!(KeepDays::from_flag(None), KeepDays::AsItIs);
        assert_eq!(KeepDays::from_flag(Some(3)), KeepDays::Days(3));
    }
}
