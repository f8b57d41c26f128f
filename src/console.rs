//! The lowest layer of what catup prints: one line on stderr, which a closed stderr loses
//! without a panic. Everything that prints progress (waits, retries, reports) goes through it.

use std::fmt;
use std::io::Write;

/// A progress line on stderr ("  ... message").
pub fn progress(message: impl fmt::Display) {
    say(format_args!("  ... {message}"));
}

/// One line on stderr. A closed stderr (`catup -v status 2>&1 | head -1`) loses the line and
/// nothing else: `eprintln!` would panic.
pub fn say(message: impl fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

/// "1 object", "2 objects".
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// Bytes as a person reads them (1024-based).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_as_a_person_reads_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
