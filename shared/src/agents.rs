//! `GET /api/agents`: the pool's client table as the pool's own statistics
//! see it. Pools want downstream reports for their `GROUP BY userAgent`;
//! this answer is that grouping, plus the JDC connections that are still
//! anonymous (`jd-client/sv2`) and whether a live report exists for each.
//!
//! Here are the answer's types (what the Worker writes and the inspector
//! reads), the two statements the Worker runs against D1 (named, with bound
//! parameters; a pool with its own `clients` table needs the columns they
//! name), and the rule that joins the table with the live reports.
//!
//! What a report renames to is the vendor rule's ([`crate::vendor`]), read
//! from each report's summary, so this answer and the renames always agree:
//! the SRI translator's channels and vendors naming the JDC never make a
//! `userAgent` here, and a report whose miners cast no vote shows as
//! reported with nothing to rename to.

use serde::{Deserialize, Serialize};

use crate::identity::address_of;
use crate::summary::JdcSummary;
use crate::vendor::JDC_USER_AGENT;

/// Most `userAgent`s listed; the rest are counted in
/// [`PoolAgents::more_agents`]. SV1 firmwares name themselves freely
/// (`cgminer/4.11.1`, `bmminer/2.0.0`), so a pool can have many.
pub const MAX_AGENTS: usize = 50;

/// Most JDC addresses listed, longest connected first; the rest are counted
/// in [`PoolAgents::more_jdc_addresses`].
pub const MAX_JDC_ADDRESSES: usize = 500;

/// Longest time a data centre serves one answer from its cache, in seconds.
/// A `GROUP BY` over the live rows reads every one of them: with the cache,
/// any number of open inspectors cost one such read a minute per data centre.
pub const AGENTS_CACHE_SECS: u64 = 60;

/// Live rows per `userAgent`: rows, distinct addresses, summed `hashRate`,
/// and (the same on every row, by window functions over the groups) the
/// number of groups and the totals. `?1` is [`JDC_USER_AGENT`], sorted first
/// so the bound never cuts it off; `?2` is [`MAX_AGENTS`].
///
/// It reads every live row once, in `userAgent` order from the partial index
/// `clients_live_user_agent` (no sort for the `GROUP BY`): that cost is what
/// the cache is for.
pub const AGENTS_SQL: &str = "SELECT userAgent, count(*) AS rows, \
     count(DISTINCT address) AS addresses, total(hashRate) AS hashRate, \
     count(*) OVER () AS agents, sum(count(*)) OVER () AS allRows, \
     sum(total(hashRate)) OVER () AS allHashRate \
     FROM clients WHERE deletedAt IS NULL GROUP BY userAgent \
     ORDER BY userAgent = ?1 DESC, rows DESC, userAgent LIMIT ?2";

/// The addresses of live `jd-client/sv2` rows (`?1`), with their row count
/// and oldest `startTime`, longest connected first, at most `?2`
/// ([`MAX_JDC_ADDRESSES`]). The partial index `clients_live_user_agent`
/// finds exactly those rows: the cost follows the `jd-client/sv2` rows, not
/// the table. Their totals come from [`AGENTS_SQL`]'s `jd-client/sv2` group.
pub const JDC_ADDRESSES_SQL: &str = "SELECT address, count(*) AS rows, \
     min(startTime) AS since FROM clients \
     WHERE userAgent = ?1 AND deletedAt IS NULL \
     GROUP BY address ORDER BY since, address LIMIT ?2";

/// One result row of [`AGENTS_SQL`], as D1 returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentGroup {
    pub user_agent: String,
    pub rows: u64,
    pub addresses: u64,
    pub hash_rate: f64,
    /// Groups in all, listed or not.
    pub agents: u64,
    /// Live rows in all.
    pub all_rows: u64,
    /// `hashRate` of all live rows.
    pub all_hash_rate: f64,
}

/// One result row of [`JDC_ADDRESSES_SQL`], as D1 returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JdcGroup {
    pub address: String,
    pub rows: u64,
    pub since: String,
}

/// One `userAgent` among the pool's live client rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentCount {
    /// As the client table has it (any text: SV1 miners name themselves).
    pub user_agent: String,
    /// Live client rows.
    pub rows: u64,
    /// Distinct addresses among them.
    pub addresses: u64,
    /// Sum of their `hashRate` column, H/s.
    pub hash_rate: f64,
    /// A live report renames `jd-client/sv2` rows to this name: these rows
    /// (at least some) came from reports.
    pub from_reports: bool,
}

/// An address that still has live `jd-client/sv2` rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct JdcAddress {
    pub address: String,
    /// Its live `jd-client/sv2` rows.
    pub rows: u64,
    /// The oldest `startTime` among them, as the table has it: connected
    /// as a JDC since then.
    pub since: String,
    /// A live report exists for this address (from an identity `address`
    /// or `address.<worker>`): its rows are still `jd-client/sv2` because
    /// none of its miners votes for a name, or because they were written
    /// while D1 held no live name for the address (they are renamed by the
    /// next report). Without one: connected as a JDC, never reported.
    pub reported: bool,
    /// What that report renames the rows to; `null` without a report, or
    /// when none of its miners votes (no vendor, the JDC's own name, or the
    /// SRI translator's channels, see [`crate::vendor`]): then nothing is
    /// renamed, and a JDC behind which only a translator is known stays
    /// `jd-client/sv2` here too, never `SRI/sv2`.
    pub renames_to: Option<String>,
}

/// The answer of `GET /api/agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PoolAgents {
    /// When the Worker read D1 and KV (RFC 3339, the pool's clock).
    pub read_at: String,
    /// Seconds a data centre serves this answer from its cache.
    pub max_age: u64,
    /// Live client rows (`deletedAt IS NULL`).
    pub rows: u64,
    /// Sum of their `hashRate`, H/s.
    pub hash_rate: f64,
    /// Live rows by `userAgent`, most rows first, at most [`MAX_AGENTS`].
    pub agents: Vec<AgentCount>,
    /// `userAgent`s not listed (their rows are `rows` less the listed ones).
    pub more_agents: u64,
    /// Live rows still named `jd-client/sv2`.
    pub jdc_rows: u64,
    /// The addresses of those rows, longest connected first, at most
    /// [`MAX_JDC_ADDRESSES`].
    pub jdc_addresses: Vec<JdcAddress>,
    /// Addresses with `jd-client/sv2` rows not listed.
    pub more_jdc_addresses: u64,
    /// Live reports (JDC identities) the answer was checked against.
    pub live_reports: u64,
    /// Whether those were all of them (false beyond the listing bound).
    pub reports_complete: bool,
}

/// Which addresses and `userAgent`s the live reports stand for, for
/// looking up many addresses at once: sorted, searched by bisection.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LiveReports {
    /// Address, and what its reports rename to (the first that names one).
    addresses: Vec<(String, Option<String>)>,
    /// Every `userAgent` some live report renames to.
    agents: Vec<String>,
    reports: usize,
}

impl LiveReports {
    /// The index of `summaries` (one per live report).
    pub fn of<'a>(summaries: impl IntoIterator<Item = &'a JdcSummary>) -> Self {
        let mut index = LiveReports::default();
        for summary in summaries {
            index.reports += 1;
            let address = address_of(&summary.identity);
            // KV lists keys in order, so identities (and nearly always their
            // addresses) arrive sorted: inserts land at the end, with no sort
            // and nothing moved.
            let at = match index
                .addresses
                .binary_search_by(|(a, _)| a.as_str().cmp(address))
            {
                Ok(i) => i,
                Err(i) => {
                    index.addresses.insert(i, (address.to_owned(), None));
                    i
                }
            };
            if let Some(agent) = &summary.user_agent {
                index.addresses[at].1.get_or_insert_with(|| agent.clone());
                if let Err(i) = index.agents.binary_search(agent) {
                    index.agents.insert(i, agent.clone());
                }
            }
        }
        index
    }

    /// `Some(renames_to)` when a live report exists for `address`.
    pub fn for_address(&self, address: &str) -> Option<Option<&str>> {
        self.addresses
            .binary_search_by(|(a, _)| a.as_str().cmp(address))
            .ok()
            .map(|i| self.addresses[i].1.as_deref())
    }

    /// Whether a live report renames rows to `user_agent`.
    pub fn names(&self, user_agent: &str) -> bool {
        self.agents
            .binary_search_by(|a| a.as_str().cmp(user_agent))
            .is_ok()
    }

    /// How many live reports went in.
    pub fn reports(&self) -> usize {
        self.reports
    }
}

/// A sum that stays a JSON number: garbage `hashRate`s can add up to
/// infinity, which JSON cannot carry.
fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        f64::MAX.copysign(x)
    }
}

impl PoolAgents {
    /// The answer from the two statements' rows and the live reports.
    pub fn assemble(
        groups: Vec<AgentGroup>,
        jdc: Vec<JdcGroup>,
        reports: &LiveReports,
        reports_complete: bool,
        read_at: &str,
        max_age: u64,
    ) -> Self {
        let (all_agents, rows, hash_rate) = groups.first().map_or((0, 0, 0.0), |g| {
            (g.agents, g.all_rows, finite(g.all_hash_rate))
        });
        let jdc_group = groups.iter().find(|g| g.user_agent == JDC_USER_AGENT);
        let (jdc_rows, jdc_address_count) = jdc_group.map_or((0, 0), |g| (g.rows, g.addresses));
        let listed = groups.len() as u64;
        let mut agents: Vec<AgentCount> = groups
            .into_iter()
            .map(|g| AgentCount {
                from_reports: reports.names(&g.user_agent),
                user_agent: g.user_agent,
                rows: g.rows,
                addresses: g.addresses,
                hash_rate: finite(g.hash_rate),
            })
            .collect();
        // The statement lists `jd-client/sv2` first so the bound keeps it;
        // the answer is simply by size.
        agents.sort_by(|a, b| {
            b.rows
                .cmp(&a.rows)
                .then_with(|| a.user_agent.cmp(&b.user_agent))
        });
        let jdc_addresses: Vec<JdcAddress> = jdc
            .into_iter()
            .map(|g| {
                let report = reports.for_address(&g.address);
                JdcAddress {
                    reported: report.is_some(),
                    renames_to: report.flatten().map(str::to_owned),
                    address: g.address,
                    rows: g.rows,
                    since: g.since,
                }
            })
            .collect();
        PoolAgents {
            read_at: read_at.to_owned(),
            max_age,
            rows,
            hash_rate,
            agents,
            more_agents: all_agents.saturating_sub(listed),
            jdc_rows,
            more_jdc_addresses: jdc_address_count.saturating_sub(jdc_addresses.len() as u64),
            jdc_addresses,
            live_reports: reports.reports() as u64,
            reports_complete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(identity: &str, user_agent: Option<&str>) -> JdcSummary {
        JdcSummary {
            identity: identity.into(),
            user_agent: user_agent.map(Into::into),
            miners: 1,
            hash_rate: 1e12,
            received_at: "2026-11-26T00:00:00.000Z".into(),
            expires_at: "2026-11-26T00:05:00.000Z".into(),
            vendors: vec![],
            content: String::new(),
        }
    }

    fn group(user_agent: &str, rows: u64, addresses: u64, hash_rate: f64) -> AgentGroup {
        AgentGroup {
            user_agent: user_agent.into(),
            rows,
            addresses,
            hash_rate,
            agents: 0,
            all_rows: 0,
            all_hash_rate: 0.0,
        }
    }

    /// Groups as D1 returns them: the window totals on every row.
    fn with_totals(mut groups: Vec<AgentGroup>, agents: u64) -> Vec<AgentGroup> {
        let rows = groups.iter().map(|g| g.rows).sum::<u64>() + 7;
        let hash_rate = groups.iter().map(|g| g.hash_rate).sum::<f64>() + 1e12;
        for g in &mut groups {
            (g.agents, g.all_rows, g.all_hash_rate) = (agents, rows, hash_rate);
        }
        groups
    }

    #[test]
    fn live_reports_are_found_by_address_whatever_the_worker_suffix() {
        let index = LiveReports::of(&[
            summary("bc1qa.rig1", None),
            summary("bc1qa.rig2", Some("bitaxe/sv2")),
            summary("bc1qa-other", Some("NerdQAxe++/sv2")),
            summary("bc1qb", Some("bitaxe/sv2")),
            summary("bc1qc.x", None),
        ]);
        assert_eq!(index.reports(), 5);
        assert_eq!(index.for_address("bc1qa"), Some(Some("bitaxe/sv2")));
        assert_eq!(
            index.for_address("bc1qa-other"),
            Some(Some("NerdQAxe++/sv2"))
        );
        assert_eq!(index.for_address("bc1qb"), Some(Some("bitaxe/sv2")));
        assert_eq!(index.for_address("bc1qc"), Some(None));
        for absent in ["bc1q", "bc1qa.rig1", "bc1qd", ""] {
            assert_eq!(index.for_address(absent), None, "{absent}");
        }
        assert!(index.names("bitaxe/sv2") && index.names("NerdQAxe++/sv2"));
        assert!(!index.names(JDC_USER_AGENT) && !index.names("bitaxe"));
    }

    #[test]
    fn unsorted_identities_index_the_same() {
        let identities = ["zz.1", "a.2", "m", "a-b", "a.1", "m.9"];
        let sorted = {
            let mut s = identities;
            s.sort();
            s
        };
        let of = |ids: &[&str]| {
            LiveReports::of(
                &ids.iter()
                    .map(|i| summary(i, Some("x/sv2")))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(of(&identities), of(&sorted));
        assert_eq!(of(&identities).addresses.len(), 4);
    }

    #[test]
    fn the_answer_joins_the_table_with_the_reports() {
        let reports = LiveReports::of(&[
            summary("bc1qrep.rig", Some("bitaxe/sv2")),
            summary("bc1qnovendor", None),
            summary("bc1qelse", Some("Braiins OS/sv2")),
        ]);
        let groups = with_totals(
            vec![
                group(JDC_USER_AGENT, 4, 3, 1e12),
                group("bitaxe/sv2", 9, 2, 5e12),
                group("cgminer/4.11", 4, 4, 2e12),
            ],
            5,
        );
        let jdc = vec![
            JdcGroup {
                address: "bc1qnever".into(),
                rows: 2,
                since: "2026-11-20T00:00:00Z".into(),
            },
            JdcGroup {
                address: "bc1qrep".into(),
                rows: 1,
                since: "2026-11-26T00:00:00Z".into(),
            },
        ];
        let a = PoolAgents::assemble(groups, jdc, &reports, true, "2026-11-26T01:00:00.000Z", 60);
        assert_eq!((a.rows, a.hash_rate), (24, 9e12));
        assert_eq!(a.more_agents, 2);
        let agents: Vec<(&str, u64, bool)> = a
            .agents
            .iter()
            .map(|g| (g.user_agent.as_str(), g.rows, g.from_reports))
            .collect();
        assert_eq!(
            agents,
            [
                ("bitaxe/sv2", 9, true),
                ("cgminer/4.11", 4, false),
                (JDC_USER_AGENT, 4, false)
            ]
        );
        assert_eq!((a.jdc_rows, a.more_jdc_addresses), (4, 1));
        let jdcs: Vec<(&str, bool, Option<&str>)> = a
            .jdc_addresses
            .iter()
            .map(|j| (j.address.as_str(), j.reported, j.renames_to.as_deref()))
            .collect();
        assert_eq!(
            jdcs,
            [
                ("bc1qnever", false, None),
                ("bc1qrep", true, Some("bitaxe/sv2"))
            ]
        );
        assert_eq!((a.live_reports, a.reports_complete), (3, true));
    }

    #[test]
    fn an_empty_table_is_an_empty_answer_and_sums_stay_numbers() {
        let a = PoolAgents::assemble(vec![], vec![], &LiveReports::default(), true, "t", 60);
        assert_eq!((a.rows, a.jdc_rows, a.more_agents), (0, 0, 0));
        assert!(a.agents.is_empty() && a.jdc_addresses.is_empty());
        let mut huge = with_totals(vec![group("x", 1, 1, f64::INFINITY)], 1);
        huge[0].all_hash_rate = f64::INFINITY;
        let a = PoolAgents::assemble(huge, vec![], &LiveReports::default(), true, "t", 60);
        assert_eq!((a.hash_rate, a.agents[0].hash_rate), (f64::MAX, f64::MAX));
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<PoolAgents>(&text).unwrap(), a);
    }

    #[test]
    fn the_answer_travels_in_camel_case() {
        let a = PoolAgents::assemble(
            with_totals(vec![group(JDC_USER_AGENT, 1, 1, 0.0)], 1),
            vec![JdcGroup {
                address: "bc1q".into(),
                rows: 1,
                since: "s".into(),
            }],
            &LiveReports::default(),
            false,
            "t",
            60,
        );
        let v = serde_json::to_value(&a).unwrap();
        for member in [
            "readAt",
            "maxAge",
            "moreAgents",
            "jdcRows",
            "jdcAddresses",
            "moreJdcAddresses",
            "liveReports",
            "reportsComplete",
        ] {
            assert!(v.get(member).is_some(), "{member} in {v}");
        }
        assert_eq!(v["agents"][0]["fromReports"], false);
        assert_eq!(v["jdcAddresses"][0]["renamesTo"], serde_json::Value::Null);
        assert_eq!(serde_json::from_value::<PoolAgents>(v).unwrap(), a);
    }
}
