//! Bad requests get a documented 4xx problem+json naming the field; a
//! rejected or failed report stores nothing and renames nothing.

use dmr_shared::api::REPORTS_PATH;
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
        ("repeated key", br#"{"schemaVersion":1,"schemaVersion":1,"jdcUserIdentity":"x","timestamp":"2026-02-15T12:00:00Z","miners":[]}"#.to_vec(), 400, None),
        ("deep nesting", with(|v| v["extra"] = serde_json::from_str(&("[".repeat(20) + &"]".repeat(20))).unwrap()), 422, Some("body")),
        ("NaN as a bare word", br#"{"schemaVersion":1,"jdcUserIdentity":"x","timestamp":"2026-02-15T12:00:00Z","miners":[{"vendor":"a","hardwareVersion":"","firmware":"","deviceId":"","nominalHashRate":NaN,"userIdentity":"","connectedAt":"2026-02-15T12:00:00Z"}]}"#.to_vec(), 400, None),
        ("too many miners", with(|v| v["miners"] = Value::Array(vec![v["miners"][0].clone(); 2001])), 422, Some("miners")),
        ("timestamp with a space", with(|v| v["timestamp"] = json!("2026-02-15 12:00:00Z")), 422, Some("timestamp")),
        ("impossible date", with(|v| v["timestamp"] = json!("2026-02-30T12:00:00Z")), 422, Some("timestamp")),
        ("schemaVersion null", with(|v| v["schemaVersion"] = Value::Null), 422, Some("schemaVersion")),
        ("identity with a newline", with(|v| v["jdcUserIdentity"] = json!("bc1q\nx")), 422, Some("jdcUserIdentity")),
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
fn bodies_not_sent_as_json_are_refused_with_415() {
    let worker = start();
    let body = valid().to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonp"),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .iter()
            .map(|ct| ("Content-Type", *ct))
            .collect();
        let reply = worker.request_with("POST", REPORTS_PATH, &headers, Some(body.as_bytes()));
        assert_eq!(reply.status, 415, "{content_type:?}: {}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json");
    }
    assert_untouched(&worker);
    // Parameters and case do not matter.
    let reply = worker.request_with(
        "POST",
        REPORTS_PATH,
        &[("Content-Type", "Application/JSON; charset=utf-8")],
        Some(body.as_bytes()),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn markup_and_sql_in_every_string_are_stored_inert_and_never_executed() {
    let worker = start();
    let nasty = "<script>alert(1)</script>'; DROP TABLE clients; --";
    let mut v = valid();
    v["jdcUserIdentity"] = json!(format!("{JDC}.<b>x</b>';--"));
    for key in [
        "vendor",
        "hardwareVersion",
        "firmware",
        "deviceId",
        "userIdentity",
    ] {
        v["miners"][0][key] = json!(nasty);
    }
    let reply = worker.post_report(&v);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.json()["userAgent"],
        "scriptalert(1)script DROP TABLE/sv2"
    );
    // The table is intact and only the name changed, to the safe form.
    let rows = worker.d1("SELECT userAgent FROM clients");
    assert_eq!(
        rows,
        [json!({"userAgent": "scriptalert(1)script DROP TABLE/sv2"})]
    );
    // The report is served back as data, in JSON, never as HTML.
    let reply = worker.request("GET", REPORTS_PATH, None);
    assert!(reply.content_type.starts_with("application/json"));
    assert_eq!(reply.json()[0]["miners"][0]["firmware"], nasty);
}

#[test]
fn unknown_fields_are_accepted_but_not_stored() {
    let worker = start();
    let mut v = valid();
    v["surprise"] = json!({"a": [1, 2, 3]});
    v["miners"][0]["temperature"] = json!(61.5);
    assert_eq!(worker.post_report(&v).status, 200);
    let stored = &worker.get_reports()[0];
    assert!(stored.get("surprise").is_none(), "{stored}");
    assert!(stored["miners"][0].get("temperature").is_none(), "{stored}");
}

#[test]
fn oversized_bodies_wrong_methods_and_unknown_paths() {
    let worker = start();

    let huge = with(|v| v["padding"] = json!("x".repeat(5 * 1024 * 1024)));
    let reply = worker.post_raw(&huge);
    assert_eq!(reply.status, 413, "{}", reply.body);

    // Methods HTTP clients do not know go over a plain socket: the Worker
    // must not take them for GET.
    for method in ["QUERY", "PROPFIND"] {
        let (status, answer) = worker.raw_request(method, REPORTS_PATH);
        assert_eq!(status, 405, "{method}: {answer}");
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("allow: get, head, post"),
            "{method}: {answer}"
        );
    }
    for method in ["PUT", "DELETE", "PATCH"] {
        let reply = worker.request(method, REPORTS_PATH, None);
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.allow.as_deref(), Some("GET, HEAD, POST"), "{method}");
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
