//! The website's objects: every file of the frontend folder with its Content-Type, and the
//! generated config.js that points the page at the Function URL. An object is uploaded only
//! when its MD5 differs from the ETag S3 has. Each file's bytes are the ones read and checked
//! when the folder was loaded (never read again from disk); they are uploaded a fixed number
//! at a time, so that open connections do not grow with the site.

use std::collections::HashMap;

use anyhow::{bail, Context};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectIdentifier;
use bytes::Bytes;
use cat_upload_fn::listed_key;
use md5::{Digest, Md5};

use crate::aws::{Aws, SdkResultExt};
use crate::reconcile::Change;
use crate::reconcile::Kind;
use crate::resource::{Applying, Deleting, Need, Planning, Reading, Resource};
use crate::stack::Stack;
use crate::stack_resources::Found;
use crate::stack_resources::Observed;
use crate::teardown_plan::Step;

pub const CONFIG_JS: &str = "config.js";

/// How many site files are uploaded at once unless CATUP_UPLOAD_CONCURRENCY says otherwise.
pub const DEFAULT_UPLOAD_LIMIT: usize = 16;
const UPLOAD_LIMIT_VAR: &str = "CATUP_UPLOAD_CONCURRENCY";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    pub key: String,
    /// What is uploaded, and what the MD5 is of: fixed when the file was checked.
    pub body: Bytes,
    pub content_type: &'static str,
    pub cache_control: Option<&'static str>,
    /// What S3 reports as the ETag of a single-part SSE-S3 upload: the body's MD5 in hex.
    pub md5_hex: String,
}

impl SiteFile {
    pub fn new(
        key: String,
        body: impl Into<Bytes>,
        cache_control: Option<&'static str>,
    ) -> SiteFile {
        let body = body.into();
        let md5_hex = hex::encode(Md5::digest(&body));
        SiteFile {
            content_type: content_type(&key),
            key,
            body,
            cache_control,
            md5_hex,
        }
    }
}

/// The Content-Type browsers need for each kind of static file.
pub fn content_type(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// The page, its script and its styles are revalidated on every load (`no-cache`), like
/// config.js: a browser must never pair a stale app.js with a fresh config.js. Images and
/// other assets keep the browser's default caching.
pub fn cache_control(key: &str) -> Option<&'static str> {
    let ext = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(ext.as_deref(), Some("html" | "htm" | "js" | "mjs" | "css")).then_some("no-cache")
}

/// `window.CAT_UPLOAD_CONFIG = { apiBaseUrl: "<url>" };`, never cached, so that a redeploy's
/// new URL reaches every browser at once.
pub fn config_js(function_url: &str) -> SiteFile {
    let quoted = serde_json::Value::from(function_url).to_string();
    let body = format!("window.CAT_UPLOAD_CONFIG = {{ apiBaseUrl: {quoted} }};\n");
    SiteFile::new(CONFIG_JS.to_owned(), body.into_bytes(), Some("no-cache"))
}

/// Key -> ETag (quotes removed) of every object in the bucket; empty when the bucket is gone.
pub async fn describe(aws: &Aws, bucket: &str) -> anyhow::Result<HashMap<String, String>> {
    let mut etags = HashMap::new();
    let mut token = None;
    loop {
        let page = aws
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token)
            .encoding_type(listed_key::LISTING_ENCODING)
            .send()
            .await
            .or_absent(|| format!("list site bucket {bucket}"))?;
        let Some(page) = page else { return Ok(etags) };
        for object in page.contents() {
            if let (Some(key), Some(etag)) = (object.key(), object.e_tag()) {
                let key = listed_key::decode(page.encoding_type(), key)
                    .with_context(|| format!("list site bucket {bucket}"))?;
                etags.insert(key, etag.trim_matches('"').to_owned());
            }
        }
        match page.next_continuation_token {
            Some(next) if page.is_truncated == Some(true) => token = Some(next),
            _ => return Ok(etags),
        }
    }
}

/// The files whose content S3 does not have yet.
pub fn stale<'a>(files: &'a [SiteFile], etags: &HashMap<String, String>) -> Vec<&'a SiteFile> {
    files
        .iter()
        .filter(|f| etags.get(&f.key) != Some(&f.md5_hex))
        .collect()
}

/// One object deploy changes: a file to upload, or an object the frontend folder no longer
/// has (as `aws s3 sync --delete` removes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aspect {
    Upload(String),
    Delete(String),
}

impl std::fmt::Display for Aspect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Aspect::Upload(key) => f.write_str(key),
            Aspect::Delete(key) => write!(f, "delete {}", shown(key)),
        }
    }
}

/// A key as a line shows it: anyone with write access may name an object with control
/// characters (a terminal's escape sequences among them), which are shown escaped, never raw.
fn shown(key: &str) -> String {
    key.chars()
        .map(|c| match c.is_control() {
            true => c.escape_default().to_string(),
            false => c.to_string(),
        })
        .collect()
}

/// The site's objects to upload and to delete, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Sync {
    pub upload: Vec<String>,
    pub delete: Vec<String>,
    /// Nothing of the site is there yet: the change is a create.
    #[serde(skip)]
    first: bool,
}

impl Sync {
    pub fn change(&self) -> Change<Aspect> {
        if self.first {
            return Change::Create;
        }
        let uploads = self.upload.iter().cloned().map(Aspect::Upload);
        let deletes = self.delete.iter().cloned().map(Aspect::Delete);
        Change::from_differences(uploads.chain(deletes).collect())
    }
}

/// What the site's objects need. `files` is what should be there; with `complete`, it is the
/// whole site, and any other object (but config.js, written once the Function URL is known)
/// is to be deleted. `config_pending`: config.js is to be written but its URL is not known yet.
pub fn sync(
    files: &[SiteFile],
    etags: &HashMap<String, String>,
    complete: bool,
    config_pending: bool,
) -> Sync {
    let delete = match complete {
        true => removed(files, etags),
        false => Vec::new(),
    };
    let present = files.iter().any(|f| etags.contains_key(&f.key))
        || (config_pending && etags.contains_key(CONFIG_JS));
    let mut upload: Vec<String> = stale(files, etags).iter().map(|f| f.key.clone()).collect();
    if config_pending {
        upload.push(CONFIG_JS.to_owned());
    }
    Sync {
        first: !present && delete.is_empty(),
        upload,
        delete,
    }
}

/// [`sync`] as a change of the site's objects.
pub fn diff(
    files: &[SiteFile],
    etags: &HashMap<String, String>,
    complete: bool,
    config_pending: bool,
) -> Change<Aspect> {
    sync(files, etags, complete, config_pending).change()
}

/// The objects the site no longer has: every key not among `files`, but config.js.
pub fn removed(files: &[SiteFile], etags: &HashMap<String, String>) -> Vec<String> {
    let wanted: std::collections::HashSet<&str> = files.iter().map(|f| f.key.as_str()).collect();
    let mut keys: Vec<String> = etags
        .keys()
        .filter(|k| k.as_str() != CONFIG_JS && !wanted.contains(k.as_str()))
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// Deletes `keys` from the site bucket, a thousand per call (S3's limit).
pub async fn delete(aws: &Aws, bucket: &str, keys: &[String]) -> anyhow::Result<()> {
    for batch in keys.chunks(1000) {
        let objects = batch
            .iter()
            .map(|key| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()?;
        let doing = "delete removed site files from bucket";
        crate::resource_support::bucket::delete_batch(&aws.s3, bucket, objects, doing).await?;
    }
    Ok(())
}

/// How many files to upload at once: CATUP_UPLOAD_CONCURRENCY (1 to 256), or 16 (also when
/// empty). Checked with the other local inputs, before any AWS call, by deploy and plan.
pub fn upload_limit() -> anyhow::Result<usize> {
    match std::env::var(UPLOAD_LIMIT_VAR) {
        // Empty is unset, as with the AWS variables.
        Err(_) => Ok(DEFAULT_UPLOAD_LIMIT),
        Ok(value) if value.trim().is_empty() => Ok(DEFAULT_UPLOAD_LIMIT),
        Ok(value) => match value.trim().parse::<usize>() {
            Ok(n) if (1..=256).contains(&n) => Ok(n),
            _ => bail!("{UPLOAD_LIMIT_VAR}={value} is not a number from 1 to 256: unset it (16 files are uploaded at once) or fix it"),
        },
    }
}

/// Uploads `files`, at most `limit` at a time; the first failure stops the rest and names
/// its file (the SDK has retried it by its retry policy first).
pub async fn upload(
    aws: &Aws,
    bucket: &str,
    files: Vec<&SiteFile>,
    limit: usize,
) -> anyhow::Result<()> {
    let mut waiting = files.into_iter();
    let mut uploads = tokio::task::JoinSet::new();
    loop {
        while uploads.len() < limit.max(1) {
            let Some(file) = waiting.next() else { break };
            let (s3, bucket, file) = (aws.s3.clone(), bucket.to_owned(), file.clone());
            uploads.spawn(async move { put(&s3, &bucket, &file).await });
        }
        match uploads.join_next().await {
            Some(done) => done.context("upload task")??,
            None => return Ok(()),
        }
    }
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, file: &SiteFile) -> anyhow::Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(&file.key)
        .body(ByteStream::from(file.body.clone()))
        .content_type(file.content_type)
        .set_cache_control(file.cache_control.map(str::to_owned))
        // A large file on a slow uplink gets the time to send it, not the flat call limit.
        .customize()
        .config_override(
            aws_sdk_s3::config::Builder::default()
                .timeout_config(crate::aws::upload_timeouts(file.body.len())),
        )
        .send()
        .await
        .or_fail(|| format!("upload {} to bucket {bucket}", file.key))?;
    Ok(())
}

/// The site's objects: the frontend's files and config.js.
pub struct SiteFiles;

impl Resource for SiteFiles {
    const KIND: Kind = Kind::SiteFiles;
    /// config.js holds the Function URL; removed files go once everything new is up.
    const NEEDS: &'static [Need] = &[
        Need::Ready(Kind::SiteBucket),
        Need::Ready(Kind::FunctionUrl),
    ];
    type Desired = ();
    /// Key -> ETag.
    type Actual = HashMap<String, String>;
    type Aspect = Aspect;

    fn desired(_: &Stack) -> anyhow::Result<()> {
        Ok(())
    }

    async fn describe(read: &Reading<'_>) -> anyhow::Result<Option<HashMap<String, String>>> {
        Ok(Some(describe(read.aws, &read.stack.site_bucket).await?))
    }

    fn diff(plan: &Planning<'_>) -> Change<Aspect> {
        planned_sync(plan).change()
    }

    fn name(stack: &Stack, _: &Observed) -> String {
        format!("{}/", stack.site_bucket)
    }

    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        let (bucket, etags) = (&a.stack.site_bucket, a.observed.site_etags());
        let url = a.address(Kind::FunctionUrl).unwrap_or_default();
        let config = config_js(a.site_api_url.unwrap_or(&url));
        let mut files = stale(a.frontend, &etags);
        files.extend(stale(std::slice::from_ref(&config), &etags));
        upload(a.aws, bucket, files, upload_limit()?).await?;
        delete(a.aws, bucket, &a.site_sync.delete).await
    }

    /// How many files the site has now.
    fn applied_name(a: &Applying<'_>) -> String {
        format!("{} files", a.frontend.len() + 1)
    }

    type Found = ();

    async fn find(_: &Reading<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    /// Deleted with the site bucket, which teardown empties.
    fn teardown_steps(_: &Stack, _: &Found) -> anyhow::Result<Vec<Step>> {
        Ok(Vec::new())
    }

    async fn delete(
        _: &Deleting<'_>,
        _: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The site's sync as planned: config.js is known unless the Function URL is created now.
pub fn planned_sync(plan: &Planning<'_>) -> Sync {
    let url = plan.observed.url.as_ref().map(|u| u.url.as_str());
    let config = plan.site.api_url.or(url).map(config_js);
    let mut files = plan.site.files.to_vec();
    let config_pending = config.is_none();
    files.extend(config);
    let etags = plan.observed.site_etags();
    sync(&files, &etags, plan.site.complete, config_pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_text(file: &SiteFile) -> String {
        String::from_utf8(file.body.to_vec()).unwrap()
    }

    #[test]
    fn config_js_is_the_lecture_s_line_with_the_url_quoted() {
        let f = config_js("https://abc.lambda-url.us-east-1.on.aws/");
        assert_eq!(
            body_text(&f),
            "window.CAT_UPLOAD_CONFIG = { apiBaseUrl: \"https://abc.lambda-url.us-east-1.on.aws/\" };\n"
        );
        assert_eq!(f.cache_control, Some("no-cache"));
        assert_eq!(f.content_type, "text/javascript; charset=utf-8");
        let odd = config_js("http://x/\"</script>");
        assert!(body_text(&odd).contains(r#""http://x/\"</script>""#));
    }

    #[test]
    fn the_page_its_script_and_styles_are_never_cached_stale() {
        for key in ["index.html", "app.js", "styles.css", "sub/page.HTM"] {
            assert_eq!(cache_control(key), Some("no-cache"), "{key}");
        }
        for key in ["img/cat.png", "favicon.ico", "LICENSE"] {
            assert_eq!(cache_control(key), None, "{key}");
        }
    }

    #[test]
    fn content_types_by_extension() {
        for (key, ct) in [
            ("index.html", "text/html; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("styles.css", "text/css; charset=utf-8"),
            ("img/cat.PNG", "image/png"),
            ("a.jpeg", "image/jpeg"),
            ("icon.svg", "image/svg+xml"),
            ("LICENSE", "application/octet-stream"),
        ] {
            assert_eq!(content_type(key), ct, "{key}");
        }
    }

    #[test]
    fn md5_matches_s3_etag_of_a_known_body() {
        // S3's ETag for the 3-byte object "abc" (RFC 1321 test vector).
        let f = SiteFile::new("a.txt".into(), b"abc".to_vec(), None);
        assert_eq!(f.md5_hex, "900150983cd24fb0d6963f7d28e17f72");
    }

    fn two_files() -> (Vec<SiteFile>, HashMap<String, String>) {
        let files = vec![
            SiteFile::new("index.html".into(), b"<html>".to_vec(), None),
            SiteFile::new("app.js".into(), b"js".to_vec(), None),
        ];
        let etags = files
            .iter()
            .map(|f| (f.key.clone(), f.md5_hex.clone()))
            .collect();
        (files, etags)
    }

    #[test]
    fn diff_uploads_only_what_differs() {
        let (files, mut etags) = two_files();
        assert_eq!(diff(&files, &HashMap::new(), true, false), Change::Create);
        assert_eq!(diff(&files, &etags, true, false), Change::InSync);
        etags.insert("app.js".into(), "0".repeat(32));
        assert_eq!(
            diff(&files, &etags, true, false),
            Change::Update(vec![Aspect::Upload("app.js".into())])
        );
        assert_eq!(stale(&files, &etags).len(), 1);
        assert_eq!(
            diff(&files, &etags, true, true),
            Change::Update(vec![
                Aspect::Upload("app.js".into()),
                Aspect::Upload(CONFIG_JS.into())
            ])
        );
    }

    #[test]
    fn diff_deletes_what_the_folder_no_longer_has_but_config_js() {
        let (files, mut etags) = two_files();
        etags.insert("old.png".into(), "1".repeat(32));
        etags.insert(CONFIG_JS.into(), "2".repeat(32));
        assert_eq!(removed(&files, &etags), vec!["old.png".to_owned()]);
        let change = diff(&files, &etags, true, false);
        assert_eq!(
            change,
            Change::Update(vec![Aspect::Delete("old.png".into())])
        );
        assert_eq!(change.outcome().detail().as_deref(), Some("delete old.png"));
        let odd = Aspect::Delete("a\u{1b}[2Jb\u{1}.txt".into());
        assert_eq!(odd.to_string(), "delete a\\u{1b}[2Jb\\u{1}.txt");
        // Not the whole site (status without --frontend): nothing is taken for removed.
        assert_eq!(diff(&files, &etags, false, false), Change::InSync);
    }
}
