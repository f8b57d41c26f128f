//! Calls in a row: of the calls a proxy saw (each from its arrival to its answer), the
//! longest chain in which every call started only after the one before it was answered. That
//! is a command's critical path in round trips, whatever ran beside it: over a network each
//! of these calls adds one round trip to the wall time, and calls side by side add one.

use std::time::SystemTime;

/// One call as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub start: SystemTime,
    pub end: SystemTime,
    /// What the call was ("s3 GET /bucket?tagging", "iam GetRole").
    pub call: String,
}

/// The longest chain of calls that did not overlap, each starting after the previous ended.
pub fn calls_in_a_row(spans: &[Span]) -> usize {
    let mut by_start: Vec<&Span> = spans.iter().collect();
    by_start.sort_by_key(|s| s.start);
    // chain[i]: the longest chain that ends with call i.
    let mut chain = vec![0usize; by_start.len()];
    for i in 0..by_start.len() {
        let before = (0..i)
            .filter(|&j| by_start[j].end <= by_start[i].start)
            .map(|j| chain[j])
            .max()
            .unwrap_or(0);
        chain[i] = before + 1;
    }
    chain.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn span(start_ms: u64, end_ms: u64) -> Span {
        let at = |ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
        Span {
            start: at(start_ms),
            end: at(end_ms),
            call: String::new(),
        }
    }

    #[test]
    fn side_by_side_calls_count_once_and_calls_after_each_other_each() {
        assert_eq!(calls_in_a_row(&[]), 0);
        // Three reads at once, then a create after them, then two updates at once.
        let spans = [
            span(0, 40),
            span(1, 42),
            span(2, 45),
            span(46, 90),
            span(91, 130),
            span(92, 140),
        ];
        assert_eq!(calls_in_a_row(&spans), 3);
        // A long call beside a chain of short ones: the chain is the critical path.
        let spans = [span(0, 300), span(0, 40), span(41, 80), span(81, 120)];
        assert_eq!(calls_in_a_row(&spans), 3);
        // Order of arrival in the list does not matter.
        let spans = [span(81, 120), span(0, 40), span(41, 80)];
        assert_eq!(calls_in_a_row(&spans), 3);
    }
}
