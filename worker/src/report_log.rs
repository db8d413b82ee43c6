//! The log line of an accepted report, and the reports that get none.
//!
//! A report that changes something (stores a copy, renames a row) or costs
//! a KV or D1 call gets its own JSON line, which says how many D1 calls it
//! made (`d1Calls`: one batch, or none). Most reports change nothing: the
//! same miners again, answered from this instance's note with no storage
//! call at all. Those are counted instead, and the counts ride on this
//! instance's next line (`quietReports`, and `quietRowsRead`, which stays
//! 0 now that a quiet report reads no D1 row), so summing the lines still
//! gives every report, every D1 call and every billed D1 row. A JDC's
//! report is stored again at least every `refresh_after_secs`, so each
//! reporting JDC still shows up in the log that often.
//!
//! Why: `console.log` is the most expensive single call of a report in
//! V8's profile under `wrangler dev` (docs/performance.md), and
//! in production every line is a billed Workers Logs event; Workers Logs
//! already records each request itself.

use std::cell::Cell;

use serde::Serialize;
use worker::console_log;

use crate::memory::wasm_memory_bytes;

/// What one report did, for its log line.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportLine<'a> {
    pub client: &'a str,
    pub identity: &'a str,
    pub address: &'a str,
    pub miners: usize,
    pub user_agent: Option<&'a str>,
    pub renamed: usize,
    pub rows_read: usize,
    pub rows_written: usize,
    pub stored: bool,
    /// Whether this instance's note decided instead of a KV read.
    pub hint: bool,
    pub kv_operations: usize,
    /// D1 calls made (a batch is one).
    pub d1_calls: usize,
}

/// The line as written: the report's fields, the quiet reports before it,
/// and the instance's wasm memory.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Written<'a> {
    event: &'static str,
    #[serde(flatten)]
    report: &'a ReportLine<'a>,
    quiet_reports: u64,
    quiet_rows_read: u64,
    wasm_memory_bytes: usize,
}

/// Reports this instance answered without a line since its last one, and
/// the D1 rows they read.
#[derive(Clone, Copy, Default)]
struct Quiet {
    reports: u64,
    rows_read: u64,
}

thread_local! {
    static QUIET: Cell<Quiet> = const { Cell::new(Quiet { reports: 0, rows_read: 0 }) };
}

impl ReportLine<'_> {
    /// Whether the report changed nothing and made no KV or D1 call.
    fn is_quiet(&self) -> bool {
        !self.stored
            && self.renamed == 0
            && self.rows_written == 0
            && self.kv_operations == 0
            && self.d1_calls == 0
    }

    /// Writes the line, or counts the report when it is quiet.
    pub fn log(&self) {
        if let Some(line) = self.line() {
            console_log!("{line}");
        }
    }

    /// The line to write, taking the quiet reports counted before it; or
    /// `None`, counting this report, when it is quiet.
    fn line(&self) -> Option<String> {
        if self.is_quiet() {
            QUIET.with(|q| {
                let Quiet { reports, rows_read } = q.get();
                q.set(Quiet {
                    reports: reports + 1,
                    rows_read: rows_read + self.rows_read as u64,
                });
            });
            return None;
        }
        let quiet = QUIET.with(|q| q.take());
        // Serialised straight from borrowed fields: no JSON tree is built
        // for a line that is only written out.
        serde_json::to_string(&Written {
            event: "report",
            report: self,
            quiet_reports: quiet.reports,
            quiet_rows_read: quiet.rows_read,
            wasm_memory_bytes: wasm_memory_bytes(),
        })
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(stored: bool, renamed: usize, kv_operations: usize) -> ReportLine<'static> {
        ReportLine {
            client: "203.0.113.7",
            identity: "addr.rig1",
            address: "addr",
            miners: 2,
            user_agent: Some("bitaxe/sv2"),
            renamed,
            rows_read: 1,
            rows_written: renamed * 2,
            stored,
            hint: true,
            kv_operations,
            d1_calls: usize::from(renamed > 0),
        }
    }

    #[test]
    fn only_a_report_that_changed_nothing_and_called_no_kv_is_quiet() {
        assert!(line(false, 0, 0).is_quiet());
        assert!(!line(true, 0, 1).is_quiet());
        assert!(!line(false, 1, 0).is_quiet());
        assert!(!line(false, 0, 1).is_quiet());
        let d1_only = ReportLine {
            rows_written: 0,
            d1_calls: 1,
            ..line(false, 0, 0)
        };
        assert!(!d1_only.is_quiet());
    }

    #[test]
    fn quiet_reports_are_carried_by_the_next_line() {
        QUIET.with(|q| q.take());
        assert_eq!(line(false, 0, 0).line(), None);
        assert_eq!(line(false, 0, 0).line(), None);
        let text = line(true, 0, 1).line().expect("a stored report is logged");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["event"], "report");
        assert_eq!(v["stored"], true);
        assert_eq!(v["quietReports"], 2);
        assert_eq!(v["quietRowsRead"], 2);
        // Taken: the line after it starts from nothing.
        let text = line(false, 1, 0).line().expect("a rename is logged");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (v["quietReports"].as_u64(), v["renamed"].as_u64()),
            (Some(0), Some(1))
        );
    }
}
