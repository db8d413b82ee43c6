//! The latest report per JDC is kept in KV with a TTL and served by GET.

use dmr_tests::{miner, report, Options, Worker};

const JDC: &str = "bc1qstore00000000000000000000000000000000001";

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn get_returns_the_latest_report_per_jdc_with_its_times() {
    let worker = Worker::start();
    assert!(worker.get_reports().is_empty());

    let first = report(JDC, vec![miner("bitaxe", 1e12, "w1")]);
    assert_eq!(worker.post_report(&first).status, 200);
    let reports = worker.get_reports();
    assert_eq!(reports.len(), 1);
    let stored = &reports[0];
    // The report comes back as sent, plus what the pool derived.
    for key in ["schemaVersion", "jdcUserIdentity", "timestamp", "miners"] {
        assert_eq!(stored[key], first[key], "{key}");
    }
    assert_eq!(stored["userAgent"], "bitaxe/sv2");
    let received =
        chrono::DateTime::parse_from_rfc3339(stored["receivedAt"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(stored["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!((expires - received).num_seconds(), 300);
    assert!((received.timestamp() - now_secs()).abs() < 60);

    // A second report from the same JDC replaces the first.
    let second = report(
        JDC,
        vec![
            miner("NerdQAxe++", 5e12, "w1"),
            miner("NerdQAxe++", 5e12, "w2"),
        ],
    );
    assert_eq!(worker.post_report(&second).status, 200);
    let reports = worker.get_reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["miners"], second["miners"]);
    assert_eq!(reports[0]["userAgent"], "NerdQAxe++/sv2");

    // Another JDC is a second entry.
    let other = report("bc1qstore00000000000000000000000000000000002", vec![]);
    assert_eq!(worker.post_report(&other).status, 200);
    assert_eq!(worker.get_reports().len(), 2);
}

#[test]
fn the_kv_entry_carries_the_report_ttl() {
    let worker = Worker::start();
    let before = now_secs();
    assert_eq!(worker.post_report(&report(JDC, vec![])).status, 200);
    let keys = worker.kv_keys();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0]["name"], format!("report:{JDC}"));
    let expiration = keys[0]["expiration"].as_i64().expect("an expiration");
    assert!(
        (before + 300 - 5..=now_secs() + 300 + 5).contains(&expiration),
        "expiration {expiration} is not ~300 s after {before}"
    );
}

#[test]
fn the_ttl_is_configurable_and_never_below_kvs_minimum() {
    for (setting, want) in [("120", 120), ("5", 60)] {
        let worker = Worker::start_with(Options {
            vars: vec![("REPORT_TTL_SECONDS".into(), setting.into())],
            ..Options::default()
        });
        let before = now_secs();
        let reply = worker.post_report(&report(JDC, vec![]));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let expiration = worker.kv_keys()[0]["expiration"].as_i64().unwrap();
        assert!(
            (before + want - 5..=now_secs() + want + 5).contains(&expiration),
            "setting {setting}: expiration {expiration} is not ~{want} s after {before}"
        );
    }
}
