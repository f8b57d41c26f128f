//! `--follow`'s bookkeeping, pure: which events are new across polls that overlap, where the
//! next poll starts, and how long to wait before it.
//!
//! Each poll asks again for a window behind the newest event seen, because CloudWatch may
//! receive an event after later ones (another function instance's stream, a slow delivery).
//! Events already shown are recognised by their id, so each is shown once.

use std::collections::HashMap;
use std::time::Duration;

use super::event::LogEvent;

/// How far behind the newest event seen a poll looks again for late events.
pub const LATE_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Seen {
    /// Never start before this (the --since moment), in ms.
    floor: i64,
    window_ms: i64,
    newest: Option<i64>,
    /// Event id -> its timestamp (ms), for the events inside the window.
    ids: HashMap<String, i64>,
}

impl Seen {
    pub fn new(floor_ms: i64, window: Duration) -> Seen {
        Seen {
            floor: floor_ms,
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
            newest: None,
            ids: HashMap::new(),
        }
    }

    /// Where the next poll starts (ms since the epoch).
    pub fn start_millis(&self) -> i64 {
        match self.newest {
            Some(newest) => self.floor.max(newest.saturating_sub(self.window_ms)),
            None => self.floor,
        }
    }

    /// The events of one poll that were not shown before, in the poll's order; remembers
    /// them and forgets the ones that fell out of the window.
    pub fn fresh(&mut self, events: Vec<LogEvent>) -> Vec<LogEvent> {
        let mut fresh = Vec::new();
        for event in events {
            let millis = event.time.as_millisecond();
            // Without an id an event cannot be told apart from a repeat: key it by content.
            let key = event
                .id
                .clone()
                .unwrap_or_else(|| format!("{millis}:{:?}", event.line));
            if millis < self.start_millis() || self.ids.contains_key(&key) {
                continue;
            }
            self.ids.insert(key, millis);
            self.newest = Some(self.newest.map_or(millis, |n| n.max(millis)));
            fresh.push(event);
        }
        let start = self.start_millis();
        self.ids.retain(|_, millis| *millis >= start);
        fresh
    }

    pub fn remembered(&self) -> usize {
        self.ids.len()
    }
}

/// Waits between polls: short while events arrive, doubling while none do, up to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            min,
            max,
            current: min,
        }
    }

    /// The wait before the next poll, given whether the last one brought anything new.
    pub fn next(&mut self, got_events: bool) -> Duration {
        self.current = if got_events {
            self.min
        } else {
            (self.current * 2).min(self.max)
        };
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::event::Line;

    fn at(id: &str, millis: i64) -> LogEvent {
        LogEvent {
            function: None,
            time: jiff::Timestamp::from_millisecond(millis).unwrap(),
            stream: Some("s".into()),
            id: Some(id.into()),
            line: Line::Text { message: id.into() },
        }
    }

    fn ids(events: &[LogEvent]) -> Vec<&str> {
        events.iter().map(|e| e.id.as_deref().unwrap()).collect()
    }

    #[test]
    fn overlapping_polls_show_each_event_once() {
        let mut seen = Seen::new(1_000, Duration::from_secs(60));
        assert_eq!(seen.start_millis(), 1_000);
        let first = seen.fresh(vec![at("a", 100_000), at("b", 101_000)]);
        assert_eq!(ids(&first), ["a", "b"]);
        // The next poll starts a window behind the newest event and sees both again.
        assert_eq!(seen.start_millis(), 41_000);
        let second = seen.fresh(vec![at("a", 100_000), at("b", 101_000), at("c", 102_000)]);
        assert_eq!(ids(&second), ["c"]);
        // A late event inside the window is shown once, however often it comes back.
        let third = seen.fresh(vec![at("late", 90_000), at("c", 102_000)]);
        assert_eq!(ids(&third), ["late"]);
        assert!(seen.fresh(vec![at("late", 90_000)]).is_empty());
    }

    #[test]
    fn events_behind_the_window_are_forgotten_and_never_shown() {
        let mut seen = Seen::new(0, Duration::from_secs(60));
        seen.fresh(vec![at("old", 10_000)]);
        seen.fresh(vec![at("new", 200_000)]);
        assert_eq!(seen.start_millis(), 140_000);
        assert_eq!(seen.remembered(), 1, "only 'new' is inside the window");
        assert!(seen.fresh(vec![at("older", 100_000)]).is_empty());
    }

    #[test]
    fn the_window_never_starts_before_since() {
        let mut seen = Seen::new(95_000, Duration::from_secs(60));
        seen.fresh(vec![at("a", 100_000)]);
        assert_eq!(seen.start_millis(), 95_000);
    }

    #[test]
    fn backoff_doubles_while_idle_and_resets_on_events() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(5));
        let waits: Vec<u64> = [false, false, false, false, true, false]
            .map(|got| backoff.next(got).as_secs())
            .to_vec();
        assert_eq!(waits, [2, 4, 5, 5, 1, 2]);
    }
}
