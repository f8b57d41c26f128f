//! The package against Lambda's size limits, checked before deploy changes anything: it
//! would otherwise fail only after buckets, log group and role were created. (The role given
//! with --role-arn is checked by `resources::role::given`.)

use anyhow::ensure;

use crate::package::Package;

/// Lambda's limit on a CreateFunction / UpdateFunctionCode request, which carries the zip
/// base64-encoded in JSON ("Request must be smaller than 69905067 bytes"): a zip of exactly
/// 50 MiB is already over it.
pub const MAX_REQUEST_BYTES: usize = 69_905_067;
/// The request's other fields (names, role, environment, tags), generously.
const REQUEST_FIELDS_BYTES: usize = 4096;
/// The largest zip whose request stays under [`MAX_REQUEST_BYTES`].
pub const MAX_ZIPPED_BYTES: usize = (MAX_REQUEST_BYTES - REQUEST_FIELDS_BYTES - 1) / 4 * 3;
/// Lambda's limit on the unzipped code ("Unzipped size must be smaller than 262144000 bytes").
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;

const MB: f64 = 1024.0 * 1024.0;

/// The unzipped binary against Lambda's limit: known before anything is zipped or called.
pub fn check_unzipped_size(bytes: u64) -> anyhow::Result<()> {
    ensure!(
        bytes < MAX_UNZIPPED_BYTES,
        "the bootstrap is {:.1} MB, over Lambda's 250 MB limit for unzipped code: build it with the lambda profile (opt-level s, LTO, stripped)",
        bytes as f64 / MB
    );
    Ok(())
}

/// The zip against Lambda's limit for a direct upload.
pub fn check_zipped_size(package: &Package) -> anyhow::Result<()> {
    check_zipped_bytes(package.zipped_bytes)
}

fn check_zipped_bytes(zipped_bytes: u64) -> anyhow::Result<()> {
    ensure!(
        zipped_bytes as usize <= MAX_ZIPPED_BYTES,
        "the zipped bootstrap is {:.2} MB, over what Lambda takes in a direct upload ({:.2} MB: its {MAX_REQUEST_BYTES}-byte request limit counts the zip base64-encoded): build it with the lambda profile (opt-level s, LTO, stripped)",
        zipped_bytes as f64 / MB,
        MAX_ZIPPED_BYTES as f64 / MB
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_is_measured_as_lambda_does_base64_encoded() {
        let base64 = |n: usize| n.div_ceil(3) * 4;
        assert!(base64(MAX_ZIPPED_BYTES) + REQUEST_FIELDS_BYTES < MAX_REQUEST_BYTES);
        assert!(check_zipped_bytes(MAX_ZIPPED_BYTES as u64).is_ok());
        // Exactly 50 MiB: 69,905,068 bytes encoded, which AWS answers with 413.
        let fifty_mib = 50 * 1024 * 1024;
        assert!(base64(fifty_mib) >= MAX_REQUEST_BYTES);
        let err = check_zipped_bytes(fifty_mib as u64)
            .unwrap_err()
            .to_string();
        assert!(err.contains("69905067") && err.contains("base64"), "{err}");
    }

    #[test]
    fn sizes_against_lambda_s_limits() {
        assert!(check_unzipped_size(MAX_UNZIPPED_BYTES - 1).is_ok());
        let err = check_unzipped_size(MAX_UNZIPPED_BYTES)
            .unwrap_err()
            .to_string();
        assert!(err.contains("250 MB"), "{err}");
    }
}
