//! A progress bar on stderr, shown only when stderr is a terminal and the job is long.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `total` bytes, or a hidden one when stderr is not a terminal or the job is small.
pub(crate) fn bar(total: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() || total < 1_000_000 {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{msg} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}

/// A bar over `total` items (messages), or a hidden one when stderr is not a terminal or
/// the job is small.
pub(crate) fn count_bar(total: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() || total < 500 {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} messages ({per_sec}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}
