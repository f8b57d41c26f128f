//! A stack: its validated name and everything derived from it. Names are deterministic (stack,
//! account, region), so catup needs no state file: every command finds the same resources.

use thiserror::Error;

use crate::policies::PolicyValues;
use crate::region::Region;

/// The tag every taggable resource carries; teardown deletes nothing without it.
pub const STACK_TAG: &str = "catup:stack";
/// The tag that says what a bucket is for: `site` or `images` (a bucket never changes role).
pub const ROLE_TAG: &str = "catup:role";
pub const DEFAULT_STACK: &str = "cat-upload";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum NameError {
    #[error(
        "invalid stack name '{0}': use 3 to 24 lower-case letters, digits and '-', starting with a letter and not ending with '-'"
    )]
    Stack(String),
    /// The stack name begins every bucket name: S3's reserved prefixes are refused as the
    /// stack name's fault, not the derived bucket's.
    #[error("invalid stack name '{name}': S3 reserves names {reserved}, and every bucket name starts with the stack's; choose another stack name")]
    ReservedStack {
        name: String,
        reserved: &'static str,
    },
    #[error("invalid bucket name '{name}': {reason} (S3 bucket naming rules)")]
    Bucket { name: String, reason: &'static str },
    #[error("--images-bucket '{0}' has dots: browsers refuse the presigned HTTPS upload URLs of such a bucket (S3's *.s3.<region>.amazonaws.com certificate does not match {0}.s3...); use '-' instead of '.'")]
    DottedImagesBucket(String),
}

/// A stack name that every derived resource name accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackName(String);

impl StackName {
    pub fn parse(name: &str) -> Result<StackName, NameError> {
        let valid_chars = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let valid = (3..=24).contains(&name.len())
            && valid_chars
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && !name.ends_with('-');
        if !valid {
            return Err(NameError::Stack(name.to_owned()));
        }
        let reserved = |reserved| {
            Err(NameError::ReservedStack {
                name: name.to_owned(),
                reserved,
            })
        };
        if RESERVED_PREFIXES.iter().any(|p| name.starts_with(p)) {
            return reserved("starting with xn--, sthree- or amzn-s3-demo-");
        }
        // A custom bucket name may start with the stack's, so its suffixes are refused too.
        if RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s)) {
            return reserved("ending with -s3alias, --ol-s3, --x-s3 or --table-s3");
        }
        Ok(StackName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What S3 reserves at the start and end of bucket names.
const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// Checks a bucket name against S3's general purpose bucket naming rules.
pub fn validate_bucket_name(name: &str) -> Result<(), NameError> {
    let fail = |reason| {
        Err(NameError::Bucket {
            name: name.to_owned(),
            reason,
        })
    };
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return fail("must be 3 to 63 characters long");
    }
    if !bytes
        .iter()
        .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return fail("only lower-case letters, digits, '.' and '-' are allowed");
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return fail("must begin and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return fail("no '..', '.-' or '-.'");
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return fail("must not look like an IP address");
    }
    if RESERVED_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return fail("reserved prefix (xn--, sthree-, amzn-s3-demo-)");
    }
    if RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return fail("reserved suffix (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3)");
    }
    Ok(())
}

/// The images bucket is reached by browsers through virtual-hosted presigned HTTPS URLs: a
/// name with dots breaks S3's wildcard certificate there.
pub fn validate_images_bucket_name(name: &str) -> Result<(), NameError> {
    validate_bucket_name(name)?;
    if name.contains('.') {
        return Err(NameError::DottedImagesBucket(name.to_owned()));
    }
    Ok(())
}

/// Names given on the command line instead of the derived ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub site_bucket: Option<String>,
    pub images_bucket: Option<String>,
    /// An existing role for the function (lab accounts cannot create roles); catup then
    /// creates and deletes no role.
    pub role_arn: Option<String>,
    /// Where the site is really served from when not from S3's website endpoint (`catup dev`
    /// serves it on localhost); the CORS configurations allow this origin instead. Never
    /// remembered: it is this machine's.
    pub website_origin: Option<String>,
    /// `--keep-days`: how long uploads are kept (0: for ever; none: as the bucket's rule
    /// says). Not in the tags: the bucket's lifecycle rule itself remembers it.
    pub keep_days: Option<u32>,
    /// `--max-images`: the most images the gallery takes (0: no cap; none: as the function
    /// has it). Not in the tags: the function's MAX_IMAGES remembers it.
    pub max_images: Option<u32>,
    /// `--concurrency`: the function's reserved concurrency (0: none; none: as it is). The
    /// function's reservation remembers it.
    pub concurrency: Option<u32>,
    /// `--budget-usd` / `--budget-email`: the monthly cost budget (as it is without them).
    /// The budget itself remembers them.
    pub budget: crate::resources::budget::Wanted,
    /// `--thumbnails` / `--no-thumbnails` (none: as the stack has it). The upload function's
    /// THUMBNAILS=1 remembers it.
    pub thumbnails: Option<bool>,
    /// `--memory` / `--timeout` and `--thumbs-memory` / `--thumbs-timeout` (none: as the
    /// function has it). Each function's configuration remembers them.
    pub sizes: Sizes,
    /// Which names came only from the function's tags, not from this command's flags: a
    /// remembered name is a pointer, and what it points at must prove it is the stack's.
    pub from_memory: FromMemory,
}

/// The memory and timeout flags of both functions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sizes {
    pub upload: Size,
    pub thumbs: Size,
}

/// One function's memory (MB) and timeout (s) flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    pub memory_mb: Option<i32>,
    pub timeout_seconds: Option<i32>,
}

impl Size {
    /// Each value of `self`, else of `other`.
    pub fn or(self, other: Size) -> Size {
        Size {
            memory_mb: self.memory_mb.or(other.memory_mb),
            timeout_seconds: self.timeout_seconds.or(other.timeout_seconds),
        }
    }
}

/// The overrides that were read back from the function's tags (no flag given for them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FromMemory {
    pub site_bucket: bool,
    pub images_bucket: bool,
    pub role_arn: bool,
}

/// Every name and setting of one deployed stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub name: StackName,
    pub region: Region,
    pub account_id: String,
    pub site_bucket: String,
    pub images_bucket: String,
    pub function_name: String,
    /// `None` when the role is the caller's (`--role-arn`). IAM is global, so the name holds
    /// the region: one stack name in two regions never shares a role.
    pub role_name: Option<String>,
    /// The region-less name roles had before (`<stack>-api-role`), shared by every region:
    /// deploy moves the function off it, teardown deletes it where its policy is this region's.
    pub legacy_role_name: Option<String>,
    pub role_arn: String,
    pub log_group: String,
    /// The thumbnail function's names: `<stack>-thumbs`, its log group, and its own role
    /// (`None` with `--role-arn`: both functions run with that one).
    pub thumbs: ThumbsNames,
    /// The names used instead of the derived ones (given, or remembered by the function).
    pub overrides: Overrides,
}

/// The names of the thumbnail function and what is its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThumbsNames {
    pub function_name: String,
    pub log_group: String,
    pub role_name: Option<String>,
    pub role_arn: String,
}

impl ThumbsNames {
    fn of(
        name: &StackName,
        region: &Region,
        account_id: &str,
        given_role: bool,
        role_arn: &str,
    ) -> ThumbsNames {
        let function_name = format!("{}-thumbs", name.as_str());
        let own_role = format!("{function_name}-{region}-role");
        let (role_name, role_arn) = if given_role {
            (None, role_arn.to_owned())
        } else {
            let arn = format!("arn:aws:iam::{account_id}:role/{own_role}");
            (Some(own_role), arn)
        };
        ThumbsNames {
            log_group: format!("/aws/lambda/{function_name}"),
            function_name,
            role_name,
            role_arn,
        }
    }
}

/// The buckets' names when no flag or memory names them.
pub struct DefaultBuckets {
    pub site: String,
    pub images: String,
}

impl DefaultBuckets {
    pub fn of(name: &StackName, region: &Region, account_id: &str) -> DefaultBuckets {
        let derived = |kind: &str| format!("{}-{kind}-{account_id}-{region}", name.as_str());
        DefaultBuckets {
            site: derived("site"),
            images: derived("images"),
        }
    }
}

/// Whether `arn` is the role `name` of `account` (IAM role names are unique in an account,
/// whatever their path).
fn names_role(arn: &str, account: &str, name: &str) -> bool {
    let of_account = crate::resources::role::given::parse_role_arn(arn).is_ok_and(|a| a == account);
    of_account && arn.rsplit('/').next() == Some(name)
}

impl Stack {
    pub fn new(
        name: StackName,
        region: Region,
        account_id: &str,
        overrides: &Overrides,
    ) -> Result<Stack, NameError> {
        let derived = DefaultBuckets::of(&name, &region, account_id);
        let site_bucket = overrides.site_bucket.clone().unwrap_or(derived.site);
        let images_bucket = overrides.images_bucket.clone().unwrap_or(derived.images);
        validate_bucket_name(&site_bucket)?;
        validate_images_bucket_name(&images_bucket)?;
        if site_bucket == images_bucket {
            return Err(NameError::Bucket {
                name: site_bucket,
                reason: "the site and images buckets must differ",
            });
        }
        let function_name = Stack::function_name_of(&name);
        let own_role = format!("{function_name}-{region}-role");
        let (role_name, role_arn) = match &overrides.role_arn {
            // The stack's own role named as an outside one (a flag, or an edited tag) is
            // still the stack's: owned, and deleted with it.
            Some(arn) if !names_role(arn, account_id, &own_role) => (None, arn.clone()),
            _ => {
                let arn = format!("arn:aws:iam::{account_id}:role/{own_role}");
                (Some(own_role), arn)
            }
        };
        let legacy_role_name = role_name.as_ref().map(|_| format!("{function_name}-role"));
        let thumbs = ThumbsNames::of(&name, &region, account_id, role_name.is_none(), &role_arn);
        Ok(Stack {
            thumbs,
            log_group: format!("/aws/lambda/{function_name}"),
            name,
            region,
            account_id: account_id.to_owned(),
            site_bucket,
            images_bucket,
            function_name,
            role_name,
            legacy_role_name,
            role_arn,
            overrides: overrides.clone(),
        })
    }

    /// `<stack>-api`: known before anything else is, so that commands can read what the
    /// function remembers.
    pub fn function_name_of(name: &StackName) -> String {
        format!("{}-api", name.as_str())
    }

    /// The function's ARN (catup's regions are all in the `aws` partition).
    /// The log group's ARN (without ":*"), as its tags are addressed.
    pub fn log_group_arn(&self) -> String {
        format!(
            "arn:aws:logs:{}:{}:log-group:{}",
            self.region, self.account_id, self.log_group
        )
    }

    pub fn function_arn(&self) -> String {
        Stack::function_arn_of(&self.region, &self.account_id, &self.function_name)
    }

    pub fn function_arn_of(region: &Region, account_id: &str, function: &str) -> String {
        format!("arn:aws:lambda:{region}:{account_id}:function:{function}")
    }

    /// The thumbnail function's ARN.
    pub fn thumbs_function_arn(&self) -> String {
        Stack::function_arn_of(&self.region, &self.account_id, &self.thumbs.function_name)
    }

    /// The thumbnail function's log group's ARN (without ":*").
    pub fn thumbs_log_group_arn(&self) -> String {
        format!(
            "arn:aws:logs:{}:{}:log-group:{}",
            self.region, self.account_id, self.thumbs.log_group
        )
    }

    pub fn tag_value(&self) -> &str {
        self.name.as_str()
    }

    /// `http://<site bucket website host>`: the exact origin browsers send, no trailing slash.
    pub fn site_origin(&self) -> String {
        match &self.overrides.website_origin {
            Some(origin) => origin.clone(),
            None => format!("http://{}", self.region.website_host(&self.site_bucket)),
        }
    }

    pub fn website_url(&self) -> String {
        format!("{}/", self.site_origin())
    }

    pub fn policy_values(&self) -> PolicyValues {
        PolicyValues {
            images_bucket: self.images_bucket.clone(),
            site_bucket: self.site_bucket.clone(),
            site_origin: self.site_origin(),
            region: self.region.to_string(),
            account_id: self.account_id.clone(),
            log_group: self.log_group.clone(),
        }
    }
}

#[cfg(test)]
impl Stack {
    /// Stack "cats" of account 123456789012 in `region`, for the resources' table tests.
    pub fn example(region: &str) -> Stack {
        Stack::new(
            StackName::parse("cats").unwrap(),
            Region::parse(region).unwrap(),
            "123456789012",
            &Overrides::default(),
        )
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(name: &str, region: &str, overrides: &Overrides) -> Result<Stack, NameError> {
        Stack::new(
            StackName::parse(name).unwrap(),
            Region::parse(region).unwrap(),
            "123456789012",
            overrides,
        )
    }

    #[test]
    fn the_stack_s_own_role_given_as_an_arn_stays_the_stack_s() {
        let own = "arn:aws:iam::123456789012:role/cats-api-eu-west-1-role";
        let with_path = "arn:aws:iam::123456789012:role/lab/cats-api-eu-west-1-role";
        for arn in [own, with_path] {
            let overrides = Overrides {
                role_arn: Some(arn.to_owned()),
                ..Overrides::default()
            };
            let s = stack("cats", "eu-west-1", &overrides).unwrap();
            assert_eq!(
                s.role_name.as_deref(),
                Some("cats-api-eu-west-1-role"),
                "{arn}"
            );
            assert_eq!(s.role_arn, own);
        }
        for outside in [
            "arn:aws:iam::123456789012:role/LabRole",
            "arn:aws:iam::210987654321:role/cats-api-eu-west-1-role",
            "arn:aws:iam::123456789012:role/cats-api-us-east-1-role",
        ] {
            let overrides = Overrides {
                role_arn: Some(outside.to_owned()),
                ..Overrides::default()
            };
            let s = stack("cats", "eu-west-1", &overrides).unwrap();
            assert_eq!(s.role_name, None, "{outside}");
            assert_eq!(s.role_arn, outside);
        }
    }

    #[test]
    fn dotted_images_bucket_is_refused_dotted_site_bucket_is_not() {
        let err = validate_images_bucket_name("my.cats").unwrap_err();
        assert_eq!(err, NameError::DottedImagesBucket("my.cats".into()));
        assert!(validate_images_bucket_name("my-cats").is_ok());
        assert!(validate_bucket_name("my.cats").is_ok());
        assert!(matches!(
            validate_images_bucket_name("My.cats"),
            Err(NameError::Bucket { .. })
        ));
    }

    #[test]
    fn default_names_match_the_lecture_and_the_issue() {
        let s = stack("cat-upload", "eu-central-1", &Overrides::default()).unwrap();
        assert_eq!(s.function_name, "cat-upload-api");
        assert_eq!(
            s.role_name.as_deref(),
            Some("cat-upload-api-eu-central-1-role")
        );
        assert_eq!(
            s.role_arn,
            "arn:aws:iam::123456789012:role/cat-upload-api-eu-central-1-role"
        );
        assert_eq!(s.legacy_role_name.as_deref(), Some("cat-upload-api-role"));
        assert_eq!(s.log_group, "/aws/lambda/cat-upload-api");
        assert_eq!(s.site_bucket, "cat-upload-site-123456789012-eu-central-1");
        assert_eq!(
            s.images_bucket,
            "cat-upload-images-123456789012-eu-central-1"
        );
        assert_eq!(
            s.site_origin(),
            "http://cat-upload-site-123456789012-eu-central-1.s3-website.eu-central-1.amazonaws.com"
        );
        assert_eq!(s.website_url(), format!("{}/", s.site_origin()));
        let values = s.policy_values();
        assert_eq!(values.site_origin, s.site_origin());
        assert_eq!(values.log_group, s.log_group);
    }

    #[test]
    fn longest_stack_in_longest_region_still_gives_valid_bucket_names() {
        let s = stack(&"a".repeat(24), "ap-southeast-7", &Overrides::default()).unwrap();
        assert!(s.images_bucket.len() <= 63, "{}", s.images_bucket);
        let role = s.role_name.unwrap();
        assert!(
            role.len() <= 64,
            "IAM role names have at most 64 characters: {role}"
        );
    }

    #[test]
    fn role_arn_override_means_no_role_of_ours() {
        let arn = "arn:aws:iam::123456789012:role/LabRole";
        let overrides = Overrides {
            role_arn: Some(arn.into()),
            ..Overrides::default()
        };
        let s = stack("lab", "us-east-1", &overrides).unwrap();
        assert_eq!(s.role_name, None);
        assert_eq!(s.legacy_role_name, None);
        assert_eq!(s.role_arn, arn);
    }

    #[test]
    fn bucket_overrides_are_used_and_validated() {
        let overrides = Overrides {
            site_bucket: Some("my-site".into()),
            images_bucket: Some("my-images".into()),
            ..Overrides::default()
        };
        let s = stack("cats", "us-east-1", &overrides).unwrap();
        assert_eq!(
            (s.site_bucket.as_str(), s.images_bucket.as_str()),
            ("my-site", "my-images")
        );

        let same = Overrides {
            site_bucket: Some("same-name".into()),
            images_bucket: Some("same-name".into()),
            ..Overrides::default()
        };
        assert!(stack("cats", "us-east-1", &same).is_err());
        let bad = Overrides {
            images_bucket: Some("Bad_Bucket".into()),
            ..Overrides::default()
        };
        assert!(matches!(
            stack("cats", "us-east-1", &bad),
            Err(NameError::Bucket { .. })
        ));
    }

    #[test]
    fn stack_names() {
        for good in ["cat-upload", "abc", "a1-b2", &"x".repeat(24)] {
            assert!(StackName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ab",
            "Cat-Upload",
            "cat_upload",
            "cat..upload",
            "cat.upload",
            "-cat",
            "cat-",
            "1cat",
            "cat upload",
            "caté",
            &"x".repeat(25),
        ] {
            let err = StackName::parse(bad).unwrap_err();
            assert!(err.to_string().contains("3 to 24"), "{bad}: {err}");
        }
    }

    #[test]
    fn stack_names_with_s3_s_reserved_prefixes_or_suffixes_are_stack_name_errors() {
        for (bad, why) in [
            ("xn--cats", "starting with xn--"),
            ("sthree-cats", "sthree-"),
            ("amzn-s3-demo-cats", "amzn-s3-demo-"),
            ("cats-s3alias", "ending with -s3alias"),
            ("cats--ol-s3", "--ol-s3"),
            ("cats--x-s3", "--x-s3"),
            ("cats--table-s3", "--table-s3"),
        ] {
            let err = StackName::parse(bad).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("invalid stack name '{bad}'")) && err.contains(why),
                "{bad}: {err}"
            );
        }
        for good in ["xn-cats", "cats-xn--a", "sthree", "my-s3alias-cats"] {
            assert!(StackName::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn bucket_names() {
        for good in ["abc", "my.site.bucket", "a-b-c", "1bucket", &"b".repeat(63)] {
            assert!(validate_bucket_name(good).is_ok(), "{good}");
        }
        let bad = [
            ("ab", "3 to 63"),
            (&"b".repeat(64) as &str, "3 to 63"),
            ("My-Bucket", "lower-case"),
            ("under_score", "lower-case"),
            ("-leading", "begin and end"),
            ("trailing-", "begin and end"),
            ("two..dots", "'..'"),
            ("dot.-dash", "'..'"),
            ("192.168.5.4", "IP address"),
            ("xn--bucket", "prefix"),
            ("sthree-bucket", "prefix"),
            ("bucket-s3alias", "suffix"),
            ("bucket--ol-s3", "suffix"),
        ];
        for (name, why) in bad {
            let err = validate_bucket_name(name).unwrap_err().to_string();
            assert!(err.contains(why) && err.contains(name), "{name}: {err}");
        }
    }
}
