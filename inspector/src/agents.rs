//! The "Agents" panel's data: what the pool's own client table says
//! (`GET /api/agents`: live rows by `userAgent`, the addresses still
//! connected as `jd-client/sv2`), read into the shared types (by
//! [`decode::agents`]), and what the panel derives from it. Pure, so tested
//! natively; the panel itself is `view::agents` (browser only).
//!
//! The Worker reads the table at most once a minute per data centre, so the
//! answer can be a minute old. Whether an address reports is fresher on the
//! page: the JDC list polls every live report every few seconds. So the
//! panel takes "does this address report" from those live reports once it
//! has them, and the answer's own flag only before: an address that starts
//! reporting leaves the "not reporting" list at the next poll, even while
//! its renamed rows are still a cached minute away.

use chrono::{DateTime, Utc};
use dmr_shared::agents::{LiveReports, PoolAgents};
use dmr_shared::JDC_USER_AGENT;

use crate::api::{self, ApiError};
use crate::breakdown::fraction;
use crate::decode::{self, Json};
use crate::format;
use crate::timing::parse_time;

/// Seconds between two reads of `/api/agents`: the Worker caches the answer
/// for up to a minute, so polling as often as the JDC list would only fetch
/// the same answer again.
pub const AGENTS_REFRESH_SECS: u64 = 30;

/// Reads an answer of `GET /api/agents` (`body`: the parsed JSON, `None` if
/// it did not parse): the pool's rows, or the problem's explanation.
pub fn parse_agents<J: Json>(status: u16, body: Option<J>) -> Result<PoolAgents, ApiError> {
    api::parse(status, body, decode::agents)
}

/// One answer, and how old its data was when it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub agents: PoolAgents,
    /// Seconds since the Worker read D1 (`readAt`), when it arrived.
    pub age_secs: i64,
    /// Browser time the answer arrived.
    pub fetched_at: DateTime<Utc>,
}

impl Fetched {
    /// `agents` as it arrived at `fetched_at`: its age from `readAt` on the
    /// browser clock, as the page reads every time the pool sends (a clock
    /// behind the pool's reads as 0).
    pub fn new(agents: PoolAgents, fetched_at: DateTime<Utc>) -> Self {
        let age_secs = parse_time(&agents.read_at)
            .map_or(0, |t| (fetched_at - t).num_seconds())
            .max(0);
        Fetched {
            agents,
            age_secs,
            fetched_at,
        }
    }

    /// Seconds since the pool read its table, at `now`: from the age on
    /// arrival onwards, so a browser clock that jumps back never makes the
    /// data look younger than it was.
    pub fn age_at(&self, now: DateTime<Utc>) -> i64 {
        self.age_secs + (now - self.fetched_at).num_seconds().max(0)
    }
}

/// One bar of the chart: a `userAgent` and its live rows.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentBar {
    /// The `userAgent`, or `None` for the agents beyond the answer's bound.
    pub user_agent: Option<String>,
    /// How many agents the bar folds: 0 for a single `userAgent`.
    pub folded: u64,
    pub rows: u64,
    /// Distinct addresses; `None` for the folded rest (addresses repeat
    /// across agents, so they do not add up).
    pub addresses: Option<u64>,
    pub hash_rate: f64,
    /// Share of all live rows, 0..=1.
    pub share: f64,
    /// A live report renames rows to this name.
    pub from_reports: bool,
    /// The anonymous JDC agent, `jd-client/sv2`.
    pub jdc: bool,
}

/// The chart's bars, most rows first, then the agents beyond the bound as
/// one. An agent is marked as coming from reports if the answer says so or a
/// live report the page sees now names it (`reports`).
pub fn bars(agents: &PoolAgents, reports: Option<&LiveReports>) -> Vec<AgentBar> {
    let total = agents.rows as f64;
    let mut bars: Vec<AgentBar> = agents
        .agents
        .iter()
        .map(|a| AgentBar {
            user_agent: Some(a.user_agent.clone()),
            folded: 0,
            rows: a.rows,
            addresses: Some(a.addresses),
            hash_rate: a.hash_rate,
            share: fraction(a.rows as f64, total),
            from_reports: a.from_reports || reports.is_some_and(|r| r.names(&a.user_agent)),
            jdc: a.user_agent == JDC_USER_AGENT,
        })
        .collect();
    if agents.more_agents > 0 {
        let rows = agents
            .rows
            .saturating_sub(bars.iter().map(|b| b.rows).sum::<u64>());
        bars.push(AgentBar {
            user_agent: None,
            folded: agents.more_agents,
            rows,
            addresses: None,
            hash_rate: agents.hash_rate - bars.iter().map(|b| b.hash_rate).sum::<f64>(),
            share: fraction(rows as f64, total),
            from_reports: false,
            jdc: false,
        });
    }
    bars
}

/// Where an address with live `jd-client/sv2` rows stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JdcStatus {
    /// No live report: connected as a JDC, never reported (older JDC,
    /// reporting off, wrong URL).
    NotReporting,
    /// It reports; these rows connected after its last report and the next
    /// one renames them to this.
    Renaming(String),
    /// It reports, but its miners name no vendor: nothing is renamed.
    NoVendor,
}

/// One listed JDC address, as the panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct JdcLine {
    pub address: String,
    pub rows: u64,
    /// The oldest `startTime` of its rows, as the table has it.
    pub since: String,
    /// The same, read as a time; `None` if it is not RFC 3339.
    pub connected_at: Option<DateTime<Utc>>,
    pub status: JdcStatus,
}

/// The listed JDC addresses, longest connected first, with their status
/// from `reports` (the live reports the page sees now) when the page has
/// them, else from the answer.
pub fn jdc_lines(agents: &PoolAgents, reports: Option<&LiveReports>) -> Vec<JdcLine> {
    agents
        .jdc_addresses
        .iter()
        .map(|j| {
            let report = match reports {
                Some(r) => r.for_address(&j.address).map(|to| to.map(str::to_owned)),
                None => j.reported.then(|| j.renames_to.clone()),
            };
            JdcLine {
                address: j.address.clone(),
                rows: j.rows,
                since: j.since.clone(),
                connected_at: parse_time(&j.since),
                status: match report {
                    None => JdcStatus::NotReporting,
                    Some(Some(to)) => JdcStatus::Renaming(to),
                    Some(None) => JdcStatus::NoVendor,
                },
            }
        })
        .collect()
}

/// How long an address has been connected, to the minute: `0 min`,
/// `40 min`, then as [`format::duration`] (`2 h 03 min`, `4 d 06 h`). The
/// panel redraws its lists once a minute, not every second.
pub fn connected_for(secs: i64) -> String {
    if secs < 3600 {
        format!("{} min", secs.max(0) / 60)
    } else {
        format::duration(secs)
    }
}

/// The filter box of the "not reporting" list: a case-insensitive part of
/// the address (ASCII folding: addresses are ASCII).
pub fn address_matches(query: &str, address: &str) -> bool {
    let needle = query.trim().as_bytes();
    needle.is_empty()
        || (needle.len() <= address.len()
            && address
                .as_bytes()
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle)))
}

/// Reads `/api/agents` on this origin (with the read token if the page has
/// one, never from the browser's cache).
#[cfg(target_arch = "wasm32")]
pub async fn fetch_agents() -> Result<Fetched, ApiError> {
    let (status, _, body) = api::get(dmr_shared::api::AGENTS_PATH).await?;
    Ok(Fetched::new(parse_agents(status, body)?, Utc::now()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{agents_answer as answer, miner, summary, t};
    use serde_json::{json, Value};

    #[test]
    fn an_error_answer_shows_the_problem_detail() {
        let problem = json!({"type": "about:blank", "title": "Storage unavailable", "status": 503,
            "detail": "the pool's client database is unavailable; nothing was stored or renamed, retry later",
            "success": false});
        assert_eq!(
            parse_agents(503, Some(problem)),
            Err(ApiError::Status {
                status: 503,
                detail: "the pool's client database is unavailable; nothing was stored or renamed, retry later".into()
            })
        );
        assert_eq!(
            parse_agents::<Value>(502, None),
            Err(ApiError::Status {
                status: 502,
                detail: "HTTP 502".into()
            })
        );
        assert!(matches!(
            parse_agents::<Value>(200, None),
            Err(ApiError::Unreadable(_))
        ));
    }

    #[test]
    fn the_age_counts_from_read_at_then_on_the_browser_clock() {
        // readAt is 02:00:00.
        let at = t("2026-11-26T02:00:12Z");
        let f = Fetched::new(answer(), at);
        assert_eq!(f.age_at(at), 12);
        assert_eq!(f.age_at(t("2026-11-26T02:00:42Z")), 42);
        assert_eq!(f.age_at(t("2026-11-26T01:00:00Z")), 12, "clock jumped back");
        assert_eq!(
            Fetched::new(answer(), t("2026-11-26T01:59:00Z")).age_secs,
            0
        );
        let mut odd = answer();
        odd.read_at = "soon".into();
        assert_eq!(Fetched::new(odd, at).age_secs, 0);
    }

    #[test]
    fn bars_by_rows_mark_reported_agents_and_fold_the_rest() {
        let a = answer();
        let b = bars(&a, None);
        let shown: Vec<(Option<&str>, u64, bool, bool)> = b
            .iter()
            .map(|b| (b.user_agent.as_deref(), b.rows, b.from_reports, b.jdc))
            .collect();
        assert_eq!(
            shown,
            [
                (Some("bitaxe/sv2"), 8, true, false),
                (Some(JDC_USER_AGENT), 5, false, true),
                (Some("NerdQAxe++/sv2"), 2, false, false),
                (None, 5, false, false),
            ]
        );
        assert_eq!((b[0].share, b[3].share, b[3].hash_rate), (0.4, 0.25, 2e12));
        assert_eq!((b[3].addresses, b[3].folded, b[0].folded), (None, 2, 0));
        // A live report the page sees now marks its agent too.
        let live = LiveReports::of(&[summary(
            "bc1qn",
            "2026-11-26T02:00:00Z",
            vec![miner("NerdQAxe++", 1.0, "w")],
        )]);
        assert!(bars(&a, Some(&live))[2].from_reports);
    }

    #[test]
    fn live_reports_on_the_page_decide_who_is_not_reporting() {
        let a = answer();
        let status = |reports: Option<&LiveReports>| {
            jdc_lines(&a, reports)
                .into_iter()
                .map(|l| (l.address, l.status))
                .collect::<Vec<_>>()
        };
        // Before the page has live reports: the answer's flags.
        assert_eq!(
            status(None),
            [
                ("bc1qsilent".to_string(), JdcStatus::NotReporting),
                (
                    "bc1qNew".to_string(),
                    JdcStatus::Renaming("bitaxe/sv2".into())
                ),
            ]
        );
        // Silent started reporting (no vendor named), New's report expired.
        let live = LiveReports::of(&[summary("bc1qsilent.rig", "2026-11-26T02:00:00Z", vec![])]);
        assert_eq!(
            status(Some(&live)),
            [
                ("bc1qsilent".to_string(), JdcStatus::NoVendor),
                ("bc1qNew".to_string(), JdcStatus::NotReporting),
            ]
        );
        let lines = jdc_lines(&a, None);
        assert_eq!(lines[0].connected_at, Some(t("2026-11-22T02:00:00Z")));
        let mut odd = a.clone();
        odd.jdc_addresses[0].since = "1764000000".into();
        assert_eq!(jdc_lines(&odd, None)[0].connected_at, None);
    }

    #[test]
    fn connected_times_read_to_the_minute() {
        for (secs, want) in [
            (-5, "0 min"),
            (59, "0 min"),
            (2_412, "40 min"),
            (3_600, "1 h 00 min"),
            (4 * 86_400 + 6 * 3_600 + 59, "4 d 06 h"),
        ] {
            assert_eq!(connected_for(secs), want, "{secs}");
        }
    }

    #[test]
    fn the_filter_matches_part_of_an_address_in_any_case() {
        for (query, address, want) in [
            ("", "bc1qa", true),
            ("  ", "bc1qa", true),
            ("1QA", "bc1qa", true),
            (" qa ", "bc1qa", true),
            ("bc1qab", "bc1qa", false),
            ("x", "bc1qa", false),
        ] {
            assert_eq!(address_matches(query, address), want, "{query:?} {address}");
        }
    }
}
