//! Optional bearer tokens: reads with INSPECTOR_TOKEN, reports with
//! REPORT_TOKEN or a per-address token from REPORT_TOKENS. Without them both
//! endpoints are open.

use dmr_shared::api::{OPENAPI_PATH, REPORTS_PATH};
use dmr_tests::{insert_clients, miner, report, ClientRow, Options, Worker};
use serde_json::json;

const A: &str = "bc1qauth000000000000000000000000000000000a";
const B: &str = "bc1qauth000000000000000000000000000000000b";

fn start(vars: &[(&str, &str)]) -> Worker {
    Worker::start_with(Options {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        seed_sql: Some(insert_clients(&[
            ClientRow::live(A, "a1", "jd-client/sv2"),
            ClientRow::live(B, "b1", "jd-client/sv2"),
        ])),
        ..Options::default()
    })
}

fn post_with(worker: &Worker, identity: &str, token: Option<&str>) -> u16 {
    let body = report(identity, vec![miner("bitaxe", 1e12, "w")]).to_string();
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth));
    }
    worker
        .request_with("POST", REPORTS_PATH, &headers, Some(body.as_bytes()))
        .status
}

fn get_with(worker: &Worker, auth: Option<&str>) -> dmr_tests::Reply {
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", *a)).collect();
    worker.request_with("GET", REPORTS_PATH, &headers, None)
}

#[test]
fn without_tokens_reads_and_reports_are_open() {
    let worker = start(&[]);
    assert_eq!(post_with(&worker, A, None), 200);
    assert_eq!(post_with(&worker, B, Some("anything")), 200);
    assert_eq!(get_with(&worker, None).status, 200);
}

#[test]
fn an_inspector_token_protects_reads_only() {
    let worker = start(&[("INSPECTOR_TOKEN", "read-s3cret")]);
    assert_eq!(post_with(&worker, A, None), 200, "reports stay open");

    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Bearer read-s3cre"),
        Some("Basic read-s3cret"),
    ] {
        let reply = get_with(&worker, auth);
        assert_eq!(reply.status, 401, "{auth:?}");
        assert_eq!(reply.content_type, "application/problem+json");
        assert!(reply.www_authenticate.unwrap().starts_with("Bearer"));
        assert!(!reply.body.contains(A), "a refused read leaked a report");
    }
    let reply = get_with(&worker, Some("Bearer read-s3cret"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()[0]["jdcUserIdentity"], A);
    // The scheme is case-insensitive, as HTTP says.
    assert_eq!(get_with(&worker, Some("bearer read-s3cret")).status, 200);
    // The API description stays readable.
    assert_eq!(worker.request("GET", OPENAPI_PATH, None).status, 200);
}

#[test]
fn report_tokens_protect_writes_and_a_refused_report_changes_nothing() {
    let tokens = json!({ B: "b-only", format!("{A}.special"): "special-only" }).to_string();
    let worker = start(&[
        ("REPORT_TOKEN", "shared-s3cret"),
        ("REPORT_TOKENS", &tokens),
    ]);

    // No token or a wrong one: 401, nothing stored or renamed.
    assert_eq!(post_with(&worker, A, None), 401);
    assert_eq!(post_with(&worker, A, Some("wrong")), 401);
    // B has its own token: the shared one is not enough, and B's token does
    // not open A.
    assert_eq!(
        post_with(&worker, &format!("{B}.rig"), Some("shared-s3cret")),
        401
    );
    assert_eq!(post_with(&worker, A, Some("b-only")), 401);
    assert!(worker.get_reports().is_empty());
    let agents = worker.d1("SELECT DISTINCT userAgent FROM clients");
    assert_eq!(agents, [json!({"userAgent": "jd-client/sv2"})]);

    // A token listed for one identity is that identity's alone.
    assert_eq!(
        post_with(&worker, &format!("{A}.special"), Some("shared-s3cret")),
        401
    );
    assert_eq!(
        post_with(&worker, &format!("{A}.special"), Some("special-only")),
        200
    );
    worker.d1("UPDATE clients SET userAgent = 'jd-client/sv2'");

    assert_eq!(post_with(&worker, A, Some("shared-s3cret")), 200);
    assert_eq!(post_with(&worker, &format!("{B}.rig"), Some("b-only")), 200);
    let agents = worker.d1("SELECT sessionId, userAgent FROM clients ORDER BY sessionId");
    assert_eq!(
        agents,
        [
            json!({"sessionId": "a1", "userAgent": "bitaxe/sv2"}),
            json!({"sessionId": "b1", "userAgent": "bitaxe/sv2"})
        ]
    );
}

#[test]
fn a_malformed_token_list_fails_closed() {
    let worker = start(&[("REPORT_TOKENS", "not json")]);
    assert_eq!(post_with(&worker, A, None), 500);
    let log = worker.log_containing("internal_error");
    assert!(log.contains("REPORT_TOKENS must be a JSON object"), "{log}");
    let agents = worker.d1("SELECT DISTINCT userAgent FROM clients");
    assert_eq!(agents, [json!({"userAgent": "jd-client/sv2"})]);
}
