//! Schema v1 of a downstream report, field for field as in the protocol
//! (`camelCase` on the wire).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

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
    /// Written as a JSON integer when it is one (see [`hash_rate`]).
    #[serde(serialize_with = "hash_rate")]
    pub nominal_hash_rate: f64,
    /// The worker identity the channel was opened with.
    pub user_identity: String,
    /// When the miner connected to the JDC (RFC 3339).
    pub connected_at: String,
    /// The proxy the device reached the JDC through, as that proxy named
    /// itself in its `SetupConnection` (`SRI Translator Proxy`); absent for
    /// a device connected to the JDC itself. An addition to schema v1:
    /// readers that do not know it ignore it, and a report without it is
    /// the protocol's report unchanged. The vendor, hardware and firmware
    /// of such a miner are the device's own, learnt from the proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// Writes a hash rate as a JSON integer when it is a whole number that fits
/// a `u64` (`1000000000000`, as the spec's example has it), else as the float
/// it is (`0.5`, `1e20`). Pools that declare the field `u64` (the reference
/// Rust pool does) refuse `1000000000000.0`, and an integer reads back as the
/// same `f64`, so nothing is lost either way.
pub fn hash_rate<S: Serializer>(rate: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    // 2^64 is the first float past u64::MAX; every whole float below it
    // converts exactly.
    const U64_END: f64 = 18_446_744_073_709_551_616.0;
    if rate.fract() == 0.0 && (0.0..U64_END).contains(rate) {
        serializer.serialize_u64(*rate as u64)
    } else {
        serializer.serialize_f64(*rate)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{miner, report};

    fn rate_json(rate: f64) -> String {
        let json = serde_json::to_value(miner("bitaxe", rate, "w")).unwrap();
        json["nominalHashRate"].to_string()
    }

    #[test]
    fn whole_hash_rates_are_json_integers_and_fractions_stay() {
        for (rate, text) in [
            (1e12, "1000000000000"),
            (0.0, "0"),
            (-0.0, "0"),
            (13.5e12, "13500000000000"),
            (18_446_744_073_709_549_568.0, "18446744073709549568"),
            (0.5, "0.5"),
            (1234.25, "1234.25"),
            (18_446_744_073_709_551_616.0, "1.8446744073709552e+19"),
            (1e30, "1e+30"),
        ] {
            assert_eq!(rate_json(rate), text, "{rate}");
        }
    }

    /// The body of a one-miner report whose miner has `via` as given (raw
    /// JSON), or no `via` member at all.
    fn body_with_via(via: Option<&str>) -> String {
        let via = via.map(|v| format!(r#","via":{v}"#)).unwrap_or_default();
        format!(
            r#"{{"schemaVersion":1,"jdcUserIdentity":"bc1q.jdc","timestamp":"2026-02-15T12:00:00Z","miners":[{{"vendor":"bitaxe","hardwareVersion":"BM1370","firmware":"","deviceId":"","nominalHashRate":1,"userIdentity":"w","connectedAt":"2026-02-15T12:00:00Z"{via}}}]}}"#
        )
    }

    #[test]
    fn via_is_optional_and_kept_as_sent() {
        let direct = crate::parse_report(body_with_via(None).as_bytes()).unwrap();
        assert_eq!(direct.miners[0].via, None);
        let text = serde_json::to_string(&direct).unwrap();
        assert!(!text.contains("via"), "absent stays absent: {text}");

        let null = crate::parse_report(body_with_via(Some("null")).as_bytes()).unwrap();
        assert_eq!(null.miners[0].via, None);

        let proxied = body_with_via(Some(r#""SRI Translator Proxy""#));
        let report = crate::parse_report(proxied.as_bytes()).unwrap();
        assert_eq!(
            report.miners[0].via.as_deref(),
            Some("SRI Translator Proxy")
        );
        assert_eq!(serde_json::to_string(&report).unwrap(), proxied);
        crate::validate_report(&report).unwrap();
    }

    #[test]
    fn a_bad_via_is_refused_by_name() {
        for (via, why) in [
            ("7", "expected a string"),
            (r#""a\nb""#, "control characters"),
            (&format!("{:?}", "x".repeat(256)), "at most 255"),
        ] {
            let err = crate::parse_report(body_with_via(Some(via)).as_bytes()).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("miners[0].via") && text.contains(why),
                "{via}: {text}"
            );
        }
        let mut report = crate::parse_report(body_with_via(None).as_bytes()).unwrap();
        report.miners[0].via = Some("a\u{7}b".into());
        let err = crate::validate_report(&report).unwrap_err().to_string();
        assert!(err.contains("miners[0].via"), "{err}");
    }

    #[test]
    fn integers_and_fractions_read_back_to_the_same_float() {
        for rate in [0.0, 1e12, 13.5e12, 0.5, 1e20, 1e30, 123_456_789.123_456_79] {
            let sent = report("bc1q.jdc", vec![miner("bitaxe", rate, "w")]);
            let text = serde_json::to_string(&sent).unwrap();
            let back: Report = serde_json::from_str(&text).unwrap();
            assert_eq!(
                back.miners[0].nominal_hash_rate.to_bits(),
                rate.to_bits(),
                "{text}"
            );
        }
    }
}
