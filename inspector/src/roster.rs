//! The JDCs the page has seen, across refreshes.
//!
//! The API only returns live reports, so a JDC whose report expired simply
//! stops being listed. Dropping it from the page at that moment would hide
//! the one event an operator most wants to notice, so the roster remembers
//! it as *gone* for [`GONE_KEEP_SECS`] after it was last listed (or until the
//! page reloads), then forgets it.

use chrono::{DateTime, Utc};
use dmr_shared::JdcSummary;

/// How long a gone JDC stays on the page, greyed, in seconds.
pub const GONE_KEEP_SECS: i64 = 300;

/// One JDC on the page: its latest summary, and since when it is gone.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The latest summary the API returned for this JDC.
    pub summary: JdcSummary,
    /// The first refresh that no longer listed it; `None` while listed.
    pub gone_since: Option<DateTime<Utc>>,
}

impl Entry {
    /// The JDC's identity, which keys the roster.
    pub fn identity(&self) -> &str {
        &self.summary.identity
    }
}

/// Every JDC on the page, ordered by identity so rows never jump around.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Roster {
    entries: Vec<Entry>,
    updated_at: Option<DateTime<Utc>>,
    applied_seq: Option<u64>,
}

impl Roster {
    /// Takes in the API's answer to request number `seq`, sent at
    /// `fetched_at` (browser clock). An answer to an earlier request than the
    /// one already applied (requests can overtake each other) is ignored;
    /// returns whether anything was applied. Order goes by `seq`, not by
    /// time, so a browser clock that jumps back does not freeze the page.
    pub fn apply(&mut self, jdcs: Vec<JdcSummary>, seq: u64, fetched_at: DateTime<Utc>) -> bool {
        if self.applied_seq.is_some_and(|s| s >= seq) {
            return false;
        }
        self.applied_seq = Some(seq);
        self.updated_at = Some(fetched_at);
        // Built by binary insertion rather than sorting: a handful to a few
        // hundred JDCs, and no sort code in the page's WebAssembly.
        let mut next: Vec<Entry> = Vec::with_capacity(jdcs.len());
        for summary in jdcs {
            let entry = Entry {
                summary,
                gone_since: None,
            };
            match next.binary_search_by(|e| e.identity().cmp(entry.identity())) {
                // One report per identity (the pool keys by it); keep the last.
                Ok(i) => next[i] = entry,
                Err(i) => next.insert(i, entry),
            }
        }
        for old in self.entries.drain(..) {
            let Err(i) = next.binary_search_by(|e| e.identity().cmp(old.identity())) else {
                continue; // still listed
            };
            let gone_since = old.gone_since.unwrap_or(fetched_at);
            if (fetched_at - gone_since).num_seconds() < GONE_KEEP_SECS {
                next.insert(
                    i,
                    Entry {
                        summary: old.summary,
                        gone_since: Some(gone_since),
                    },
                );
            }
        }
        self.entries = next;
        true
    }

    /// When the last applied answer was requested; `None` before the first.
    pub fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }

    /// Every JDC on the page, live, stale and gone, by identity.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The JDC with this identity, if on the page.
    pub fn get(&self, identity: &str) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| e.identity().cmp(identity))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// The JDCs the API still serves (live and stale).
    pub fn served(&self) -> impl Iterator<Item = &JdcSummary> {
        self.entries
            .iter()
            .filter(|e| e.gone_since.is_none())
            .map(|e| &e.summary)
    }

    /// How many JDCs are gone.
    pub fn gone(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.gone_since.is_some())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::tests::{miner, summary, t};

    fn ids(r: &Roster) -> Vec<(&str, bool)> {
        r.entries()
            .iter()
            .map(|e| (e.identity(), e.gone_since.is_some()))
            .collect()
    }

    #[test]
    fn listed_jdcs_are_kept_in_identity_order() {
        let mut r = Roster::default();
        assert_eq!(r.updated_at(), None);
        let at = t("2026-11-26T02:00:00Z");
        assert!(r.apply(
            vec![
                summary("bc1qb", "2026-11-26T01:59:00Z", vec![]),
                summary("bc1qa", "2026-11-26T01:59:30Z", vec![]),
            ],
            1,
            at,
        ));
        assert_eq!(ids(&r), [("bc1qa", false), ("bc1qb", false)]);
        assert_eq!(r.updated_at(), Some(at));
        assert_eq!(
            r.get("bc1qb").unwrap().summary.received_at,
            "2026-11-26T01:59:00Z"
        );
        assert!(r.get("bc1qc").is_none());
        assert_eq!(r.served().count(), 2);
    }

    #[test]
    fn a_jdc_no_longer_listed_is_gone_for_five_minutes_then_forgotten() {
        let mut r = Roster::default();
        r.apply(
            vec![
                summary("bc1qa", "2026-11-26T02:00:00Z", vec![]),
                summary(
                    "bc1qb",
                    "2026-11-26T02:00:00Z",
                    vec![miner("bitaxe", "b.1", 1e12)],
                ),
            ],
            1,
            t("2026-11-26T02:04:00Z"),
        );
        let a_only = || vec![summary("bc1qa", "2026-11-26T02:05:00Z", vec![])];

        r.apply(a_only(), 2, t("2026-11-26T02:05:05Z"));
        assert_eq!(ids(&r), [("bc1qa", false), ("bc1qb", true)]);
        let gone = r.get("bc1qb").unwrap();
        assert_eq!(gone.gone_since, Some(t("2026-11-26T02:05:05Z")));
        assert_eq!(gone.summary.miners, 1, "keeps its last summary");
        assert_eq!((r.served().count(), r.gone()), (1, 1));

        // Still gone, still since the first refresh that missed it.
        r.apply(a_only(), 3, t("2026-11-26T02:10:04Z"));
        assert_eq!(
            r.get("bc1qb").unwrap().gone_since,
            Some(t("2026-11-26T02:05:05Z"))
        );

        r.apply(a_only(), 4, t("2026-11-26T02:10:05Z"));
        assert_eq!(ids(&r), [("bc1qa", false)]);
    }

    #[test]
    fn a_gone_jdc_that_reports_again_is_live_again() {
        let mut r = Roster::default();
        r.apply(
            vec![summary("bc1qa", "2026-11-26T02:00:00Z", vec![])],
            1,
            t("2026-11-26T02:00:05Z"),
        );
        r.apply(vec![], 2, t("2026-11-26T02:05:05Z"));
        assert_eq!(ids(&r), [("bc1qa", true)]);
        r.apply(
            vec![summary("bc1qa", "2026-11-26T02:05:30Z", vec![])],
            3,
            t("2026-11-26T02:05:35Z"),
        );
        assert_eq!(ids(&r), [("bc1qa", false)]);
        assert_eq!(
            r.get("bc1qa").unwrap().summary.received_at,
            "2026-11-26T02:05:30Z"
        );
    }

    #[test]
    fn an_answer_to_an_earlier_request_is_ignored() {
        let mut r = Roster::default();
        assert!(r.apply(
            vec![summary("bc1qa", "2026-11-26T02:00:00Z", vec![])],
            5,
            t("2026-11-26T02:00:10Z")
        ));
        assert!(!r.apply(vec![], 4, t("2026-11-26T02:00:05Z")));
        assert!(!r.apply(vec![], 5, t("2026-11-26T02:00:10Z")));
        assert_eq!(ids(&r), [("bc1qa", false)]);
        assert_eq!(r.updated_at(), Some(t("2026-11-26T02:00:10Z")));
    }

    #[test]
    fn a_browser_clock_that_jumps_back_does_not_freeze_the_page() {
        let mut r = Roster::default();
        r.apply(
            vec![summary("bc1qa", "2026-11-26T02:00:00Z", vec![])],
            1,
            t("2026-11-26T02:00:10Z"),
        );
        assert!(r.apply(vec![], 2, t("2026-11-26T01:00:00Z")));
        assert_eq!(ids(&r), [("bc1qa", true)]);
        assert_eq!(r.updated_at(), Some(t("2026-11-26T01:00:00Z")));
    }

    #[test]
    fn duplicate_identities_in_one_answer_keep_the_last() {
        let mut r = Roster::default();
        r.apply(
            vec![
                summary("bc1qa", "2026-11-26T02:00:00Z", vec![]),
                summary("bc1qa", "2026-11-26T02:00:30Z", vec![]),
            ],
            1,
            t("2026-11-26T02:00:40Z"),
        );
        assert_eq!(ids(&r), [("bc1qa", false)]);
        assert_eq!(
            r.get("bc1qa").unwrap().summary.received_at,
            "2026-11-26T02:00:30Z"
        );
    }
}
