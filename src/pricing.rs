//! What a stack costs a month, estimated from what it holds and how much it was used.
//!
//! Prices are AWS's public on-demand list prices (aws.amazon.com/s3/pricing,
//! /lambda/pricing, /cloudwatch/pricing) as written down on 2026-12-06 from their
//! long-standing published values, not re-read from those pages that day (the machine they
//! were written on has no web access), in USD,
//! without the free tier: S3 Standard storage (first 50 TB tier), S3 PUT and GET requests,
//! Lambda requests and x86 GB-seconds, CloudWatch Logs standard ingestion and storage. A
//! region not in the table is estimated at us-east-1's prices. Re-check them against those
//! pages when this date is old: AWS changes them rarely, but it does.

use serde::Serialize;

/// The date the table was read; shown by `list` and the README.
pub const PRICES_AS_OF: &str = "2026-12-06";

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    pub s3_gb_month: f64,
    pub s3_put_per_1000: f64,
    pub s3_get_per_1000: f64,
    pub lambda_per_million: f64,
    pub lambda_gb_second: f64,
    pub logs_ingest_gb: f64,
    pub logs_stored_gb_month: f64,
}

const US_EAST_1: Prices = Prices {
    s3_gb_month: 0.023,
    s3_put_per_1000: 0.005,
    s3_get_per_1000: 0.0004,
    lambda_per_million: 0.20,
    lambda_gb_second: 0.000_016_666_7,
    logs_ingest_gb: 0.50,
    logs_stored_gb_month: 0.03,
};

/// Where a region's prices differ from us-east-1's: (region, S3 storage per GB-month, Logs
/// ingestion per GB).
const REGIONAL: &[(&str, f64, f64)] = &[
    ("us-west-1", 0.026, 0.50),
    ("eu-west-1", 0.023, 0.57),
    ("eu-west-2", 0.024, 0.57),
    ("eu-west-3", 0.024, 0.57),
    ("eu-central-1", 0.0245, 0.63),
    ("ap-northeast-1", 0.025, 0.76),
    ("ap-southeast-1", 0.025, 0.70),
    ("ap-southeast-2", 0.025, 0.70),
    ("ap-south-1", 0.025, 0.50),
    ("ca-central-1", 0.025, 0.55),
    ("sa-east-1", 0.0405, 0.90),
];

impl Prices {
    pub fn of(region: &str) -> Prices {
        match REGIONAL.iter().find(|(r, ..)| *r == region) {
            Some((_, storage, ingest)) => Prices {
                s3_gb_month: *storage,
                logs_ingest_gb: *ingest,
                ..US_EAST_1
            },
            None => US_EAST_1,
        }
    }
}

/// What the estimate counts, all read from the stack itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Bytes of images stored (S3 Standard).
    pub image_bytes: u64,
    /// Images uploaded in the last 30 days: the month's rate of uploads.
    pub uploads_last_30_days: u64,
    /// Bytes the log group stores.
    pub log_bytes: u64,
}

/// One upload: a POST to the function (which presigns), a PUT to S3, and the gallery's GET
/// of the new image; the function runs ~100 ms at 128 MB and logs ~1 KB.
const GB_SECONDS_PER_INVOCATION: f64 = 0.128 * 0.1;
const LOG_BYTES_PER_INVOCATION: f64 = 1024.0;
const GB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The estimated monthly cost in USD.
pub fn monthly_usd(usage: &Usage, prices: &Prices) -> f64 {
    let uploads = usage.uploads_last_30_days as f64;
    let storage = usage.image_bytes as f64 / GB * prices.s3_gb_month
        + usage.log_bytes as f64 / GB * prices.logs_stored_gb_month;
    let requests = uploads / 1000.0 * (prices.s3_put_per_1000 + prices.s3_get_per_1000)
        + uploads / 1_000_000.0 * prices.lambda_per_million
        + uploads * GB_SECONDS_PER_INVOCATION * prices.lambda_gb_second
        + uploads * LOG_BYTES_PER_INVOCATION / GB * prices.logs_ingest_gb;
    storage + requests
}

/// Dollars as a person reads them: cents, or "< $0.01" for what is not nothing.
pub fn dollars(usd: f64) -> String {
    if usd > 0.0 && usd < 0.005 {
        "< $0.01".to_owned()
    } else {
        format!("${usd:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_in_the_table_differ_and_others_are_priced_as_us_east_1() {
        assert_eq!(Prices::of("us-east-1"), US_EAST_1);
        assert_eq!(Prices::of("eu-south-7"), US_EAST_1);
        assert_eq!(Prices::of("sa-east-1").s3_gb_month, 0.0405);
        assert_eq!(Prices::of("sa-east-1").lambda_per_million, 0.20);
        for (region, ..) in REGIONAL {
            assert!(crate::region::KNOWN.contains(region), "{region}");
        }
    }

    #[test]
    fn an_idle_empty_stack_costs_nothing_and_storage_is_priced_per_gb_month() {
        assert_eq!(monthly_usd(&Usage::default(), &US_EAST_1), 0.0);
        let ten_gb = Usage {
            image_bytes: 10 * GB as u64,
            ..Usage::default()
        };
        assert!((monthly_usd(&ten_gb, &US_EAST_1) - 0.23).abs() < 1e-9);
        let thousand_uploads = Usage {
            uploads_last_30_days: 1000,
            ..Usage::default()
        };
        let cost = monthly_usd(&thousand_uploads, &US_EAST_1);
        // 0.0054 for S3's requests, 0.0002 Lambda requests, 0.0002 GB-s, 0.0005 logs.
        assert!(cost > 0.0054 && cost < 0.007, "{cost}");
    }

    #[test]
    fn dollars_say_cents_or_less_than_a_cent() {
        assert_eq!(dollars(0.0), "$0.00");
        assert_eq!(dollars(0.001), "< $0.01");
        assert_eq!(dollars(1.234), "$1.23");
    }
}
