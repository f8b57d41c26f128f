//! CORS on the site bucket: catup sets none (pages are same-origin), and rules someone added
//! are drift that deploy removes.

use crate::aws::SdkResultExt;
use crate::resource_support::bucket::Changing;

/// How many CORS rules the bucket has (the site bucket needs none: pages are same-origin).
pub async fn cors_rule_count(aws: &crate::aws::Aws, bucket: &str) -> anyhow::Result<usize> {
    let out = aws
        .s3
        .get_bucket_cors()
        .bucket(bucket)
        .send()
        .await
        .or_absent(|| format!("read CORS of bucket {bucket}"))?;
    Ok(out.map(|o| o.cors_rules().len()).unwrap_or(0))
}

pub async fn remove_cors(target: &Changing<'_>) -> anyhow::Result<()> {
    let (s3, bucket) = (&target.aws.s3, target.name);
    target
        .call(|| s3.delete_bucket_cors().bucket(bucket).send())
        .await
        .or_absent(|| format!("remove the CORS rules of bucket {bucket}"))?;
    Ok(())
}
