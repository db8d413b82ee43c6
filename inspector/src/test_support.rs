//! What the crate's tests build their cases from: times, the stored
//! reports and summaries the pool would serve for miners made with
//! [`dmr_shared::testing`], and an answer of `GET /api/agents`.

use chrono::{DateTime, Duration, Utc};
use dmr_shared::agents::{AgentCount, JdcAddress, PoolAgents};
use dmr_shared::{JdcSummary, Miner, StoredReport, JDC_USER_AGENT};

pub(crate) use dmr_shared::testing::miner;

/// An RFC 3339 time that must parse.
pub(crate) fn t(s: &str) -> DateTime<Utc> {
    crate::timing::parse_time(s).expect("an RFC 3339 time")
}

/// A stored report of `identity` received at `received` (expiring 300 s
/// later), with its derived `userAgent`.
pub(crate) fn stored(identity: &str, received: &str, miners: Vec<Miner>) -> StoredReport {
    let user_agent = dmr_shared::user_agent_for(&miners);
    StoredReport {
        report: dmr_shared::Report {
            timestamp: received.into(),
            ..dmr_shared::testing::report(identity, miners)
        },
        received_at: received.into(),
        expires_at: dmr_shared::rfc3339(t(received) + Duration::seconds(300)),
        user_agent,
    }
}

/// The summary the pool lists for that report.
pub(crate) fn summary(identity: &str, received: &str, miners: Vec<Miner>) -> JdcSummary {
    let s = stored(identity, received, miners);
    JdcSummary {
        identity: identity.into(),
        ..JdcSummary::of(&s.report, s.user_agent, &s.received_at, &s.expires_at)
    }
}

/// An answer of `GET /api/agents`: three agents and two more folded, two
/// JDC addresses listed (one silent, one renaming) and one more.
pub(crate) fn agents_answer() -> PoolAgents {
    PoolAgents {
        read_at: "2026-11-26T02:00:00.000Z".into(),
        max_age: 60,
        rows: 20,
        hash_rate: 10e12,
        agents: vec![
            AgentCount {
                user_agent: "bitaxe/sv2".into(),
                rows: 8,
                addresses: 3,
                hash_rate: 4e12,
                from_reports: true,
            },
            AgentCount {
                user_agent: JDC_USER_AGENT.into(),
                rows: 5,
                addresses: 3,
                hash_rate: 3e12,
                from_reports: false,
            },
            AgentCount {
                user_agent: "NerdQAxe++/sv2".into(),
                rows: 2,
                addresses: 1,
                hash_rate: 1e12,
                from_reports: false,
            },
        ],
        more_agents: 2,
        jdc_rows: 5,
        jdc_addresses: vec![
            JdcAddress {
                address: "bc1qsilent".into(),
                rows: 3,
                since: "2026-11-22T02:00:00Z".into(),
                reported: false,
                renames_to: None,
            },
            JdcAddress {
                address: "bc1qNew".into(),
                rows: 1,
                since: "2026-11-26T01:59:00Z".into(),
                reported: true,
                renames_to: Some("bitaxe/sv2".into()),
            },
        ],
        more_jdc_addresses: 1,
        live_reports: 4,
        reports_complete: true,
    }
}
