//! One page of a bucket's object versions and delete markers, listed with
//! `encoding-type=url` and decoded (see `cat_upload_fn::listed_key`): a key with any
//! character, uploaded by anyone, never breaks teardown's read or its emptying, and each
//! entry names the key itself, so that it is the key that gets deleted.

use anyhow::Context;
use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput;
use cat_upload_fn::listed_key;

use crate::aws::{Aws, SdkResultExt};

/// One object version or delete marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub version_id: Option<String>,
}

/// Where a listing goes on from: S3's key and version markers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markers {
    pub key: Option<String>,
    pub version_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub versions: Vec<Entry>,
    pub delete_markers: Vec<Entry>,
    /// The markers of the next page, when S3 says there is one.
    pub next: Option<Markers>,
}

/// At most `max_keys` entries after `from`; `None` when the bucket is gone.
pub async fn list(
    aws: &Aws,
    bucket: &str,
    max_keys: i32,
    from: Markers,
) -> anyhow::Result<Option<Page>> {
    let doing = || format!("list bucket {bucket}");
    let page = aws
        .s3
        .list_object_versions()
        .bucket(bucket)
        .max_keys(max_keys)
        .set_key_marker(from.key)
        .set_version_id_marker(from.version_id)
        .encoding_type(listed_key::LISTING_ENCODING)
        .send()
        .await
        .or_absent(doing)?;
    page.map(|page| decoded(&page).with_context(doing))
        .transpose()
}

fn decoded(page: &ListObjectVersionsOutput) -> Result<Page, listed_key::UndecodableKey> {
    let encoding = page.encoding_type();
    let entries = |listed: Vec<(Option<&str>, Option<&str>)>| {
        listed
            .into_iter()
            .filter_map(|(key, version_id)| Some((key?, version_id)))
            .map(|(key, version_id)| {
                Ok(Entry {
                    key: listed_key::decode(encoding, key)?,
                    version_id: version_id.map(str::to_owned),
                })
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
    let markers = page
        .delete_markers()
        .iter()
        .map(|m| (m.key(), m.version_id()));
    // S3 encodes NextKeyMarker like the keys; the next request sends it as the key it is.
    let next = match (page.is_truncated(), page.next_key_marker()) {
        (Some(true), Some(key)) => Some(Markers {
            key: Some(listed_key::decode(encoding, key)?),
            version_id: page.next_version_id_marker().map(str::to_owned),
        }),
        _ => None,
    };
    Ok(Page {
        versions: entries(versions.collect())?,
        delete_markers: entries(markers.collect())?,
        next,
    })
}
