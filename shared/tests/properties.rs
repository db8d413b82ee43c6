//! Property tests of validation: no input makes it panic, whatever it
//! accepts survives a round trip through JSON unchanged, the body parser and
//! `validate_report` give the same answer, and the order of a body's members
//! never changes the answer.

use dmr_shared::{parse_report, validate_report, Miner, Report};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Strings that mix ordinary text with what breaks naive code: control
/// characters, markup, quotes, multi-byte characters, long runs.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._+()-]{0,40}",
        ".{0,40}",
        "[<>\"'\\\\;\u{0}-\u{1f}\u{7f}\u{85}\u{2028}\u{feff}]{0,10}",
        "[é漢字🦀]{0,90}",
        Just("x".repeat(256)),
    ]
}

fn timestamp() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("2026-02-15T12:00:00Z".to_string()),
        Just("2026-02-15T12:00:00.123456+05:30".to_string()),
        "20[0-9]{2}-[01][0-9]-[0-3][0-9][T ][0-2][0-9]:[0-5][0-9]:[0-6][0-9](Z|[+-][01][0-9]:[0-5][0-9])",
        text(),
    ]
}

fn hash_rate() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0..1e21f64,
        any::<f64>(),
        Just(f64::NAN),
        Just(-0.0),
        Just(1e20),
    ]
}

fn miner() -> impl Strategy<Value = Miner> {
    (
        text(),
        text(),
        text(),
        text(),
        hash_rate(),
        text(),
        timestamp(),
    )
        .prop_map(
            |(
                vendor,
                hardware_version,
                firmware,
                device_id,
                nominal_hash_rate,
                user_identity,
                connected_at,
            )| Miner {
                vendor,
                hardware_version,
                firmware,
                device_id,
                nominal_hash_rate,
                user_identity,
                connected_at,
                via: None,
            },
        )
}

fn report() -> impl Strategy<Value = Report> {
    (
        prop_oneof![Just(1u64), any::<u64>()],
        text(),
        timestamp(),
        prop::collection::vec(miner(), 0..8),
    )
        .prop_map(
            |(schema_version, jdc_user_identity, timestamp, miners)| Report {
                schema_version,
                jdc_user_identity,
                timestamp,
                miners,
            },
        )
}

/// Arbitrary JSON values, nested a few levels.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::hash_map(
                prop_oneof![
                    Just("schemaVersion".to_string()),
                    Just("jdcUserIdentity".to_string()),
                    Just("timestamp".to_string()),
                    Just("miners".to_string()),
                    Just("vendor".to_string()),
                    Just("nominalHashRate".to_string()),
                    text(),
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A report as JSON where any member may be missing, mistyped or odd, at
/// the top and in each miner: what the shape checks are about.
fn report_like() -> impl Strategy<Value = Value> {
    fn member(valid: Value) -> impl Strategy<Value = Option<Value>> {
        prop_oneof![
            6 => Just(Some(valid)),
            1 => Just(None),
            2 => json().prop_map(Some),
            1 => text().prop_map(|t| Some(Value::String(t))),
        ]
    }
    let miner = (
        member(json!("bitaxe")),
        member(json!("BM1370")),
        member(json!("")),
        member(json!("")),
        member(json!(1e12)),
        member(json!("bc1q.w")),
        member(json!("2026-02-15T11:30:00Z")),
        prop::option::of(json()),
    )
        .prop_map(|(vendor, hw, fw, dev, rate, worker, at, extra)| {
            let mut m = serde_json::Map::new();
            for (key, value) in [
                ("vendor", vendor),
                ("hardwareVersion", hw),
                ("firmware", fw),
                ("deviceId", dev),
                ("nominalHashRate", rate),
                ("userIdentity", worker),
                ("connectedAt", at),
                ("extra", extra),
            ] {
                if let Some(value) = value {
                    m.insert(key.into(), value);
                }
            }
            Value::Object(m)
        });
    let miners = prop_oneof![
        5 => prop::collection::vec(miner, 0..5).prop_map(Value::Array),
        1 => json(),
    ];
    (
        member(json!(1)),
        member(json!("bc1qprop.rig")),
        member(json!("2026-02-15T12:00:00Z")),
        miners.prop_map(Some),
        any::<bool>(),
        prop::option::of(json()),
    )
        .prop_map(
            |(version, identity, timestamp, miners, drop_miners, extra)| {
                let mut m = serde_json::Map::new();
                let miners = if drop_miners { None } else { miners };
                for (key, value) in [
                    ("schemaVersion", version),
                    ("jdcUserIdentity", identity),
                    ("timestamp", timestamp),
                    ("miners", miners),
                    ("extra", extra),
                ] {
                    if let Some(value) = value {
                        m.insert(key.into(), value);
                    }
                }
                Value::Object(m)
            },
        )
}

/// `value` as JSON text with every object's members in reverse order
/// (`serde_json` writes them sorted).
fn reversed(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .rev()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), reversed(v)))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(reversed).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_order_of_members_never_changes_the_answer(value in prop_oneof![report_like(), json()]) {
        let sorted = parse_report(value.to_string().as_bytes());
        let reversed = parse_report(reversed(&value).as_bytes());
        prop_assert_eq!(sorted, reversed, "{}", value);
    }

    #[test]
    fn the_parser_and_validate_report_agree(mut report in report()) {
        // NaN and infinities have no JSON form (serde_json writes null): a
        // negative rate stands for them.
        for miner in &mut report.miners {
            if !miner.nominal_hash_rate.is_finite() {
                miner.nominal_hash_rate = -1.0;
            }
        }
        let body = serde_json::to_vec(&report).unwrap();
        match (parse_report(&body), validate_report(&report)) {
            (Ok(parsed), Ok(())) => prop_assert_eq!(parsed, report),
            (Err(parsed), Err(validated)) => prop_assert_eq!(parsed, validated),
            (parsed, validated) => prop_assert!(false, "parse {:?}, validate {:?}", parsed, validated),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_report(&body);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json()) {
        let _ = parse_report(value.to_string().as_bytes());
    }

    #[test]
    fn whatever_validates_round_trips(report in report()) {
        if validate_report(&report).is_ok() {
            let body = serde_json::to_vec(&report).unwrap();
            let parsed = parse_report(&body).expect("a valid report parses back");
            prop_assert_eq!(parsed, report);
        } else {
            // What fails in code fails on the wire too (NaN has no JSON form,
            // so it is the one value that cannot be sent at all).
            if let Ok(body) = serde_json::to_vec(&report) {
                if report.miners.iter().all(|m| m.nominal_hash_rate.is_finite()) {
                    prop_assert!(parse_report(&body).is_err());
                }
            }
        }
    }

    #[test]
    fn valid_reports_stay_valid_after_a_round_trip(
        identity in "[a-z0-9]{1,60}(\\.[a-z0-9]{1,20})?",
        miners in prop::collection::vec(
            ("[a-zA-Z0-9 +]{0,20}", 0.0..1e20f64, "[a-z0-9.]{0,40}"),
            0..20,
        ),
    ) {
        let report = Report {
            schema_version: 1,
            jdc_user_identity: identity,
            timestamp: "2026-02-15T12:00:00Z".into(),
            miners: miners
                .into_iter()
                .map(|(vendor, rate, worker)| Miner {
                    vendor,
                    hardware_version: "BM1370".into(),
                    firmware: String::new(),
                    device_id: String::new(),
                    nominal_hash_rate: rate,
                    user_identity: worker,
                    connected_at: "2026-02-15T11:30:00Z".into(),
                    via: None,
                })
                .collect(),
        };
        prop_assert!(validate_report(&report).is_ok());
        let parsed = parse_report(&serde_json::to_vec(&report).unwrap()).unwrap();
        prop_assert_eq!(parsed, report);
    }
}
