//! The latest report per JDC is kept in KV with a TTL and served by GET.

use dmr_shared::api::{kv_key, report_path, JDCS_PATH, ONE_REPORT_PREFIX, REPORTS_PATH};
use dmr_shared::limits::MAX_SUMMARIES_PAGE;
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
    assert_eq!(keys[0]["name"], kv_key(JDC));
    let expiration = keys[0]["expiration"].as_i64().expect("an expiration");
    assert!(
        (before + 300 - 5..=now_secs() + 300 + 5).contains(&expiration),
        "expiration {expiration} is not ~300 s after {before}"
    );
}

#[test]
fn the_ttl_is_configurable_down_to_kvs_minimum() {
    // Below it is a bad setting (`settings.rs`).
    for (setting, want) in [("120", 120), ("60", 60)] {
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

#[test]
fn an_unchanged_report_is_not_written_again_until_its_copy_is_old() {
    // TTL 60 s: an unchanged report is stored again after 30 s (half the TTL).
    let worker = Worker::start_with(Options {
        vars: vec![("REPORT_TTL_SECONDS".into(), "60".into())],
        ..Options::default()
    });
    let first = report(JDC, vec![miner("bitaxe", 1e12, "w1")]);
    let reply = worker.post_report(&first).json();
    assert_eq!(reply["stored"], true);
    let stored_at = reply["receivedAt"].clone();

    // The same miners again (a new timestamp): accepted, not written (and
    // no D1 call: the name is unchanged); the answer and GET tell when the
    // copy was stored.
    let again = report(JDC, vec![miner("bitaxe", 1e12, "w1")]);
    let reply = worker.post_report(&again).json();
    assert_eq!(reply["success"], true);
    assert_eq!(reply["stored"], false);
    assert_eq!(reply["receivedAt"], stored_at);
    assert_eq!(worker.get_reports()[0]["receivedAt"], stored_at);

    // Any change is written at once.
    let changed = report(JDC, vec![miner("bitaxe", 1.1e12, "w1")]);
    let reply = worker.post_report(&changed).json();
    assert_eq!(reply["stored"], true);
    let stored_at = reply["receivedAt"].clone();
    // The Worker instance that stored the copy noted it, so the unchanged
    // report made no KV or D1 call and changed nothing: it got no log line
    // of its own and is counted on the next one.
    let log = worker.log_containing("\"quietReports\":1,");
    assert!(
        log.contains(
            "\"stored\":true,\"hint\":true,\"kvOperations\":1,\"d1Calls\":0,\"quietReports\":1,"
        ),
        "the changed report's line carries the quiet one:\n{log}"
    );
    assert_ne!(stored_at, reply["expiresAt"]);

    // The same report again every few seconds (within the identity's rate
    // limit): folded into the stored copy until that copy is half the TTL
    // old by the Worker's clock, then written again, so a JDC that keeps
    // reporting never expires.
    let stored_at = parse_time(&stored_at);
    let mut rewritten = None;
    for _ in 0..7 {
        std::thread::sleep(std::time::Duration::from_secs(8));
        let reply = worker.post_report(&changed).json();
        if reply["stored"] == true {
            rewritten = Some(parse_time(&reply["receivedAt"]));
            break;
        }
        assert_eq!(parse_time(&reply["receivedAt"]), stored_at, "{reply}");
    }
    let rewritten = rewritten.expect("written again within 56 s");
    // Half the TTL, to the millisecond the times are written in.
    let age = rewritten - stored_at;
    assert!(
        age >= chrono::Duration::milliseconds(29_999),
        "rewritten after {age}"
    );
}

fn parse_time(value: &serde_json::Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap()
}

#[test]
fn one_report_summaries_and_pages() {
    let worker = Worker::start();
    for i in 0..5 {
        let identity = format!("{JDC}.rig{i}");
        let miners = (0..=i)
            .map(|m| miner(if m % 2 == 0 { "bitaxe" } else { "" }, 1e12, "w"))
            .collect();
        assert_eq!(worker.post_report(&report(&identity, miners)).status, 200);
    }

    // One JDC by identity (percent-encoded or not).
    let one = worker.request("GET", &report_path(&format!("{JDC}.rig2")), None);
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.json()["miners"].as_array().unwrap().len(), 3);
    let encoded = worker.request("GET", &format!("{ONE_REPORT_PREFIX}{JDC}%2Erig2"), None);
    assert_eq!(encoded.json(), one.json());
    let missing = worker.request("GET", &report_path("bc1qnobody"), None);
    assert_eq!(missing.status, 404);
    assert!(missing.json()["detail"]
        .as_str()
        .unwrap()
        .contains("no live report"));

    // Summaries: counts, hash rate and vendors from KV metadata.
    let jdcs = worker.request("GET", JDCS_PATH, None).json();
    let jdcs = jdcs.as_array().unwrap();
    assert_eq!(jdcs.len(), 5);
    let rig3 = &jdcs[3];
    assert_eq!(rig3["identity"], format!("{JDC}.rig3"));
    assert_eq!(rig3["miners"], 4);
    assert_eq!(rig3["hashRate"], 4e12);
    assert_eq!(rig3["userAgent"], "bitaxe/sv2");
    assert_eq!(
        rig3["vendors"],
        serde_json::json!([
            {"vendor": "bitaxe", "miners": 2, "hashRate": 2e12},
            {"vendor": "(unknown)", "miners": 2, "hashRate": 2e12}
        ])
    );
    let log = worker.log_containing("\"view\":\"jdcs\"");
    assert!(
        log.contains("\"items\":5,\"kvOperations\":1"),
        "one list call:\n{log}"
    );

    // Pages of two, linked until the last.
    let mut path = format!("{REPORTS_PATH}?limit=2");
    let mut seen = Vec::new();
    for _ in 0..5 {
        let reply = worker.request_with("GET", &path, &[], None);
        assert_eq!(reply.status, 200);
        seen.extend(
            reply
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["jdcUserIdentity"].as_str().unwrap().to_owned()),
        );
        match reply.link {
            Some(link) => {
                let target = link.trim_start_matches('<').split('>').next().unwrap();
                path = target.to_owned();
            }
            None => break,
        }
    }
    let expected: Vec<String> = (0..5).map(|i| format!("{JDC}.rig{i}")).collect();
    assert_eq!(seen, expected);

    // A page size out of range is refused, naming the parameter.
    for query in ["limit=0", "limit=1001", "limit=ten"] {
        let reply = worker.request("GET", &format!("{REPORTS_PATH}?{query}"), None);
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.json()["field"], "limit", "{query}");
    }
    assert_eq!(
        worker
            .request(
                "GET",
                &format!("{JDCS_PATH}?limit={MAX_SUMMARIES_PAGE}"),
                None
            )
            .status,
        200
    );
    assert_eq!(
        worker
            .request(
                "GET",
                &format!("{JDCS_PATH}?limit={}", MAX_SUMMARIES_PAGE + 1),
                None
            )
            .status,
        400
    );
}
