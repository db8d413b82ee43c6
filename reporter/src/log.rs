//! The reporter's own log lines, on standard error, through `tracing`.
//!
//! Same shape as the JDC's, because both use tracing-subscriber's default
//! format (`<RFC 3339> <LEVEL> <target>: <message>`), so both read alike in
//! one terminal or journal. Every line carries the `jdc_reporter` target
//! whichever module logs it: the operator greps one name, and the reporter
//! never mistakes its own lines for the JDC's. Standard output stays free for
//! the JDC's pass-through and for `--dry-run` JSON.

use std::fmt::Display;

/// The target of every line the reporter logs.
pub const TARGET: &str = "jdc_reporter";

/// Installs the subscriber: plain text (no colour codes, even on a
/// terminal, so the lines parse like the JDC's log file), info and above.
/// Call once, first thing.
pub fn init() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true)
        .with_max_level(tracing::Level::INFO)
        .try_init();
}

pub fn info(message: impl Display) {
    tracing::info!(target: TARGET, "{message}");
}

pub fn warn(message: impl Display) {
    tracing::warn!(target: TARGET, "{message}");
}

pub fn error(message: impl Display) {
    tracing::error!(target: TARGET, "{message}");
}
