//! The reporter's own log lines, on standard error.
//!
//! Same shape as the JDC's (`<RFC 3339> <LEVEL> <target>: <message>`) so both
//! read alike in one terminal or journal; the `jdc_reporter` target keeps the
//! reporter from ever mistaking its own lines for the JDC's. Standard output
//! stays free for the JDC's pass-through and for `--dry-run` JSON.

use std::fmt::Display;
use std::io::Write;

use chrono::{SecondsFormat, Utc};

fn write(level: &str, message: impl Display) {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    // A closed stderr must not stop the reporter.
    let _ = writeln!(
        std::io::stderr().lock(),
        "{now} {level:>5} jdc_reporter: {message}"
    );
}

pub fn info(message: impl Display) {
    write("INFO", message);
}

pub fn warn(message: impl Display) {
    write("WARN", message);
}

pub fn error(message: impl Display) {
    write("ERROR", message);
}
