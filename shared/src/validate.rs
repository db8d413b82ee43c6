//! Untrusted JSON in, a [`Report`] out, or an error that names the field and
//! says what is wrong with it.
//!
//! [`parse_report`] reads a body straight into a [`Report`] (`decode`), in
//! one pass and without building a tree of the JSON, checking every value as
//! it goes. [`validate_report`] applies the same value rules to a report
//! built in code, so the JDC side checks what it sends with the rules the
//! pool applies. Both use the rules below, and a body earns the same error
//! whatever the order of its members:
//!
//! - nesting deeper than the limit is [`ReportError::Invalid`] (HTTP 422,
//!   `body`), found before anything is parsed;
//! - a body that is not strict JSON (see [`crate::json`]) is
//!   [`ReportError::Malformed`] (HTTP 400), whatever else is wrong with it;
//! - otherwise the first problem in this order is [`ReportError::Invalid`]
//!   (HTTP 422): an object with too many members, then the shape (a missing
//!   or mistyped `schemaVersion`, `miners`, `jdcUserIdentity`, `timestamp`,
//!   then each miner's members in index order), then the values in the same
//!   order.

mod decode;

use std::fmt;

use chrono::DateTime;

use crate::identity::identity_problem;
use crate::limits::{
    MAX_FIELD_LEN, MAX_IDENTITY_LEN, MAX_MINERS, MAX_NOMINAL_HASH_RATE, MAX_TIMESTAMP_LEN,
};
use crate::report::{Miner, Report, SCHEMA_VERSION};

/// Why a report was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    /// The body is not JSON, or repeats a key within an object.
    Malformed(String),
    /// The body is JSON but `field` breaks the schema.
    Invalid { field: String, problem: String },
}

impl ReportError {
    fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ReportError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The offending field (`miners[2].vendor`), when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ReportError::Malformed(_) => None,
            ReportError::Invalid { field, .. } => Some(field),
        }
    }

    /// What is wrong, without the field's name.
    pub fn problem(&self) -> &str {
        match self {
            ReportError::Malformed(why) => why,
            ReportError::Invalid { problem, .. } => problem,
        }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Malformed(why) => write!(f, "the body is not valid JSON: {why}"),
            ReportError::Invalid { field, problem } => write!(f, "{field}: {problem}"),
        }
    }
}

impl std::error::Error for ReportError {}

/// Parses and validates a report body: strict JSON (see [`crate::json`]),
/// the schema and every value, in one pass.
pub fn parse_report(body: &[u8]) -> Result<Report, ReportError> {
    decode::report(body)
}

/// Checks every value of a report against the protocol's rules and this
/// crate's [limits](crate::limits).
pub fn validate_report(report: &Report) -> Result<(), ReportError> {
    if report.schema_version != SCHEMA_VERSION {
        return Err(ReportError::invalid(
            "schemaVersion",
            unsupported_version(report.schema_version),
        ));
    }
    validate_identity(&report.jdc_user_identity)?;
    if let Some(problem) = timestamp_problem(&report.timestamp) {
        return Err(ReportError::invalid("timestamp", problem));
    }
    if report.miners.len() > MAX_MINERS {
        return Err(ReportError::invalid(
            "miners",
            too_many_miners(report.miners.len()),
        ));
    }
    for (i, miner) in report.miners.iter().enumerate() {
        validate_miner(i, miner)?;
    }
    Ok(())
}

/// Checks a `jdcUserIdentity` on its own, by the rules a report's is held
/// to: for a path that names one, or an identity a JDC is about to report as.
/// The error blames `jdcUserIdentity`.
pub fn validate_identity(identity: &str) -> Result<(), ReportError> {
    match identity_text_problem(identity) {
        Some(problem) => Err(ReportError::invalid("jdcUserIdentity", problem)),
        None => Ok(()),
    }
}

/// A miner's string members, in the order they are checked, with their
/// values.
fn miner_texts(miner: &Miner) -> [(&'static str, &str); 5] {
    [
        ("vendor", &miner.vendor),
        ("hardwareVersion", &miner.hardware_version),
        ("firmware", &miner.firmware),
        ("deviceId", &miner.device_id),
        ("userIdentity", &miner.user_identity),
    ]
}

fn validate_miner(i: usize, miner: &Miner) -> Result<(), ReportError> {
    let field = |name: &str| format!("miners[{i}].{name}");
    for (name, value) in miner_texts(miner) {
        if let Some(problem) = text_problem(value, MAX_FIELD_LEN) {
            return Err(ReportError::invalid(field(name), problem));
        }
    }
    if let Some(problem) = hash_rate_problem(miner.nominal_hash_rate) {
        return Err(ReportError::invalid(field("nominalHashRate"), problem));
    }
    if let Some(problem) = timestamp_problem(&miner.connected_at) {
        return Err(ReportError::invalid(field("connectedAt"), problem));
    }
    if let Some(problem) = miner
        .via
        .as_deref()
        .and_then(|v| text_problem(v, MAX_FIELD_LEN))
    {
        return Err(ReportError::invalid(field("via"), problem));
    }
    Ok(())
}

fn unsupported_version(version: impl fmt::Display) -> String {
    format!("unsupported schemaVersion {version} (this version understands {SCHEMA_VERSION})")
}

fn too_many_miners(count: usize) -> String {
    format!("has {count} entries; at most {MAX_MINERS} are accepted")
}

fn too_long(len: usize, max: usize) -> String {
    format!("is {len} bytes long; at most {max} are accepted")
}

/// Length in bytes and no control characters: these strings end up in KV
/// keys, logs and other people's dashboards.
fn text_problem(value: &str, max: usize) -> Option<String> {
    if value.len() > max {
        return Some(too_long(value.len(), max));
    }
    if value.chars().any(char::is_control) {
        return Some("must not contain control characters".into());
    }
    None
}

/// A `jdcUserIdentity`'s problem: a string's rules, then an identity's
/// ([`identity_problem`]).
fn identity_text_problem(identity: &str) -> Option<String> {
    text_problem(identity, MAX_IDENTITY_LEN).or_else(|| identity_problem(identity))
}

fn timestamp_problem(value: &str) -> Option<String> {
    if let Some(problem) = text_problem(value, MAX_TIMESTAMP_LEN) {
        return Some(problem);
    }
    let not_rfc3339 = |why: &dyn fmt::Display| {
        format!("{value:?} is not an RFC 3339 timestamp like 2026-02-15T12:00:00Z ({why})")
    };
    if let Err(e) = DateTime::parse_from_rfc3339(value) {
        return Some(not_rfc3339(&e));
    }
    // chrono also takes a space for the `T`, which RFC 3339's grammar (and
    // JSON Schema's date-time) does not.
    if !matches!(value.as_bytes().get(10), Some(b'T' | b't')) {
        return Some(not_rfc3339(&"date and time must be separated by T"));
    }
    None
}

fn hash_rate_problem(rate: f64) -> Option<String> {
    if !rate.is_finite() || rate < 0.0 {
        return Some(format!("must be a finite number >= 0, got {rate}"));
    }
    if rate > MAX_NOMINAL_HASH_RATE {
        return Some(format!(
            "{rate:e} H/s is more than the {MAX_NOMINAL_HASH_RATE:e} H/s any miner can claim"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn valid() -> Value {
        json!({
            "schemaVersion": 1,
            "jdcUserIdentity": "bc1qexample.jdc1",
            "timestamp": "2026-02-15T12:00:00Z",
            "miners": [{
                "vendor": "bitaxe",
                "hardwareVersion": "BM1370",
                "firmware": "",
                "deviceId": "",
                "nominalHashRate": 1000000000000u64,
                "userIdentity": "bc1qexample.bitaxe",
                "connectedAt": "2026-02-15T11:30:00.123+01:00"
            }]
        })
    }

    fn parse(value: &Value) -> Result<Report, ReportError> {
        parse_report(value.to_string().as_bytes())
    }

    /// Applies `edit` to a valid report and expects `field` to be blamed.
    fn rejects(edit: impl FnOnce(&mut Value), field: &str, problem_contains: &str) {
        let mut value = valid();
        edit(&mut value);
        match parse(&value) {
            Err(ReportError::Invalid { field: f, problem }) => {
                assert_eq!(f, field, "problem was {problem:?}");
                assert!(
                    problem.contains(problem_contains),
                    "{field}: {problem:?} does not mention {problem_contains:?}"
                );
            }
            other => panic!("expected {field} to be rejected, got {other:?}"),
        }
    }

    #[test]
    fn the_spec_example_is_valid() {
        let report = parse(&valid()).unwrap();
        assert_eq!(report.jdc_user_identity, "bc1qexample.jdc1");
        assert_eq!(report.miners[0].nominal_hash_rate, 1e12);
        assert_eq!(
            report.miners[0].connected_at,
            "2026-02-15T11:30:00.123+01:00"
        );
    }

    #[test]
    fn empty_miners_and_empty_optional_strings_are_valid() {
        let mut v = valid();
        v["miners"] = json!([]);
        assert!(parse(&v).unwrap().miners.is_empty());
        let mut v = valid();
        for key in [
            "vendor",
            "hardwareVersion",
            "firmware",
            "deviceId",
            "userIdentity",
        ] {
            v["miners"][0][key] = json!("");
        }
        assert!(parse(&v).is_ok());
    }

    #[test]
    fn hash_rates_as_huge_integers_and_floats_are_valid() {
        // As JSON text: an integer above u64::MAX cannot be built with json!.
        for rate in [
            "0",
            "1e20",
            "100000000000000000000",
            "1.5e12",
            "13500000000000.0",
        ] {
            let body = valid().to_string().replace("1000000000000", rate);
            let report = parse_report(body.as_bytes()).unwrap_or_else(|e| panic!("{rate}: {e}"));
            assert_eq!(
                report.miners[0].nominal_hash_rate,
                rate.parse::<f64>().unwrap()
            );
        }
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let mut v = valid();
        v["extra"] = json!({"nested": true});
        v["miners"][0]["temperature"] = json!(61.5);
        assert_eq!(parse(&v).unwrap(), parse(&valid()).unwrap());
    }

    #[test]
    fn bad_fields_are_named() {
        type Edit = fn(&mut Value);
        let cases: &[(Edit, &str, &str)] = &[
            (
                |v| v["schemaVersion"] = json!(2),
                "schemaVersion",
                "unsupported schemaVersion 2",
            ),
            (
                |v| v["schemaVersion"] = json!("1"),
                "schemaVersion",
                "expected the integer 1",
            ),
            (
                |v| v["schemaVersion"] = json!(1.5),
                "schemaVersion",
                "expected the integer 1",
            ),
            (
                |v| {
                    v.as_object_mut().unwrap().remove("schemaVersion");
                },
                "schemaVersion",
                "required",
            ),
            (
                |v| {
                    v.as_object_mut().unwrap().remove("jdcUserIdentity");
                },
                "jdcUserIdentity",
                "required",
            ),
            (
                |v| v["jdcUserIdentity"] = json!(""),
                "jdcUserIdentity",
                "must not be empty",
            ),
            (
                |v| v["jdcUserIdentity"] = json!(42),
                "jdcUserIdentity",
                "expected a string",
            ),
            (
                |v| v["jdcUserIdentity"] = json!("bc1q x"),
                "jdcUserIdentity",
                "whitespace",
            ),
            (
                |v| v["jdcUserIdentity"] = json!("a".repeat(257)),
                "jdcUserIdentity",
                "at most 256",
            ),
            (
                |v| v["jdcUserIdentity"] = json!(".rig1"),
                "jdcUserIdentity",
                "has no address",
            ),
            (
                |v| v["jdcUserIdentity"] = json!("."),
                "jdcUserIdentity",
                "has no address",
            ),
            (
                |v| v["jdcUserIdentity"] = json!("bc1qexample.jdc1\u{200b}"),
                "jdcUserIdentity",
                "U+200B",
            ),
            (
                |v| v["jdcUserIdentity"] = json!("\u{202e}1cdj.elpmaxeq1cb"),
                "jdcUserIdentity",
                "U+202E",
            ),
            (
                |v| v["jdcUserIdentity"] = json!("bc1qexample\u{2029}jdc1"),
                "jdcUserIdentity",
                "whitespace",
            ),
            (
                |v| v["timestamp"] = json!("yesterday"),
                "timestamp",
                "RFC 3339",
            ),
            (
                |v| v["timestamp"] = json!("2026-02-15"),
                "timestamp",
                "RFC 3339",
            ),
            (
                |v| v["timestamp"] = json!(1739620800),
                "timestamp",
                "expected a string",
            ),
            (|v| v["miners"] = json!({}), "miners", "expected an array"),
            (|v| v["miners"] = json!(null), "miners", "expected an array"),
            (
                |v| v["miners"][0] = json!("bitaxe"),
                "miners[0]",
                "expected an object",
            ),
            (
                |v| v["miners"][0]["vendor"] = json!(null),
                "miners[0].vendor",
                "expected a string",
            ),
            (
                |v| {
                    v["miners"][0].as_object_mut().unwrap().remove("deviceId");
                },
                "miners[0].deviceId",
                "required",
            ),
            (
                |v| v["miners"][0]["firmware"] = json!("x".repeat(256)),
                "miners[0].firmware",
                "at most 255",
            ),
            (
                |v| v["miners"][0]["vendor"] = json!("bit\u{0}axe"),
                "miners[0].vendor",
                "control",
            ),
            (
                |v| v["miners"][0]["nominalHashRate"] = json!(-1),
                "miners[0].nominalHashRate",
                ">= 0",
            ),
            (
                |v| v["miners"][0]["nominalHashRate"] = json!(1.7e308),
                "miners[0].nominalHashRate",
                "any miner can claim",
            ),
            (
                |v| v["miners"][0]["nominalHashRate"] = json!("1e12"),
                "miners[0].nominalHashRate",
                "expected a number",
            ),
            (
                |v| v["miners"][0]["connectedAt"] = json!(""),
                "miners[0].connectedAt",
                "RFC 3339",
            ),
            (
                |v| v["miners"][0]["userIdentity"] = json!(["a"]),
                "miners[0].userIdentity",
                "expected a string",
            ),
        ];
        for (edit, field, problem) in cases {
            rejects(edit, field, problem);
        }
    }

    #[test]
    fn unknown_members_are_strict_json_too() {
        // A repeated key inside an unknown member is malformed, as anywhere.
        let mut v = valid();
        v["extra"] = json!([{"a": 1}]);
        let body = v.to_string().replace(r#"{"a":1}"#, r#"{"a":1,"a":2}"#);
        match parse_report(body.as_bytes()) {
            Err(ReportError::Malformed(why)) => assert!(why.contains("duplicate key"), "{why}"),
            other => panic!("{other:?}"),
        }
        // An object with more members than the limit is refused, known or not.
        let members: serde_json::Map<String, Value> = (0..=crate::limits::MAX_OBJECT_MEMBERS)
            .map(|k| (format!("k{k}"), json!(k)))
            .collect();
        let mut v = valid();
        v["extra"] = json!([Value::Object(members.clone())]);
        assert_eq!(parse(&v).unwrap_err().field(), Some("body"));
        let mut v = valid();
        v["miners"][0]["extra"] = Value::Object(members);
        assert_eq!(parse(&v).unwrap_err().field(), Some("body"));
    }

    #[test]
    fn the_first_problem_by_rule_wins_whatever_the_member_order() {
        // A bad version is reported even when it comes last and a miner
        // before it is broken too.
        let body =
            r#"{"miners":[{"vendor":1}],"jdcUserIdentity":"","timestamp":"x","schemaVersion":2}"#;
        assert_eq!(
            parse_report(body.as_bytes()).unwrap_err().field(),
            Some("schemaVersion")
        );
        // A missing member (shape) outranks a bad value that comes first.
        let body = r#"{"schemaVersion":1,"jdcUserIdentity":".x","miners":[]}"#;
        assert_eq!(
            parse_report(body.as_bytes()).unwrap_err().field(),
            Some("timestamp")
        );
        // A syntax error anywhere outranks everything.
        let body = r#"{"schemaVersion":2,"miners":[],"x":tru}"#;
        assert!(matches!(
            parse_report(body.as_bytes()),
            Err(ReportError::Malformed(_))
        ));
        // Among miners, the first by index; within one, the hash rate's
        // shape before the strings'.
        let body = r#"{"schemaVersion":1,"jdcUserIdentity":"a","timestamp":"2026-02-15T12:00:00Z","miners":[{"vendor":"","hardwareVersion":"","firmware":"","deviceId":"","nominalHashRate":1,"userIdentity":"","connectedAt":"2026-02-15T12:00:00Z"},{"vendor":7}]}"#;
        assert_eq!(
            parse_report(body.as_bytes()).unwrap_err().field(),
            Some("miners[1].nominalHashRate")
        );
    }

    #[test]
    fn too_many_miners_are_refused() {
        let mut v = valid();
        let miner = v["miners"][0].clone();
        v["miners"] = Value::Array(vec![miner; MAX_MINERS + 1]);
        match parse(&v) {
            Err(ReportError::Invalid { field, .. }) => assert_eq!(field, "miners"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_body_that_is_not_an_object_or_not_json_is_refused() {
        assert!(matches!(
            parse_report(b"{\"schemaVersion\":"),
            Err(ReportError::Malformed(_))
        ));
        assert!(matches!(parse_report(b""), Err(ReportError::Malformed(_))));
        assert!(matches!(
            parse_report(&[0xff, 0xfe]),
            Err(ReportError::Malformed(_))
        ));
        assert_eq!(parse_report(b"[]").unwrap_err().field(), Some("body"));
    }

    #[test]
    fn a_report_built_in_code_is_checked_by_the_same_rules() {
        let mut report = parse(&valid()).unwrap();
        report.miners[0].nominal_hash_rate = f64::NAN;
        assert_eq!(
            validate_report(&report).unwrap_err().field(),
            Some("miners[0].nominalHashRate")
        );
        report.miners[0].nominal_hash_rate = f64::INFINITY;
        assert!(validate_report(&report).is_err());
    }

    #[test]
    fn a_valid_report_round_trips_through_json() {
        let report = parse(&valid()).unwrap();
        let again = parse_report(serde_json::to_string(&report).unwrap().as_bytes()).unwrap();
        assert_eq!(report, again);
    }
}
