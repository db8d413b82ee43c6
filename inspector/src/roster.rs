//! The JDCs the page has seen, across refreshes.
//!
//! The API only returns live reports, so a JDC whose report expired simply
//! stops being listed. Dropping it from the page at that moment would hide
//! the one event an operator most wants to notice, so the roster remembers
//! it as *gone* for [`GONE_KEEP_SECS`] after it was last listed (or until the
//! page reloads), then forgets it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dmr_shared::JdcSummary;

use crate::timing::{self, Health, ReportTimes};

/// How long a gone JDC stays on the page, greyed, in seconds.
pub const GONE_KEEP_SECS: i64 = 300;

/// How many shards the page splits the JDCs into (see [`shard_of`]).
pub const SHARDS: usize = 32;

/// The shard of a JDC, from its identity (FNV-1a), so a JDC stays in the
/// same shard across refreshes.
///
/// Why shards: each card of the page watches its entry and the clock. If a
/// thousand cards all watched the roster and the clock directly, every poll
/// and every tick would re-run a thousand watchers, each unsubscribing from
/// a source with a thousand subscribers, which Leptos does in time linear
/// in them: O(n²). Cards watch their shard instead, a few dozen per shard,
/// and a poll only wakes the cards of the shards whose entries changed.
pub fn shard_of(identity: &str) -> usize {
    let hash = identity.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash as usize % SHARDS
}

/// One JDC on the page: its latest summary, and since when it is gone.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The latest summary the API returned for this JDC.
    pub summary: JdcSummary,
    /// Its `receivedAt` and `expiresAt`, parsed when the summary arrived;
    /// `None` if `receivedAt` does not parse.
    pub times: Option<ReportTimes>,
    /// The first refresh that no longer listed it; `None` while listed.
    pub gone_since: Option<DateTime<Utc>>,
    /// Its [`shard_of`], worked out once.
    pub shard: usize,
}

impl Entry {
    /// A JDC the API lists now.
    pub fn listed(summary: JdcSummary) -> Self {
        Entry {
            times: ReportTimes::of(&summary),
            shard: shard_of(&summary.identity),
            summary,
            gone_since: None,
        }
    }

    /// The JDC's identity, which keys the roster.
    pub fn identity(&self) -> &str {
        &self.summary.identity
    }

    /// The API no longer lists it.
    pub fn is_gone(&self) -> bool {
        self.gone_since.is_some()
    }

    /// Live, stale or gone at `now`.
    pub fn health(&self, now: DateTime<Utc>) -> Health {
        timing::health(self.times, self.is_gone(), now)
    }

    /// The line its card shows under the summary at `now`.
    pub fn timing_line(&self, now: DateTime<Utc>) -> String {
        timing::timing_line(self.times, self.is_gone(), now)
    }
}

/// Every JDC on the page, ordered by identity so rows never jump around.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Roster {
    entries: BTreeMap<String, Entry>,
    updated_at: Option<DateTime<Utc>>,
    applied_seq: Option<u64>,
}

impl Roster {
    /// Takes in the API's answer to request number `seq`, sent at
    /// `fetched_at` (browser clock). An answer to an earlier request than the
    /// one already applied (requests can overtake each other) is ignored;
    /// returns whether anything was applied. Order goes by `seq`, not by
    /// time, so a browser clock that jumps back does not freeze the page.
    ///
    /// O((n + g) log n) for n listed and g gone JDCs.
    pub fn apply(&mut self, jdcs: Vec<JdcSummary>, seq: u64, fetched_at: DateTime<Utc>) -> bool {
        if self.applied_seq.is_some_and(|s| s >= seq) {
            return false;
        }
        self.applied_seq = Some(seq);
        self.updated_at = Some(fetched_at);
        let mut next = BTreeMap::new();
        for summary in jdcs {
            // One report per identity (the pool keys by it); keep the last.
            next.insert(summary.identity.clone(), Entry::listed(summary));
        }
        for (identity, old) in std::mem::take(&mut self.entries) {
            if next.contains_key(&identity) {
                continue; // still listed
            }
            let gone_since = old.gone_since.unwrap_or(fetched_at);
            if (fetched_at - gone_since).num_seconds() < GONE_KEEP_SECS {
                let gone = Entry {
                    gone_since: Some(gone_since),
                    ..old
                };
                next.insert(identity, gone);
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
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// How many JDCs are on the page, gone ones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No JDC on the page at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The JDC with this identity, if on the page.
    pub fn get(&self, identity: &str) -> Option<&Entry> {
        self.entries.get(identity)
    }

    /// The entries of shard `shard` ([`shard_of`]), by identity. O(n).
    pub fn shard(&self, shard: usize) -> Vec<Entry> {
        self.entries()
            .filter(|e| e.shard == shard)
            .cloned()
            .collect()
    }

    /// The JDCs the API still serves (live and stale).
    pub fn served(&self) -> impl Iterator<Item = &JdcSummary> {
        self.entries().filter(|e| !e.is_gone()).map(|e| &e.summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{miner, summary, t};

    fn ids(r: &Roster) -> Vec<(&str, bool)> {
        r.entries().map(|e| (e.identity(), e.is_gone())).collect()
    }

    #[test]
    fn listed_jdcs_are_kept_in_identity_order() {
        let mut r = Roster::default();
        assert_eq!(r.updated_at(), None);
        assert!(r.is_empty());
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
        let b = r.get("bc1qb").unwrap();
        assert_eq!(b.summary.received_at, "2026-11-26T01:59:00Z");
        assert_eq!(b.times.unwrap().received, t("2026-11-26T01:59:00Z"));
        assert!(r.get("bc1qc").is_none());
        assert_eq!((r.served().count(), r.len()), (2, 2));
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
                    vec![miner("bitaxe", 1e12, "b.1")],
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
        assert_eq!(gone.health(t("2026-11-26T02:05:05Z")), Health::Gone);
        assert_eq!((r.served().count(), r.len()), (1, 2));

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
        let a = r.get("bc1qa").unwrap();
        assert_eq!(a.summary.received_at, "2026-11-26T02:05:30Z");
        assert_eq!(a.health(t("2026-11-26T02:05:35Z")), Health::Live);
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

    #[test]
    fn every_jdc_is_in_exactly_one_shard_and_shards_keep_identity_order() {
        let jdcs: Vec<JdcSummary> = (0..1000)
            .map(|i| summary(&format!("bc1q{i:04}"), "2026-11-26T02:00:00Z", vec![]))
            .collect();
        let mut r = Roster::default();
        r.apply(jdcs, 1, t("2026-11-26T02:00:05Z"));
        let shards: Vec<Vec<Entry>> = (0..SHARDS).map(|k| r.shard(k)).collect();
        assert_eq!(shards.iter().map(Vec::len).sum::<usize>(), 1000);
        for (k, shard) in shards.iter().enumerate() {
            // Spread out: no shard holds more than twice its share.
            assert!(
                (1..=2 * 1000 / SHARDS).contains(&shard.len()),
                "shard {k}: {}",
                shard.len()
            );
            assert!(shard.iter().all(|e| shard_of(e.identity()) == k));
            assert!(shard.windows(2).all(|w| w[0].identity() < w[1].identity()));
        }
        // Stable: the same identity, the same shard, whatever else is listed.
        assert_eq!(shard_of("bc1q0042"), r.get("bc1q0042").unwrap().shard);
        assert_eq!(shard_of("bc1q0042"), shard_of("bc1q0042"));
    }

    #[test]
    fn a_thousand_jdcs_come_out_in_identity_order() {
        // Arrives in an order unrelated to the identities.
        let jdcs = (0..1000)
            .map(|i| {
                summary(
                    &format!("bc1q{:04}", (i * 7919) % 1000),
                    "2026-11-26T02:00:00Z",
                    vec![],
                )
            })
            .collect();
        let mut r = Roster::default();
        r.apply(jdcs, 1, t("2026-11-26T02:00:05Z"));
        let order: Vec<&str> = r.entries().map(Entry::identity).collect();
        let want: Vec<String> = (0..1000).map(|i| format!("bc1q{i:04}")).collect();
        assert_eq!(order, want);
    }
}
