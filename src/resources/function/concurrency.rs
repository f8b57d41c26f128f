//! The function's reserved concurrency: none unless the user caps it (`--concurrency N`,
//! which also caps what the function can cost per second); a reserved concurrency of 0 (the
//! function disabled) is drift that deploy removes. AWS keeps 10 of an account's concurrent
//! executions unreserved, and new accounts have 10 in all: a reservation that does not fit is
//! refused before deploy changes anything.

use anyhow::bail;

use crate::aws::{Aws, SdkResultExt};

/// What `--concurrency` asks of the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reservation {
    /// No flag: the function keeps the reservation it has.
    #[default]
    AsItIs,
    Reserve(i32),
    /// `--concurrency 0`: no reservation.
    Unreserved,
}

impl Reservation {
    pub fn from_flag(flag: Option<u32>) -> Reservation {
        match flag {
            None => Reservation::AsItIs,
            Some(0) => Reservation::Unreserved,
            Some(n) => Reservation::Reserve(i32::try_from(n).unwrap_or(i32::MAX)),
        }
    }

    /// Whether the function's reservation differs from what is asked (0 is drift apart).
    pub fn differs(self, actual: Option<i32>) -> bool {
        match self {
            Reservation::AsItIs => false,
            Reservation::Reserve(n) => actual != Some(n),
            Reservation::Unreserved => actual.is_some_and(|r| r > 0),
        }
    }
}

/// Concurrent executions AWS keeps unreserved in every account and region.
pub const KEPT_UNRESERVED: i32 = 10;

/// Refuses a reservation of `wanted` where the account cannot give it: of the `unreserved`
/// executions (which do not count the function's own `current` reservation), 10 must stay.
pub fn check_room(
    wanted: i32,
    total: i32,
    unreserved: i32,
    current: Option<i32>,
) -> anyhow::Result<()> {
    let room = unreserved + current.unwrap_or(0) - KEPT_UNRESERVED;
    if wanted > room {
        bail!(
            "--concurrency {wanted} does not fit this account's Lambda quota: {total} concurrent executions in this region, {unreserved} unreserved, and AWS keeps {KEPT_UNRESERVED} unreserved, so at most {} can be reserved here; pass a smaller --concurrency, or ask AWS for more (Service Quotas: AWS Lambda, \"Concurrent executions\")",
            room.max(0)
        );
    }
    Ok(())
}

/// The account's concurrent executions in this region: (in all, unreserved).
pub async fn account_room(aws: &Aws) -> anyhow::Result<(i32, i32)> {
    let out = aws
        .lambda
        .get_account_settings()
        .send()
        .await
        .or_fail(|| "read the account's Lambda settings (its concurrency quota)".to_owned())?;
    let limit = out.account_limit();
    let total = limit.map_or(0, |l| l.concurrent_executions());
    let unreserved = limit
        .and_then(|l| l.unreserved_concurrent_executions())
        .unwrap_or(total);
    Ok((total, unreserved))
}

/// Reserves `n` concurrent executions for the function.
pub async fn reserve(aws: &Aws, function: &str, n: i32) -> anyhow::Result<()> {
    aws.lambda
        .put_function_concurrency()
        .function_name(function)
        .reserved_concurrent_executions(n)
        .send()
        .await
        .or_fail(|| format!("reserve {n} concurrent executions for function {function}"))?;
    Ok(())
}

/// The function's reserved concurrency, if any (0 means the function is disabled).
pub async fn reserved_concurrency(aws: &Aws, function: &str) -> anyhow::Result<Option<i32>> {
    let out = aws
        .lambda
        .get_function_concurrency()
        .function_name(function)
        .send()
        .await
        .or_absent(|| format!("read reserved concurrency of function {function}"))?;
    Ok(out.and_then(|o| o.reserved_concurrent_executions))
}

/// Lets the function run again: removes a reserved concurrency of 0.
pub async fn remove_zero_concurrency(aws: &Aws, function: &str) -> anyhow::Result<()> {
    aws.lambda
        .delete_function_concurrency()
        .function_name(function)
        .send()
        .await
        .or_absent(|| format!("remove the reserved concurrency of function {function}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_executions_always_stay_unreserved() {
        // A new account: 10 in all, none of them reservable.
        let err = check_room(1, 10, 10, None).unwrap_err().to_string();
        assert!(
            err.contains("at most 0 can be reserved") && err.contains("Service Quotas"),
            "{err}"
        );
        assert!(check_room(990, 1000, 1000, None).is_ok());
        assert!(check_room(991, 1000, 1000, None).is_err());
        // The function's own reservation is given back before the new one is taken.
        assert!(check_room(20, 1000, 10, Some(10)).is_err());
        assert!(check_room(10, 1000, 10, Some(10)).is_ok());
    }

    #[test]
    fn the_flag_reserves_keeps_or_removes() {
        assert!(!Reservation::AsItIs.differs(Some(5)));
        assert!(Reservation::Reserve(5).differs(None));
        assert!(!Reservation::Reserve(5).differs(Some(5)));
        assert!(Reservation::Unreserved.differs(Some(5)));
        assert!(!Reservation::Unreserved.differs(None));
        assert_eq!(Reservation::from_flag(Some(0)), Reservation::Unreserved);
    }
}
