//! `--since`: a duration back from now (`30s`, `10m`, `1h`, `2d`, `1w`) or a moment in RFC 3339
//! (`2026-11-24T10:00:00Z`, any offset). Pure.

use std::time::Duration;

use jiff::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Ago(Duration),
    At(Timestamp),
}

impl Since {
    /// The default: the last ten minutes.
    pub const DEFAULT: Since = Since::Ago(Duration::from_secs(600));

    /// For clap's `value_parser`: the error is the whole explanation.
    pub fn parse(text: &str) -> Result<Since, String> {
        let text = text.trim();
        if let Ok(at) = text.parse::<Timestamp>() {
            return Ok(Since::At(at));
        }
        ago(text).map(Since::Ago).ok_or_else(|| {
            format!(
                "'{text}' is neither a duration nor a time: use 30s, 10m, 1h, 2d, 1w or a time like 2026-11-24T10:00:00Z"
            )
        })
    }

    /// The first moment to show, in milliseconds since the epoch (CloudWatch's unit). A moment
    /// before 1970 (`99999999999w`, a date in 1900) is read as "from the beginning": 0, as
    /// CloudWatch refuses a negative startTime.
    pub fn start_millis(self, now: Timestamp) -> i64 {
        let millis = match self {
            Since::At(at) => at.as_millisecond(),
            Since::Ago(ago) => now
                .as_millisecond()
                .saturating_sub(i64::try_from(ago.as_millis()).unwrap_or(i64::MAX)),
        };
        millis.max(0)
    }
}

fn ago(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    number.checked_mul(seconds).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times() {
        let now: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        let cases = [
            ("30s", "2026-11-24T09:59:30Z"),
            ("10m", "2026-11-24T09:50:00Z"),
            ("1h", "2026-11-24T09:00:00Z"),
            ("2d", "2026-11-22T10:00:00Z"),
            ("1w", "2026-11-17T10:00:00Z"),
            ("2026-11-24T08:15:00Z", "2026-11-24T08:15:00Z"),
            ("2026-11-24T10:15:00+05:30", "2026-11-24T04:45:00Z"),
        ];
        for (text, expected) in cases {
            let expected: Timestamp = expected.parse().unwrap();
            assert_eq!(
                Since::parse(text).unwrap().start_millis(now),
                expected.as_millisecond(),
                "{text}"
            );
        }
        assert_eq!(
            Since::DEFAULT.start_millis(now),
            now.as_millisecond() - 600_000
        );
    }

    #[test]
    fn moments_before_1970_are_read_as_from_the_beginning() {
        let now: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        for text in [
            "99999999999w",
            "18446744073709551615s",
            "1900-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(Since::parse(text).unwrap().start_millis(now), 0, "{text}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_the_accepted_forms() {
        for bad in [
            "",
            "10",
            "m",
            "10 minutes",
            "-5m",
            "1.5h",
            "2026-11-24",
            "99999999999999999999s",
        ] {
            let error = Since::parse(bad).unwrap_err();
            assert!(error.contains("use 30s, 10m, 1h"), "{bad}: {error}");
        }
    }
}
