//! The names given with --site-bucket, --images-bucket and --role-arn, remembered in the
//! function's tags: a later command without the flags acts on the same resources (instead of
//! pointing the function at a new, empty bucket), and one with other values is refused.

use std::collections::{BTreeMap, HashMap};

use anyhow::bail;

use crate::aws::{Aws, SdkResultExt};
use crate::resources::function::{MEMORY_MB_RANGE, TIMEOUT_SECONDS_RANGE};
use crate::stack::{
    validate_bucket_name, validate_images_bucket_name, DefaultBuckets, FromMemory, Overrides, Size,
    Sizes,
};

const SITE_BUCKET: &str = "catup:site-bucket";
const IMAGES_BUCKET: &str = "catup:images-bucket";
const ROLE_ARN: &str = "catup:role-arn";
/// IAM's id of the role the function's grant is for (the stack's own role): a role re-created
/// under its name has another id, and the grant must be renewed.
pub const ROLE_ID: &str = "catup:role-id";
/// The memory and timeout flags of both functions, remembered by the upload function.
const MEMORY: &str = "catup:memory";
const TIMEOUT: &str = "catup:timeout";
const THUMBS_MEMORY: &str = "catup:thumbs-memory";
const THUMBS_TIMEOUT: &str = "catup:thumbs-timeout";
/// Every tag this module writes.
pub const KEYS: [&str; 8] = [
    SITE_BUCKET,
    IMAGES_BUCKET,
    ROLE_ARN,
    ROLE_ID,
    MEMORY,
    TIMEOUT,
    THUMBS_MEMORY,
    THUMBS_TIMEOUT,
];

/// The tags that remember `overrides`.
pub fn tags_of(overrides: &Overrides) -> BTreeMap<String, String> {
    let given = [
        (SITE_BUCKET, &overrides.site_bucket),
        (IMAGES_BUCKET, &overrides.images_bucket),
        (ROLE_ARN, &overrides.role_arn),
    ];
    let sizes = &overrides.sizes;
    let numbers = [
        (MEMORY, sizes.upload.memory_mb),
        (TIMEOUT, sizes.upload.timeout_seconds),
        (THUMBS_MEMORY, sizes.thumbs.memory_mb),
        (THUMBS_TIMEOUT, sizes.thumbs.timeout_seconds),
    ];
    let names = given
        .into_iter()
        .filter_map(|(key, value)| value.as_deref().map(|v| (key.to_owned(), tag_value(v))));
    let numbers = numbers
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key.to_owned(), v.to_string())));
    names.chain(numbers).collect()
}

/// Lambda's tag values hold at most this many characters.
pub const MAX_TAG_VALUE: usize = 256;

/// `value` as a Lambda tag value, which may hold only letters, digits, spaces and
/// `_ . : / = + - @`: any other character (a `,` in a role's name) is written `=HH` per byte,
/// and `=` itself `=3D`, so that every IAM name round-trips.
pub fn tag_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c != '=' && (c.is_alphanumeric() || c == ' ' || "_.:/+-@".contains(c)) {
            out.push(c);
        } else {
            let mut bytes = [0; 4];
            for b in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&format!("={b:02X}"));
            }
        }
    }
    out
}

/// The value [`tag_value`] wrote; an `=` not followed by two hex digits stays as it is.
pub fn from_tag_value(tag: &str) -> String {
    let bytes = tag.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=')
            .then(|| tag.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| tag.to_owned())
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
    let value = |key: &str| tags.get(key).map(|v| from_tag_value(v));
    // A size someone edited into something Lambda would refuse is not remembered: the
    // default (or a flag) applies instead.
    let number = |key: &str, range: std::ops::RangeInclusive<i64>| {
        let n = tags.get(key).and_then(|v| v.parse::<i32>().ok());
        n.filter(|n| range.contains(&i64::from(*n)))
    };
    Overrides {
        site_bucket: value(SITE_BUCKET),
        images_bucket: value(IMAGES_BUCKET),
        role_arn: value(ROLE_ARN),
        sizes: Sizes {
            upload: Size {
                memory_mb: number(MEMORY, MEMORY_MB_RANGE),
                timeout_seconds: number(TIMEOUT, TIMEOUT_SECONDS_RANGE),
            },
            thumbs: Size {
                memory_mb: number(THUMBS_MEMORY, MEMORY_MB_RANGE),
                timeout_seconds: number(THUMBS_TIMEOUT, TIMEOUT_SECONDS_RANGE),
            },
        },
        ..Overrides::default()
    }
}

/// A remembered value catup cannot act on (its tag was changed by someone, or it no longer
/// fits these credentials), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    pub tag: &'static str,
    pub flag: &'static str,
    pub value: String,
    pub why: String,
}

impl Unusable {
    /// The one line a command stops with: the tag, what it points at, and the two ways out.
    pub fn message(&self, stack: &str, function_arn: &str) -> String {
        let Unusable {
            tag,
            flag,
            value,
            why,
        } = self;
        format!(
            "the function's tag {tag} names {value}, which {why}: catup does not act on it. \
             Replace it with the stack's own value (`catup deploy --stack {stack} {flag} VALUE`), \
             or clear it: {}",
            clear_command(function_arn, tag)
        )
    }

    /// What teardown says of a value it left alone.
    pub fn left_alone(&self) -> String {
        format!(
            "{} (named by the function's tag {}) {}: left alone",
            self.value, self.tag, self.why
        )
    }
}

/// The command that removes one remembered tag from the function.
pub fn clear_command(function_arn: &str, tag: &str) -> String {
    format!("aws lambda untag-resource --resource {function_arn} --tag-keys {tag}")
}

/// The remembered tag and flag of a bucket's name.
pub fn bucket_tag(
    role: crate::resource_support::bucket_role::BucketRole,
) -> (&'static str, &'static str) {
    match role {
        crate::resource_support::bucket_role::BucketRole::Site => (SITE_BUCKET, "--site-bucket"),
        crate::resource_support::bucket_role::BucketRole::Images => {
            (IMAGES_BUCKET, "--images-bucket")
        }
    }
}

/// Splits what the function remembers into the values catup may act on and the ones it may
/// not: a name S3 or IAM would refuse, a role of another account, a role the function does not
/// run with (the tag was edited: the function was deployed with its own role), or one bucket
/// for both site and images. Whether a remembered bucket is the stack's is checked on the
/// bucket itself (its tags), when it is read.
pub fn check(
    remembered: &Overrides,
    account_id: &str,
    function_role: Option<&str>,
    defaults: &DefaultBuckets,
) -> (Overrides, Vec<Unusable>) {
    let mut usable = remembered.clone();
    let mut unusable = Vec::new();
    let mut refuse = |tag, flag, value: &mut Option<String>, why: String| {
        if let Some(value) = value.take() {
            unusable.push(Unusable {
                tag,
                flag,
                value,
                why,
            });
        }
    };
    // The other bucket may have its default name: one remembered name is enough to clash.
    let site = usable.site_bucket.as_deref().unwrap_or(&defaults.site);
    let images = usable.images_bucket.as_deref().unwrap_or(&defaults.images);
    if site == images {
        let why =
            "would be both the site and the images bucket (the two buckets must differ)".to_owned();
        refuse(
            IMAGES_BUCKET,
            "--images-bucket",
            &mut usable.images_bucket,
            why.clone(),
        );
        refuse(SITE_BUCKET, "--site-bucket", &mut usable.site_bucket, why);
    }
    if let Some(Err(e)) = usable.site_bucket.as_deref().map(validate_bucket_name) {
        refuse(
            SITE_BUCKET,
            "--site-bucket",
            &mut usable.site_bucket,
            format!("is not a valid bucket name ({e})"),
        );
    }
    if let Some(Err(e)) = usable
        .images_bucket
        .as_deref()
        .map(validate_images_bucket_name)
    {
        refuse(
            IMAGES_BUCKET,
            "--images-bucket",
            &mut usable.images_bucket,
            format!("is not a valid images bucket name ({e})"),
        );
    }
    if let Some(arn) = usable.role_arn.clone() {
        let why = match crate::resources::role::given::parse_role_arn(&arn) {
            Err(_) => Some("is not a role ARN".to_owned()),
            Ok(account) if account != account_id => Some(format!(
                "is a role of account {account}, not of these credentials' account {account_id}"
            )),
            Ok(_) if function_role != Some(arn.as_str()) => Some(format!(
                "is not the role the function runs with ({})",
                function_role.unwrap_or("none")
            )),
            Ok(_) => None,
        };
        if let Some(why) = why {
            refuse(ROLE_ARN, "--role-arn", &mut usable.role_arn, why);
        }
    }
    (usable, unusable)
}

/// The flags given, completed with the usable remembered values. A flag that differs from a
/// usable remembered value is refused (the stack's data lives where it was deployed); a flag
/// given for an unusable one replaces it. Returns the unusable values no flag replaced.
pub fn merge(
    given: &Overrides,
    usable: &Overrides,
    unusable: Vec<Unusable>,
    stack: &str,
) -> anyhow::Result<(Overrides, Vec<Unusable>)> {
    let pick = |flag: &str, given: &Option<String>, remembered: &Option<String>| {
        match (given, remembered) {
            (Some(g), Some(r)) if g != r => bail!(
                "stack '{stack}' was deployed with {flag} {r}: pass {flag} {r} (or leave it out), or run teardown before moving the stack to {g}"
            ),
            (Some(g), _) => Ok((Some(g.clone()), false)),
            (None, r) => Ok((r.clone(), r.is_some())),
        }
    };
    let (site_bucket, site_mem) = pick("--site-bucket", &given.site_bucket, &usable.site_bucket)?;
    let (images_bucket, images_mem) = pick(
        "--images-bucket",
        &given.images_bucket,
        &usable.images_bucket,
    )?;
    let (role_arn, role_mem) = pick("--role-arn", &given.role_arn, &usable.role_arn)?;
    let merged = Overrides {
        site_bucket,
        images_bucket,
        role_arn,
        website_origin: given.website_origin.clone(),
        keep_days: given.keep_days,
        max_images: given.max_images,
        concurrency: given.concurrency,
        budget: given.budget.clone(),
        thumbnails: given.thumbnails,
        // A new size replaces the remembered one.
        sizes: Sizes {
            upload: given.sizes.upload.or(usable.sizes.upload),
            thumbs: given.sizes.thumbs.or(usable.sizes.thumbs),
        },
        from_memory: FromMemory {
            site_bucket: site_mem,
            images_bucket: images_mem,
            role_arn: role_mem,
        },
    };
    let replaced = |u: &Unusable| match u.tag {
        SITE_BUCKET => given.site_bucket.is_some(),
        IMAGES_BUCKET => given.images_bucket.is_some(),
        _ => given.role_arn.is_some(),
    };
    let left = unusable.into_iter().filter(|u| !replaced(u)).collect();
    Ok((merged, left))
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

    const ROLE: &str = "arn:aws:iam::111111111111:role/r";

    fn overrides(images: Option<&str>, role: Option<&str>) -> Overrides {
        Overrides {
            images_bucket: images.map(str::to_owned),
            role_arn: role.map(str::to_owned),
            ..Overrides::default()
        }
    }

    #[test]
    fn remembered_values_fill_in_missing_flags_and_refuse_other_ones() {
        let remembered = overrides(Some("x-bucket"), Some(ROLE));
        let (merged, left) = merge(&Overrides::default(), &remembered, vec![], "s").unwrap();
        assert!(left.is_empty());
        assert_eq!(merged.images_bucket.as_deref(), Some("x-bucket"));
        assert_eq!(merged.role_arn, remembered.role_arn);
        assert!(merged.from_memory.images_bucket && merged.from_memory.role_arn);
        assert!(!merged.from_memory.site_bucket);
        let (same, _) =
            merge(&overrides(Some("x-bucket"), None), &remembered, vec![], "s").unwrap();
        assert!(!same.from_memory.images_bucket, "given in this command");
        let err = merge(&overrides(Some("y-bucket"), None), &remembered, vec![], "s")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--images-bucket x-bucket") && err.contains("teardown"),
            "{err}"
        );
        let (fresh, _) = merge(
            &overrides(Some("y-bucket"), None),
            &Overrides::default(),
            vec![],
            "s",
        )
        .unwrap();
        assert_eq!(fresh.images_bucket.as_deref(), Some("y-bucket"));
    }

    #[test]
    fn unusable_values_are_set_apart_and_a_flag_replaces_them() {
        let cases: [(Overrides, Option<&str>, &str); 7] = [
            (overrides(None, Some(ROLE)), Some(ROLE), ""),
            (
                overrides(None, Some("arn:aws:iam::222222222222:role/r")),
                Some(ROLE),
                "account 222222222222",
            ),
            (
                overrides(None, Some("not-an-arn")),
                Some(ROLE),
                "not a role ARN",
            ),
            (
                overrides(None, Some(ROLE)),
                Some("arn:aws:iam::111111111111:role/own"),
                "not the role the function runs with",
            ),
            (
                // The images tag edited to the site bucket's default name.
                overrides(Some("s-site-111111111111-us-east-1"), None),
                None,
                "must differ",
            ),
            (
                overrides(Some("Bad_Name"), None),
                None,
                "not a valid images bucket name",
            ),
            (
                Overrides {
                    site_bucket: Some("same-bucket".into()),
                    ..overrides(Some("same-bucket"), None)
                },
                None,
                "must differ",
            ),
        ];
        for (remembered, function_role, why) in cases {
            let defaults = DefaultBuckets {
                site: "s-site-111111111111-us-east-1".into(),
                images: "s-images-111111111111-us-east-1".into(),
            };
            let (usable, unusable) = check(&remembered, "111111111111", function_role, &defaults);
            if why.is_empty() {
                assert!(unusable.is_empty(), "{unusable:?}");
                assert_eq!(usable, remembered);
                continue;
            }
            assert!(
                !unusable.is_empty() && unusable.iter().all(|u| u.why.contains(why)),
                "{why}: {unusable:?}"
            );
            let message = unusable[0].message("s", "arn:aws:lambda:r:1:function:s-api");
            assert!(
                message.contains(unusable[0].tag)
                    && message.contains(&unusable[0].value)
                    && message.contains("untag-resource"),
                "{message}"
            );
            // No flag: the value is left over; the flag for it: replaced, no refusal.
            let (merged, left) =
                merge(&Overrides::default(), &usable, unusable.clone(), "s").unwrap();
            assert_eq!(left.len(), unusable.len());
            assert_eq!(merged.role_arn, usable.role_arn);
            let given = Overrides {
                site_bucket: Some("given-site".into()),
                images_bucket: Some("given-images".into()),
                role_arn: Some(ROLE.into()),
                ..Overrides::default()
            };
            let (merged, left) = merge(&given, &usable, unusable, "s").unwrap();
            assert!(left.is_empty(), "{left:?}");
            assert_eq!(merged.role_arn.as_deref(), Some(ROLE));
        }
    }

    #[test]
    fn any_iam_name_round_trips_through_a_lambda_tag_value() {
        let allowed = |c: char| c.is_alphanumeric() || " _.:/=+-@".contains(c);
        for arn in [
            "arn:aws:iam::123456789012:role/LabRole",
            "arn:aws:iam::123456789012:role/path/lab,role",
            "arn:aws:iam::123456789012:role/a=3Db,c",
        ] {
            let tag = tag_value(arn);
            assert!(tag.chars().all(allowed), "{tag}");
            assert_eq!(from_tag_value(&tag), arn);
        }
        assert_eq!(tag_value("lab,role"), "lab=2Crole");
        assert_eq!(from_tag_value("plain=zz"), "plain=zz");
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
