//! An open JDC card's detail: which version of the JDC's full report it
//! asks for, which answer it may show, the note above its miners table and
//! the table's row keys. Pure, tested natively; the card reads the report
//! through a Leptos resource keyed by [`DetailKey`].
//!
//! Why the key and not just the identity: the report is read again only
//! when the JDC's summary changes, and an answer is shown only while it
//! belongs to the summary the card shows. So when a poll brings a new
//! summary while the previous read is still under way, that read's answer
//! (overtaken: it may predate the new summary) is never shown under the new
//! summary line; the card says it is loading until the new read answers.

use std::collections::HashMap;

use dmr_shared::{Miner, StoredReport};

use crate::api::ApiError;
use crate::roster::Entry;

/// One version of a JDC's full report: the JDC, and the summary it was
/// listed with (`receivedAt` changes when the pool stores the report again,
/// `content` when what it lists changes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DetailKey {
    /// The JDC's identity.
    pub identity: String,
    /// The summary's `receivedAt`.
    pub received_at: String,
    /// The summary's fingerprint of the report's content.
    pub content: String,
}

impl DetailKey {
    /// The version the roster's `entry` stands for.
    pub fn of(entry: &Entry) -> Self {
        DetailKey {
            identity: entry.summary.identity.clone(),
            received_at: entry.summary.received_at.clone(),
            content: entry.summary.content.clone(),
        }
    }
}

/// How reading a JDC's full report ended: the report, `None` when the pool
/// no longer has it (404: it expired), or why it could not be read.
pub type Outcome = Result<Option<StoredReport>, ApiError>;

/// One read of a JDC's full report: what was asked for, and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The version the read was for.
    pub key: DetailKey,
    /// Its result.
    pub outcome: Outcome,
}

impl Answer {
    /// The read failed (and is worth trying again).
    pub fn failed(&self) -> bool {
        self.outcome.is_err()
    }
}

/// What an open card shows below its summary line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Detail<'a> {
    /// The report for the current summary is being read.
    Loading,
    /// The read failed.
    Failed(&'a ApiError),
    /// The pool no longer has the report.
    Expired,
    /// The report for the current summary.
    Report(&'a StoredReport),
}

impl<'a> Detail<'a> {
    /// What to show for the card's `current` summary, given the resource's
    /// latest `answer`. An answer for another version is not shown. A gone
    /// JDC is read no more: it shows the report read for its last summary,
    /// if any, else that the report expired.
    pub fn of(current: Option<&DetailKey>, answer: Option<&'a Answer>, gone: bool) -> Self {
        match answer {
            Some(a) if Some(&a.key) == current => match &a.outcome {
                Ok(Some(report)) => Detail::Report(report),
                Ok(None) => Detail::Expired,
                Err(e) => Detail::Failed(e),
            },
            _ if gone => Detail::Expired,
            _ => Detail::Loading,
        }
    }

    /// The report's miners, when there is a report.
    pub fn miners(self) -> &'a [Miner] {
        match self {
            Detail::Report(r) => &r.report.miners,
            _ => &[],
        }
    }

    /// The note above the miners table (`shown` of them pass the filter),
    /// or `None` when the table says it all.
    pub fn note(self, shown: usize) -> Option<String> {
        match self {
            Detail::Loading => Some("Loading miners…".into()),
            Detail::Failed(e) => Some(format!("Could not read the miners. {e}")),
            Detail::Expired => Some("Its report expired: its miners can no longer be read.".into()),
            Detail::Report(r) => match r.report.miners.len() {
                0 => Some("No miners connected.".into()),
                total if shown < total => {
                    Some(format!("Showing {shown} of {total} miners (filter)."))
                }
                _ => None,
            },
        }
    }
}

/// A stable key for each miner row, so a refresh keeps the rows that did not
/// change: every field (a changed miner is a new row), plus a counter for
/// identical twins. O(n) for n miners.
pub fn miner_keys(miners: &[&Miner]) -> Vec<String> {
    let mut twins: HashMap<String, usize> = HashMap::with_capacity(miners.len());
    miners
        .iter()
        .map(|m| {
            let base = format!(
                "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
                m.user_identity,
                m.connected_at,
                m.device_id,
                m.vendor,
                m.hardware_version,
                m.firmware,
                m.nominal_hash_rate.to_bits(),
                m.via.as_deref().unwrap_or_default()
            );
            let seen = twins.entry(base.clone()).or_default();
            let key = format!("{base}#{seen}");
            *seen += 1;
            key
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::Roster;
    use crate::test_support::{miner, stored, summary, t};

    const AT: &str = "2026-11-26T02:00:00Z";
    const LATER: &str = "2026-11-26T02:02:15Z";

    fn entry(received: &str, miners: Vec<Miner>) -> Entry {
        Entry::listed(summary("bc1qa", received, miners))
    }

    fn answer(key: &DetailKey, outcome: Outcome) -> Answer {
        Answer {
            key: key.clone(),
            outcome,
        }
    }

    #[test]
    fn the_key_changes_with_the_stored_time_or_the_content() {
        let one = vec![miner("bitaxe", 1e12, "a.1")];
        let two = vec![miner("bitaxe", 1e12, "a.1"), miner("bitaxe", 1e12, "a.2")];
        let first = DetailKey::of(&entry(AT, one.clone()));
        assert_eq!(first, DetailKey::of(&entry(AT, one.clone())));
        assert_ne!(first, DetailKey::of(&entry(LATER, one)), "stored again");
        assert_ne!(first, DetailKey::of(&entry(AT, two)), "other miners");
        assert_eq!(first.identity, "bc1qa");
    }

    #[test]
    fn only_the_answer_for_the_current_summary_is_shown() {
        let old = DetailKey::of(&entry(AT, vec![miner("bitaxe", 1e12, "a.old")]));
        let new = DetailKey::of(&entry(LATER, vec![miner("bitaxe", 1e12, "a.new")]));
        let report = stored("bc1qa", AT, vec![miner("bitaxe", 1e12, "a.old")]);
        let old_report = answer(&old, Ok(Some(report.clone())));
        let failed = answer(&new, Err(ApiError::Unreachable("offline".into())));
        let expired = answer(&new, Ok(None));
        let cases = [
            // (current, answer, gone) -> shown
            (Some(&new), None, false, Detail::Loading),
            (
                Some(&old),
                Some(&old_report),
                false,
                Detail::Report(&report),
            ),
            // A poll brought a new summary: the answer for the old one,
            // even if it lands now, is not shown under it.
            (Some(&new), Some(&old_report), false, Detail::Loading),
            (None, Some(&old_report), false, Detail::Loading),
            (
                Some(&new),
                Some(&failed),
                false,
                Detail::Failed(failed.outcome.as_ref().unwrap_err()),
            ),
            (Some(&new), Some(&expired), false, Detail::Expired),
            // Gone: the last report read stays; without one, it expired.
            (Some(&old), Some(&old_report), true, Detail::Report(&report)),
            (Some(&new), Some(&old_report), true, Detail::Expired),
            (Some(&new), None, true, Detail::Expired),
        ];
        for (i, (current, answer, gone, want)) in cases.into_iter().enumerate() {
            assert_eq!(Detail::of(current, answer, gone), want, "case {i}");
        }
        assert!(failed.failed() && !old_report.failed() && !expired.failed());
    }

    #[test]
    fn the_note_says_what_the_table_cannot() {
        let two = stored(
            "bc1qa",
            AT,
            vec![miner("bitaxe", 1e12, "a.1"), miner("bitaxe", 1e12, "a.2")],
        );
        let none = stored("bc1qa", AT, vec![]);
        let refused = ApiError::Status {
            status: 503,
            detail: "KV is down".into(),
        };
        let cases = [
            (Detail::Loading, 0, Some("Loading miners…")),
            (
                Detail::Failed(&refused),
                0,
                Some("Could not read the miners. The API answered 503: KV is down"),
            ),
            (
                Detail::Expired,
                0,
                Some("Its report expired: its miners can no longer be read."),
            ),
            (Detail::Report(&none), 0, Some("No miners connected.")),
            (
                Detail::Report(&two),
                1,
                Some("Showing 1 of 2 miners (filter)."),
            ),
            (
                Detail::Report(&two),
                0,
                Some("Showing 0 of 2 miners (filter)."),
            ),
            (Detail::Report(&two), 2, None),
        ];
        for (detail, shown, want) in cases {
            assert_eq!(detail.note(shown).as_deref(), want, "{detail:?} {shown}");
        }
        assert_eq!(Detail::Report(&two).miners().len(), 2);
        assert!(Detail::Loading.miners().is_empty());
    }

    #[test]
    fn a_gone_entry_keeps_its_key() {
        let mut roster = Roster::default();
        roster.apply(
            vec![summary("bc1qa", AT, vec![])],
            1,
            t("2026-11-26T02:00:05Z"),
        );
        let listed = DetailKey::of(roster.get("bc1qa").unwrap());
        roster.apply(vec![], 2, t("2026-11-26T02:05:05Z"));
        let gone = roster.get("bc1qa").unwrap();
        assert!(gone.is_gone());
        assert_eq!(DetailKey::of(gone), listed);
    }

    #[test]
    fn miner_keys_are_stable_distinct_and_change_with_the_miner() {
        let a = miner("bitaxe", 1e12, "w.1");
        let b = miner("bitaxe", 1e12, "w.2");
        let keys = miner_keys(&[&a, &b, &a]);
        assert_eq!(keys.len(), 3);
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2], "identical twins get distinct keys");
        assert!(keys[0].ends_with("#0") && keys[2].ends_with("#1"));
        assert_eq!(miner_keys(&[&a, &b]), keys[..2], "same miners, same keys");
        let mut faster = a.clone();
        faster.nominal_hash_rate = 2e12;
        assert_ne!(miner_keys(&[&faster])[0], keys[0]);
    }

    #[test]
    fn miner_keys_of_thousands_of_twins_stay_distinct() {
        let a = miner("bitaxe", 1e12, "w.1");
        let twins = vec![&a; 2000];
        let keys = miner_keys(&twins);
        let distinct: std::collections::HashSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), 2000);
    }
}
