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
