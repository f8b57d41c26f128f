//! The function's logs as a person reads them: parsing CloudWatch events (`event`), their text
//! form (`text`), `--since` (`since`), `--follow`'s bookkeeping (`follow`) and the pacing of
//! FilterLogEvents (`pace`). All pure; the AWS calls are in `commands::logs`, the in-process
//! function's lines in `local::function_logs`.

pub mod event;
pub mod follow;
pub mod pace;
pub mod since;
pub mod text;

use std::io::{self, Write};

pub use event::{Line, LogEvent};
pub use since::Since;
pub use text::TextFormat;

/// How events are printed: text lines, or one JSON object per line.
#[derive(Debug, Clone)]
pub enum Printer {
    Text(TextFormat),
    Json,
}

impl Printer {
    /// Text in the system's time zone, coloured when `terminal` and NO_COLOR is not set.
    pub fn new(json: bool, terminal: bool) -> Printer {
        if json {
            return Printer::Json;
        }
        Printer::Text(TextFormat {
            time_zone: jiff::tz::TimeZone::system(),
            colour: terminal && std::env::var_os("NO_COLOR").is_none(),
        })
    }

    pub fn print(&self, out: &mut impl Write, event: &LogEvent) -> io::Result<()> {
        match self {
            Printer::Text(format) => writeln!(out, "{}", format.line(event)),
            Printer::Json => {
                serde_json::to_writer(&mut *out, event)?;
                writeln!(out)
            }
        }
    }
}
