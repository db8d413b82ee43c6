//! Storage faults answer 503 problem+json with nothing half-applied; a
//! restart loses nothing that was acknowledged.

use dmr_shared::api::REPORTS_PATH;
use dmr_tests::{insert_clients, miner, report, ClientRow, Options, Worker};
use serde_json::json;

const JDC: &str = "bc1qfaults000000000000000000000000000000001";

fn seeded(without_bindings: Vec<&'static str>) -> Worker {
    Worker::start_with(Options {
        seed_sql: Some(insert_clients(&[ClientRow::live(
            JDC,
            "s1",
            "jd-client/sv2",
        )])),
        without_bindings,
        ..Options::default()
    })
}

fn valid() -> serde_json::Value {
    report(JDC, vec![miner("bitaxe", 1e12, "w1")])
}

#[test]
fn a_failing_database_answers_503_and_stores_nothing() {
    let worker = seeded(vec![]);
    worker.d1("DROP TABLE clients");
    let reply = worker.post_report(&valid());
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    assert!(reply.retry_after.is_some());
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

#[test]
fn a_missing_report_store_answers_503_for_reads_and_writes() {
    let worker = seeded(vec!["REPORTS"]);
    let reply = worker.post_report(&valid());
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(reply.json()["detail"]
        .as_str()
        .unwrap()
        .contains("report store"));
    assert_eq!(worker.request("GET", REPORTS_PATH, None).status, 503);
    // The store is read before the rename, so a failing store stops the
    // report before anything changed.
    let agents = worker.d1("SELECT userAgent FROM clients");
    assert_eq!(agents, [json!({"userAgent": "jd-client/sv2"})]);
    assert!(worker.log_containing("storage_error").contains("REPORTS"));
}

#[test]
fn a_restart_keeps_every_acknowledged_report() {
    let mut worker = seeded(vec![]);
    let identities: Vec<String> = (0..5).map(|i| format!("{JDC}.rig{i}")).collect();
    for identity in &identities {
        let reply = worker.post_report(&report(identity, vec![miner("bitaxe", 1e12, "w")]));
        assert_eq!(reply.status, 200);
    }
    let before = worker.get_reports();
    worker.restart();
    let after = worker.get_reports();
    assert_eq!(after, before);
    assert_eq!(after.len(), identities.len());
    let agents = worker.d1("SELECT userAgent FROM clients");
    assert_eq!(agents, [json!({"userAgent": "bitaxe/sv2"})]);
}
