//! The numbers at the top of the page: JDCs, miners and hash rate over the
//! JDCs the pool still serves, and how many are stale or gone. Pure, one
//! pass over the roster.

use chrono::{DateTime, Utc};

use crate::roster::Entry;
use crate::timing::Health;

/// What the totals panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    /// JDCs with a live or stale report.
    pub jdcs: usize,
    /// Of those, how many are stale.
    pub stale: usize,
    /// JDCs still on the page whose report expired.
    pub gone: usize,
    /// Miners across the served JDCs.
    pub miners: usize,
    /// Their nominal hash rate, in H/s.
    pub hash_rate: f64,
}

impl Totals {
    /// Totals over the roster's `entries` at `now`.
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a Entry>, now: DateTime<Utc>) -> Self {
        let mut totals = Totals::default();
        for entry in entries {
            match entry.health(now) {
                Health::Gone => {
                    totals.gone += 1;
                    continue;
                }
                Health::Stale => totals.stale += 1,
                Health::Live => {}
            }
            totals.jdcs += 1;
            totals.miners += entry.summary.miners;
            totals.hash_rate += entry.summary.hash_rate;
        }
        totals
    }

    /// The line under the numbers: `2 stale · 1 gone`, empty when all are
    /// live.
    pub fn notes(&self) -> String {
        let mut parts = Vec::new();
        if self.stale > 0 {
            parts.push(format!("{} stale", self.stale));
        }
        if self.gone > 0 {
            parts.push(format!("{} gone", self.gone));
        }
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::Roster;
    use crate::test_support::{miner, summary, t};
    use dmr_shared::limits::STALE_AFTER_SECS;

    #[test]
    fn totals_add_up_served_jdcs_and_count_stale_and_gone_ones() {
        let mut roster = Roster::default();
        let jdcs = || {
            vec![
                summary(
                    "bc1qa",
                    "2026-11-26T02:02:50Z",
                    vec![
                        miner("bitaxe", 1.2e12, "a.1"),
                        miner("bitaxe", 0.8e12, "a.2"),
                    ],
                ),
                summary(
                    "bc1qb",
                    "2026-11-26T02:00:00Z",
                    vec![miner("NerdQAxe++", 5e12, "b.1")],
                ),
                summary("bc1qc", "2026-11-26T02:01:00Z", vec![]),
            ]
        };
        let now =
            t("2026-11-26T02:00:00Z") + chrono::Duration::seconds(STALE_AFTER_SECS as i64 + 30);
        roster.apply(jdcs(), 1, now);
        let all = Totals::of(roster.entries(), now);
        assert_eq!(
            all,
            Totals {
                jdcs: 3,
                stale: 1,
                gone: 0,
                miners: 3,
                hash_rate: 7e12
            }
        );
        assert_eq!(all.notes(), "1 stale");

        // B's report expires: it leaves the sums and counts as gone.
        let mut rest = jdcs();
        rest.remove(1);
        roster.apply(rest, 2, now);
        let after = Totals::of(roster.entries(), now);
        assert_eq!(
            after,
            Totals {
                jdcs: 2,
                stale: 0,
                gone: 1,
                miners: 2,
                hash_rate: 2e12
            }
        );
        assert_eq!(after.notes(), "1 gone");
        assert_eq!(Totals::of([], now), Totals::default());
    }

    #[test]
    fn the_notes_name_what_is_not_live() {
        let cases = [
            ((0, 0), ""),
            ((2, 0), "2 stale"),
            ((0, 1), "1 gone"),
            ((1, 3), "1 stale · 3 gone"),
        ];
        for ((stale, gone), want) in cases {
            let totals = Totals {
                stale,
                gone,
                ..Totals::default()
            };
            assert_eq!(totals.notes(), want);
        }
    }
}
