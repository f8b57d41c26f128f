//! Pacing: FilterLogEvents allows 5 calls a second per account and region (a hard quota,
//! shared with everyone else reading logs there), so catup's calls start at least a quarter
//! of a second apart, pages and `--follow`'s polls alike. Pure: the caller sleeps.

use std::time::{Duration, Instant};

/// Four calls a second: under the quota, with room for a console tab open beside.
pub const FILTER_LOG_EVENTS_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy)]
pub struct Pace {
    interval: Duration,
    next: Option<Instant>,
}

impl Pace {
    pub fn new(interval: Duration) -> Pace {
        Pace {
            interval,
            next: None,
        }
    }

    /// When the next call may start, given that it is `now`; books that moment.
    pub fn slot(&mut self, now: Instant) -> Instant {
        let at = self.next.map_or(now, |next| next.max(now));
        self.next = Some(at + self.interval);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_start_an_interval_apart_and_a_late_call_waits_for_none() {
        let mut pace = Pace::new(Duration::from_millis(250));
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        assert_eq!(pace.slot(t0), t0);
        // Back to back: each waits for its quarter second.
        assert_eq!(pace.slot(ms(1)), ms(250));
        assert_eq!(pace.slot(ms(2)), ms(500));
        // After a pause longer than the interval: at once.
        assert_eq!(pace.slot(ms(2_000)), ms(2_000));
        assert_eq!(pace.slot(ms(2_100)), ms(2_250));
    }
}
