//! `catup list`'s report: one row per stack and region, as a table or one JSON object.

use std::fmt;

use serde::Serialize;

use super::{FoundStack, Unread, LISTED};
use crate::output::human_bytes;
use crate::pricing::{dollars, PRICES_AS_OF};

#[derive(Debug, Serialize)]
pub struct ListReport {
    /// The date of the price table the estimates use.
    pub prices_as_of: &'static str,
    pub stacks: Vec<FoundStack>,
    pub unread_regions: Vec<Unread>,
}

/// What is left of a stack, in a few words.
fn left_of(stack: &FoundStack) -> String {
    if stack.missing.is_empty() {
        return "complete".to_owned();
    }
    let left: Vec<String> = LISTED
        .iter()
        .filter(|k| !stack.missing.contains(k))
        .map(ToString::to_string)
        .collect();
    format!("partial: {} left", left.join(", "))
}

fn row(stack: &FoundStack) -> [String; 6] {
    let (images, last) = match &stack.images {
        Some(i) => (
            format!("{} ({})", i.count, human_bytes(i.bytes)),
            i.last_upload.clone().unwrap_or_else(|| "-".to_owned()),
        ),
        None => ("-".to_owned(), "-".to_owned()),
    };
    [
        stack.stack.clone(),
        stack.region.clone(),
        left_of(stack),
        images,
        last,
        dollars(stack.monthly_usd),
    ]
}

impl fmt::Display for ListReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stacks.is_empty() {
            writeln!(f, "no catup stack in this account")?;
        } else {
            let header = [
                "STACK",
                "REGION",
                "RESOURCES",
                "IMAGES",
                "LAST UPLOAD",
                "EST. $/MONTH",
            ]
            .map(str::to_owned);
            let rows: Vec<[String; 6]> = self.stacks.iter().map(row).collect();
            let mut widths = header.clone().map(|h| h.len());
            for r in &rows {
                for (w, cell) in widths.iter_mut().zip(r) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            for r in std::iter::once(&header).chain(&rows) {
                let cells: Vec<String> = r
                    .iter()
                    .zip(widths)
                    .map(|(cell, w)| format!("{cell:<w$}"))
                    .collect();
                writeln!(f, "{}", cells.join("  ").trim_end())?;
            }
            writeln!(f)?;
            writeln!(f, "estimates: storage, and requests at the last 30 days' uploads, at AWS's prices of {PRICES_AS_OF}")?;
        }
        for unread in &self.unread_regions {
            writeln!(f, "not read: {} ({})", unread.region, unread.reason)?;
        }
        Ok(())
    }
}
