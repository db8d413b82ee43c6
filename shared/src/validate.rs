//! Untrusted JSON in, a [`Report`] out, or an error that names the field and
//! says what is wrong with it.
//!
//! Two steps, so the JDC side can check a report it built with the same rules
//! the pool applies: [`parse_report`] checks the JSON shape (presence and
//! types) and then calls [`validate_report`], which checks the values.

use std::fmt;

use chrono::DateTime;
use serde_json::{Map, Value};

use crate::json::{parse_strict, JsonError};
use crate::limits::{
    MAX_FIELD_LEN, MAX_IDENTITY_LEN, MAX_JSON_DEPTH, MAX_MINERS, MAX_NOMINAL_HASH_RATE,
    MAX_TIMESTAMP_LEN,
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

/// Parses and validates a report body: strict JSON ([`parse_strict`]), then
/// the schema, then the values.
pub fn parse_report(body: &[u8]) -> Result<Report, ReportError> {
    let value = parse_strict(body, MAX_JSON_DEPTH).map_err(|e| match e {
        JsonError::Syntax(why) => ReportError::Malformed(why),
        JsonError::TooDeep { limit } => {
            ReportError::invalid("body", format!("nests deeper than {limit} levels"))
        }
    })?;
    let report = report_from_value(&value)?;
    validate_report(&report)?;
    Ok(report)
}

/// Checks every value of a report against the protocol's rules and this
/// crate's [limits](crate::limits).
pub fn validate_report(report: &Report) -> Result<(), ReportError> {
    if report.schema_version != SCHEMA_VERSION {
        return Err(ReportError::invalid(
            "schemaVersion",
            format!(
                "unsupported schemaVersion {} (this version understands {SCHEMA_VERSION})",
                report.schema_version
            ),
        ));
    }
    validate_identity(&report.jdc_user_identity)?;
    check_timestamp("timestamp", &report.timestamp)?;
    if report.miners.len() > MAX_MINERS {
        return Err(ReportError::invalid(
            "miners",
            format!(
                "has {} entries; at most {MAX_MINERS} are accepted",
                report.miners.len()
            ),
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
    const FIELD: &str = "jdcUserIdentity";
    check_text(FIELD, identity, MAX_IDENTITY_LEN)?;
    if identity.trim().is_empty() {
        return Err(ReportError::invalid(FIELD, "must not be empty"));
    }
    if identity.chars().any(char::is_whitespace) {
        return Err(ReportError::invalid(FIELD, "must not contain whitespace"));
    }
    Ok(())
}

fn validate_miner(i: usize, miner: &Miner) -> Result<(), ReportError> {
    let field = |name: &str| format!("miners[{i}].{name}");
    for (name, value) in [
        ("vendor", &miner.vendor),
        ("hardwareVersion", &miner.hardware_version),
        ("firmware", &miner.firmware),
        ("deviceId", &miner.device_id),
        ("userIdentity", &miner.user_identity),
    ] {
        check_text(&field(name), value, MAX_FIELD_LEN)?;
    }
    let rate = miner.nominal_hash_rate;
    if !rate.is_finite() || rate < 0.0 {
        return Err(ReportError::invalid(
            field("nominalHashRate"),
            format!("must be a finite number >= 0, got {rate}"),
        ));
    }
    if rate > MAX_NOMINAL_HASH_RATE {
        return Err(ReportError::invalid(
            field("nominalHashRate"),
            format!(
                "{rate:e} H/s is more than the {MAX_NOMINAL_HASH_RATE:e} H/s any miner can claim"
            ),
        ));
    }
    check_timestamp(&field("connectedAt"), &miner.connected_at)
}

/// Length in bytes and no control characters: these strings end up in KV
/// keys, logs and other people's dashboards.
fn check_text(field: &str, value: &str, max: usize) -> Result<(), ReportError> {
    if value.len() > max {
        return Err(ReportError::invalid(
            field,
            format!("is {} bytes long; at most {max} are accepted", value.len()),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ReportError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn check_timestamp(field: &str, value: &str) -> Result<(), ReportError> {
    check_text(field, value, MAX_TIMESTAMP_LEN)?;
    let not_rfc3339 = |why: String| {
        ReportError::invalid(
            field,
            format!("{value:?} is not an RFC 3339 timestamp like 2026-02-15T12:00:00Z ({why})"),
        )
    };
    DateTime::parse_from_rfc3339(value).map_err(|e| not_rfc3339(e.to_string()))?;
    // chrono also takes a space for the `T`, which RFC 3339's grammar (and
    // JSON Schema's date-time) does not.
    if !matches!(value.as_bytes().get(10), Some(b'T' | b't')) {
        return Err(not_rfc3339("date and time must be separated by T".into()));
    }
    Ok(())
}

/// Reads the typed report out of JSON, naming the first field that is
/// missing or of the wrong type. Unknown fields are ignored, so JDCs that add
/// fields in a compatible way keep working.
fn report_from_value(value: &Value) -> Result<Report, ReportError> {
    let obj = as_object(value, "body")?;
    let schema_version = match obj.get("schemaVersion") {
        None => return Err(missing("schemaVersion")),
        Some(v) => v.as_u64().ok_or_else(|| {
            ReportError::invalid(
                "schemaVersion",
                format!("expected the integer {SCHEMA_VERSION}, got {}", describe(v)),
            )
        })?,
    };
    // Refuse an unknown version before reading the rest: its fields may mean
    // something else.
    if schema_version != SCHEMA_VERSION {
        return Err(ReportError::invalid(
            "schemaVersion",
            format!(
                "unsupported schemaVersion {schema_version} (this version understands {SCHEMA_VERSION})"
            ),
        ));
    }
    let miners = match obj.get("miners") {
        None => return Err(missing("miners")),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(ReportError::invalid(
                "miners",
                format!("expected an array, got {}", describe(other)),
            ))
        }
    };
    if miners.len() > MAX_MINERS {
        // Checked before the entries are read, so a huge array costs nothing.
        return Err(ReportError::invalid(
            "miners",
            format!(
                "has {} entries; at most {MAX_MINERS} are accepted",
                miners.len()
            ),
        ));
    }
    Ok(Report {
        schema_version,
        jdc_user_identity: string(obj, "jdcUserIdentity", "jdcUserIdentity")?,
        timestamp: string(obj, "timestamp", "timestamp")?,
        miners: miners
            .iter()
            .enumerate()
            .map(|(i, m)| miner_from_value(i, m))
            .collect::<Result<_, _>>()?,
    })
}

fn miner_from_value(i: usize, value: &Value) -> Result<Miner, ReportError> {
    let path = |name: &str| format!("miners[{i}].{name}");
    let obj = as_object(value, &format!("miners[{i}]"))?;
    let nominal_hash_rate = match obj.get("nominalHashRate") {
        None => return Err(missing(&path("nominalHashRate"))),
        Some(v) => v.as_f64().ok_or_else(|| {
            ReportError::invalid(
                path("nominalHashRate"),
                format!("expected a number, got {}", describe(v)),
            )
        })?,
    };
    Ok(Miner {
        vendor: string(obj, "vendor", &path("vendor"))?,
        hardware_version: string(obj, "hardwareVersion", &path("hardwareVersion"))?,
        firmware: string(obj, "firmware", &path("firmware"))?,
        device_id: string(obj, "deviceId", &path("deviceId"))?,
        nominal_hash_rate,
        user_identity: string(obj, "userIdentity", &path("userIdentity"))?,
        connected_at: string(obj, "connectedAt", &path("connectedAt"))?,
    })
}

fn as_object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ReportError> {
    value.as_object().ok_or_else(|| {
        ReportError::invalid(path, format!("expected an object, got {}", describe(value)))
    })
}

fn string(obj: &Map<String, Value>, key: &str, path: &str) -> Result<String, ReportError> {
    match obj.get(key) {
        None => Err(missing(path)),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(ReportError::invalid(
            path,
            format!("expected a string, got {}", describe(other)),
        )),
    }
}

fn missing(path: &str) -> ReportError {
    ReportError::invalid(path, "is required")
}

/// A short description of a JSON value for error messages, never echoing a
/// large input back.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
