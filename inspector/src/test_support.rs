//! What the crate's tests build their cases from: times, and the stored
//! reports and summaries the pool would serve for miners made with
//! [`dmr_shared::testing`].

use chrono::{DateTime, Duration, Utc};
use dmr_shared::{JdcSummary, Miner, StoredReport};

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
