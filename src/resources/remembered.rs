//! The names given with --site-bucket, --images-bucket and --role-arn, remembered in the
//! function's tags: a later command without the flags acts on the same resources (instead of
//! pointing the function at a new, empty bucket), and one with other values is refused.

use std::collections::{BTreeMap, HashMap};

use anyhow::bail;

use crate::aws::{Aws, SdkResultExt};
use crate::stack::Overrides;

const SITE_BUCKET: &str = "catup:site-bucket";
const IMAGES_BUCKET: &str = "catup:images-bucket";
const ROLE_ARN: &str = "catup:role-arn";
/// Every tag this module writes.
pub const KEYS: [&str; 3] = [SITE_BUCKET, IMAGES_BUCKET, ROLE_ARN];

/// The tags that remember `overrides`.
pub fn tags_of(overrides: &Overrides) -> BTreeMap<String, String> {
    let given = [
        (SITE_BUCKET, &overrides.site_bucket),
        (IMAGES_BUCKET, &overrides.images_bucket),
        (ROLE_ARN, &overrides.role_arn),
    ];
    given
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key.to_owned(), v)))
        .collect()
}

/// The remembered tags among a function's tags.
pub fn among(tags: &HashMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What the stack's function remembers, from its remembered tags (see [`among`]).
pub fn overrides_of(tags: &BTreeMap<String, String>) -> Overrides {
    let value = |key: &str| tags.get(key).cloned();
    Overrides {
        site_bucket: value(SITE_BUCKET),
        images_bucket: value(IMAGES_BUCKET),
        role_arn: value(ROLE_ARN),
        website_origin: None,
    }
}

/// The flags given, completed with what the stack remembers. A flag that differs from the
/// remembered value is refused: the stack's data lives where it was deployed.
pub fn merge(given: &Overrides, remembered: &Overrides, stack: &str) -> anyhow::Result<Overrides> {
    let pick = |flag: &str, given: &Option<String>, remembered: &Option<String>| {
        match (given, remembered) {
            (Some(g), Some(r)) if g != r => bail!(
                "stack '{stack}' was deployed with {flag} {r}: pass {flag} {r} (or leave it out), or run teardown before moving the stack to {g}"
            ),
            (Some(g), _) => Ok(Some(g.clone())),
            (None, r) => Ok(r.clone()),
        }
    };
    Ok(Overrides {
        site_bucket: pick("--site-bucket", &given.site_bucket, &remembered.site_bucket)?,
        images_bucket: pick(
            "--images-bucket",
            &given.images_bucket,
            &remembered.images_bucket,
        )?,
        role_arn: pick("--role-arn", &given.role_arn, &remembered.role_arn)?,
        website_origin: given.website_origin.clone(),
    })
}

/// Makes the function's remembered tags exactly `wanted`.
pub async fn write(
    aws: &Aws,
    function_arn: &str,
    wanted: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let stale: Vec<String> = KEYS
        .iter()
        .filter(|k| !wanted.contains_key(**k))
        .map(|k| (*k).to_owned())
        .collect();
    if !stale.is_empty() {
        aws.lambda
            .untag_resource()
            .resource(function_arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .or_fail(|| format!("untag function {function_arn}"))?;
    }
    if !wanted.is_empty() {
        let tags = wanted.clone().into_iter().collect();
        aws.lambda
            .tag_resource()
            .resource(function_arn)
            .set_tags(Some(tags))
            .send()
            .await
            .or_fail(|| format!("tag function {function_arn}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(images: Option<&str>, role: Option<&str>) -> Overrides {
        Overrides {
            site_bucket: None,
            images_bucket: images.map(str::to_owned),
            role_arn: role.map(str::to_owned),
            website_origin: None,
        }
    }

    #[test]
    fn remembered_values_fill_in_missing_flags_and_refuse_other_ones() {
        let remembered = overrides(Some("x"), Some("arn:aws:iam::1:role/r"));
        let merged = merge(&Overrides::default(), &remembered, "s").unwrap();
        assert_eq!(merged.images_bucket.as_deref(), Some("x"));
        assert_eq!(merged.role_arn, remembered.role_arn);
        assert!(merge(&overrides(Some("x"), None), &remembered, "s").is_ok());
        let err = merge(&overrides(Some("y"), None), &remembered, "s")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--images-bucket x") && err.contains("teardown"),
            "{err}"
        );
        let fresh = merge(&overrides(Some("y"), None), &Overrides::default(), "s").unwrap();
        assert_eq!(fresh.images_bucket.as_deref(), Some("y"));
    }

    #[test]
    fn tags_round_trip() {
        let given = overrides(Some("x"), None);
        let tags = tags_of(&given);
        assert_eq!(
            tags,
            BTreeMap::from([(IMAGES_BUCKET.to_owned(), "x".to_owned())])
        );
        let all: HashMap<String, String> = tags
            .clone()
            .into_iter()
            .chain([("catup:stack".to_owned(), "s".to_owned())])
            .collect();
        assert_eq!(among(&all), tags);
    }
}
