//! An independent SigV4 check of S3 presigned URLs, written from AWS's documentation
//! ("Signature Version 4 signing process" and "Authenticating Requests: Using Query
//! Parameters (AWS Signature Version 4)" for S3), not from catup's presigner: moto does not
//! verify signatures, so the tests recompute them here.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// SigV4's UriEncode: unreserved characters stay, everything else is %XX (upper-case hex);
/// `/` stays in paths only.
fn uri_encode(value: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn percent_decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .expect("UTF-8 after decoding")
        .into_owned()
}

/// A presigned URL taken apart: decoded query parameters in URL order.
pub struct Presigned {
    host: String,
    /// Decoded path (`/bucket/key` in path style).
    pub path: String,
    params: Vec<(String, String)>,
}

impl Presigned {
    pub fn parse(url: &str) -> Presigned {
        let uri: http::Uri = url
            .parse()
            .unwrap_or_else(|e| panic!("not a URL ({e}): {url}"));
        let query = uri.query().unwrap_or_else(|| panic!("no query: {url}"));
        Presigned {
            host: uri.authority().expect("host").as_str().to_owned(),
            path: percent_decode(uri.path()),
            params: query
                .split('&')
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        }
    }

    /// The one value of query parameter `name`; panics when it is missing or repeated.
    #[track_caller]
    pub fn param(&self, name: &str) -> &str {
        let found: Vec<&str> = self
            .params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        match found.as_slice() {
            [one] => one,
            other => panic!("{name} appears {} times", other.len()),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.params.iter().any(|(k, _)| k == name)
    }

    pub fn signed_headers(&self) -> BTreeSet<&str> {
        self.param("X-Amz-SignedHeaders").split(';').collect()
    }

    /// The signature SigV4 gives this URL for `method`, when the client sends `headers`
    /// (lower-case names; `host` is the URL's), signed for `region`/s3 with `secret`. The
    /// date comes from X-Amz-Date; the credential scope is rebuilt, not copied from the URL.
    pub fn expected_signature(
        &self,
        method: &str,
        headers: &[(&str, &str)],
        secret: &str,
        region: &str,
    ) -> String {
        let date_time = self.param("X-Amz-Date");
        let date = &date_time[..8];
        let scope = format!("{date}/{region}/s3/aws4_request");

        let mut query: Vec<(String, String)> = self
            .params
            .iter()
            .filter(|(k, _)| k != "X-Amz-Signature")
            .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
            .collect();
        query.sort();
        let canonical_query = query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");

        let signed = self.param("X-Amz-SignedHeaders");
        let mut canonical_headers = String::new();
        for name in signed.split(';') {
            let value = if name == "host" {
                self.host.as_str()
            } else {
                headers
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| *v)
                    .unwrap_or_else(|| {
                        panic!("the URL signs {name}, which the client does not send")
                    })
            };
            let _ = writeln!(canonical_headers, "{name}:{}", value.trim());
        }

        let canonical_request = format!(
            "{method}\n{}\n{canonical_query}\n{canonical_headers}\n{signed}\nUNSIGNED-PAYLOAD",
            uri_encode(&self.path, true)
        );
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical_request.as_bytes()))
        );
        let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
        let k_region = hmac_sha256(&k_date, region.as_bytes());
        let k_service = hmac_sha256(&k_region, b"s3");
        let k_signing = hmac_sha256(&k_service, b"aws4_request");
        hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()))
    }

    /// The same URL with one parameter's value replaced (the signature kept).
    pub fn with_param(&self, name: &str, value: &str) -> Presigned {
        Presigned {
            host: self.host.clone(),
            path: self.path.clone(),
            params: self
                .params
                .iter()
                .map(|(k, v)| {
                    let v = if k == name { value } else { v };
                    (k.clone(), v.to_owned())
                })
                .collect(),
        }
    }
}

/// Seconds since the epoch of an X-Amz-Date (`20130524T000000Z`).
pub fn amz_date_unix(value: &str) -> i64 {
    let b = value.as_bytes();
    assert!(
        b.len() == 16 && b[8] == b'T' && b[15] == b'Z',
        "X-Amz-Date {value:?}"
    );
    let num = |range: std::ops::Range<usize>| -> u32 { value[range].parse().unwrap() };
    let date = time::Date::from_calendar_date(
        num(0..4) as i32,
        time::Month::try_from(num(4..6) as u8).unwrap(),
        num(6..8) as u8,
    )
    .unwrap();
    let clock =
        time::Time::from_hms(num(9..11) as u8, num(11..13) as u8, num(13..15) as u8).unwrap();
    time::PrimitiveDateTime::new(date, clock)
        .assume_utc()
        .unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checker reproduces AWS's documented presigned GET and RFC 4231's HMACs.
    #[test]
    fn independent_sigv4_reproduces_aws_documented_example() {
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        let url = Presigned::parse(
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        );
        assert_eq!(
            url.expected_signature(
                "GET",
                &[],
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "us-east-1"
            ),
            url.param("X-Amz-Signature")
        );
        assert_eq!(amz_date_unix("20130524T000000Z"), 1_369_353_600);
    }
}
