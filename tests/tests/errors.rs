//! Bad requests get a documented 4xx problem+json naming the field; a
//! rejected or failed report stores nothing and renames nothing.

use dmr_tests::{insert_clients, miner, report, ClientRow, Options, Worker};
use serde_json::{json, Value};

const JDC: &str = "bc1qerrors0000000000000000000000000000000001";

fn start() -> Worker {
    Worker::start_with(Options {
        seed_sql: Some(insert_clients(&[ClientRow::live(
            JDC,
            "s1",
            "jd-client/sv2",
        )])),
        ..Options::default()
    })
}

fn assert_untouched(worker: &Worker) {
    assert!(worker.get_reports().is_empty(), "a report was stored");
    assert!(worker.kv_keys().is_empty(), "KV was written");
    let rows = worker.d1("SELECT userAgent FROM clients");
    assert_eq!(
        rows,
        [json!({"userAgent": "jd-client/sv2"})],
        "a row was renamed"
    );
}

fn valid() -> Value {
    report(JDC, vec![miner("bitaxe", 1e12, "w1")])
}

fn with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = valid();
    edit(&mut v);
    v.to_string().into_bytes()
}

#[test]
fn invalid_reports_are_refused_with_the_field_named() {
    let worker = start();
    let cases: Vec<(&str, Vec<u8>, u16, Option<&str>)> = vec![
        ("not JSON", b"schemaVersion=1".to_vec(), 400, None),
        ("truncated JSON", b"{\"schemaVersion\": 1, \"miners\": [".to_vec(), 400, None),
        ("empty body", Vec::new(), 400, None),
        ("invalid UTF-8", vec![b'{', 0xff, 0xfe, b'}'], 400, None),
        ("an array", b"[]".to_vec(), 422, Some("body")),
        ("unsupported version", with(|v| v["schemaVersion"] = json!(2)), 422, Some("schemaVersion")),
        ("missing identity", with(|v| { v.as_object_mut().unwrap().remove("jdcUserIdentity"); }), 422, Some("jdcUserIdentity")),
        ("empty identity", with(|v| v["jdcUserIdentity"] = json!("")), 422, Some("jdcUserIdentity")),
        ("bad timestamp", with(|v| v["timestamp"] = json!("15/02/2026")), 422, Some("timestamp")),
        ("miners not an array", with(|v| v["miners"] = json!("bitaxe")), 422, Some("miners")),
        ("negative hash rate", with(|v| v["miners"][0]["nominalHashRate"] = json!(-5)), 422, Some("miners[0].nominalHashRate")),
        ("hash rate as text", with(|v| v["miners"][0]["nominalHashRate"] = json!("1 TH/s")), 422, Some("miners[0].nominalHashRate")),
        ("missing vendor", with(|v| { v["miners"][0].as_object_mut().unwrap().remove("vendor"); }), 422, Some("miners[0].vendor")),
        ("overlong firmware", with(|v| v["miners"][0]["firmware"] = json!("f".repeat(300))), 422, Some("miners[0].firmware")),
        ("bad connectedAt", with(|v| v["miners"][0]["connectedAt"] = json!("soon")), 422, Some("miners[0].connectedAt")),
        ("control character", with(|v| v["miners"][0]["userIdentity"] = json!("w\u{1b}[31m")), 422, Some("miners[0].userIdentity")),
        ("hash rate out of range", br#"{"schemaVersion":1,"jdcUserIdentity":"x","timestamp":"2026-02-15T12:00:00Z","miners":[{"vendor":"a","hardwareVersion":"","firmware":"","deviceId":"","nominalHashRate":1e400,"userIdentity":"","connectedAt":"2026-02-15T12:00:00Z"}]}"#.to_vec(), 400, None),
    ];
    for (name, body, status, field) in cases {
        let reply = worker.post_raw(&body);
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json", "{name}");
        let problem = reply.json();
        assert_eq!(problem["status"], status, "{name}");
        assert_eq!(problem["success"], false, "{name}");
        assert!(!problem["title"].as_str().unwrap().is_empty(), "{name}");
        let detail = problem["detail"].as_str().unwrap();
        match field {
            Some(field) => {
                assert_eq!(problem["field"], field, "{name}: {problem}");
                assert!(detail.starts_with(field), "{name}: {detail}");
            }
            None => assert!(detail.contains("not valid JSON"), "{name}: {detail}"),
        }
    }
    assert_untouched(&worker);
}

#[test]
fn oversized_bodies_wrong_methods_and_unknown_paths() {
    let worker = start();

    let huge = with(|v| v["padding"] = json!("x".repeat(3 * 1024 * 1024)));
    let reply = worker.post_raw(&huge);
    assert_eq!(reply.status, 413, "{}", reply.body);

    for method in ["PUT", "DELETE", "PATCH"] {
        let reply = worker.request(method, "/api/downstream-report", None);
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.allow.as_deref(), Some("GET, POST"), "{method}");
        assert_eq!(reply.content_type, "application/problem+json");
    }

    let reply = worker.request("GET", "/api/nothing-here", None);
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.json()["detail"],
        "there is no endpoint at /api/nothing-here"
    );

    assert_untouched(&worker);
    // And the server keeps serving valid reports.
    assert_eq!(worker.post_report(&valid()).status, 200);
}

#[test]
fn a_failing_database_answers_503_and_stores_nothing() {
    let worker = start();
    worker.d1("DROP TABLE clients");
    let reply = worker.post_report(&valid());
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    let problem = reply.json();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("client database"),
        "{problem}"
    );
    // The cause is logged, not sent.
    assert!(!reply.body.contains("no such table"), "{}", reply.body);
    let log = worker.log_containing("storage_error");
    assert!(
        log.contains("no such table"),
        "the cause is not logged:\n{log}"
    );
    assert!(worker.get_reports().is_empty());
    assert!(worker.kv_keys().is_empty());

    // A report with nothing to rename does not need the database.
    assert_eq!(worker.post_report(&report(JDC, vec![])).status, 200);
}
