//! Schema v1 of a downstream report, field for field as in the protocol
//! (`camelCase` on the wire).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// A time as the pool writes it: RFC 3339 in one fixed shape (UTC,
/// milliseconds, `Z`), so stored times also sort as strings.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The only schema version this crate understands.
pub const SCHEMA_VERSION: u64 = 1;

/// One report: the miners connected to a JDC at `timestamp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u64,
    /// The `user_identity` the JDC connects to the pool with; its part before
    /// the first `.` is the pool's `address` (see [`crate::address_of`]).
    pub jdc_user_identity: String,
    /// When the JDC built the report (RFC 3339). Kept as sent, so a stored
    /// report reads back byte for byte.
    pub timestamp: String,
    /// The miners connected right now; may be empty.
    pub miners: Vec<Miner>,
}

/// One downstream device, as the JDC learnt it from `SetupConnection` and the
/// channel it opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Miner {
    /// `SetupConnection.vendor`; may be empty.
    pub vendor: String,
    /// `SetupConnection.hardware_version`; may be empty.
    pub hardware_version: String,
    /// `SetupConnection.firmware`; may be empty.
    pub firmware: String,
    /// `SetupConnection.device_id`; may be empty.
    pub device_id: String,
    /// Self-reported hash rate in H/s from the channel open message.
    pub nominal_hash_rate: f64,
    /// The worker identity the channel was opened with.
    pub user_identity: String,
    /// When the miner connected to the JDC (RFC 3339).
    pub connected_at: String,
}

impl Report {
    /// Sum of the miners' nominal hash rates, in H/s.
    pub fn total_hash_rate(&self) -> f64 {
        self.miners.iter().map(|m| m.nominal_hash_rate).sum()
    }
}

/// A report as the pool keeps it and serves it back: the report as received,
/// plus what the pool derived from it. Serialises flat, so each stored report
/// is still a schema v1 report for clients that know nothing more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StoredReport {
    #[serde(flatten)]
    pub report: Report,
    /// When the pool received it (RFC 3339, UTC).
    pub received_at: String,
    /// When the pool forgets it unless a newer report arrives (RFC 3339, UTC).
    pub expires_at: String,
    /// The `userAgent` this report renames `jd-client/sv2` rows to; `null`
    /// when no miner names a vendor.
    pub user_agent: Option<String>,
}
