//! Optional bearer tokens: reads with INSPECTOR_TOKEN, reports with
//! REPORT_TOKEN or the tokens REPORT_TOKENS lists for an address (a listed
//! identity or address protects every identity of the address). Without
//! them both endpoints are open; a secret set but blank fails closed.

use dmr_shared::api::{report_path, JDCS_PATH, OPENAPI_PATH, REPORTS_PATH};
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

/// What the table and KV hold: every row's agent, and the stored identities.
fn state(worker: &Worker) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let rows = worker.d1("SELECT sessionId, userAgent, updatedAt FROM clients ORDER BY sessionId");
    (rows, worker.kv_keys())
}

#[test]
fn a_listed_identity_or_address_protects_every_identity_of_its_address() {
    let tokens = json!({
        format!("{A}.rig1"): "a-rig1",
        B: "b-only",
    })
    .to_string();
    let worker = start(&[
        ("REPORT_TOKEN", "shared-s3cret"),
        ("REPORT_TOKENS", &tokens),
    ]);
    let untouched = state(&worker);

    // Every identity of A and B, with every token but the right ones: each
    // would rename the address's rows, so each is refused, and nothing
    // changes in D1 or KV.
    let identities = [
        A.to_owned(),
        format!("{A}."),
        format!("{A}.rig1"),
        format!("{A}.rig2"),
        format!("{A}.rig1.x"),
        format!("{A}.RIG1"),
        B.to_owned(),
        format!("{B}.rig1"),
    ];
    let mut refused = 0;
    for identity in &identities {
        // A's one listed token covers A.rig1 (its own) and every other
        // identity of A; B's covers B's.
        let right = if identity.starts_with(A) {
            "a-rig1"
        } else {
            "b-only"
        };
        for token in [
            None,
            Some("shared-s3cret"),
            Some("wrong"),
            Some("a-rig1"),
            Some("b-only"),
            Some(""),
        ] {
            if token == Some(right) {
                continue;
            }
            assert_eq!(
                post_with(&worker, identity, token),
                401,
                "{identity} with {token:?}"
            );
            refused += 1;
        }
    }
    assert_eq!(refused, 40);
    assert_eq!(
        state(&worker),
        untouched,
        "a refused report changed D1 or KV"
    );

    // With one of the address's tokens, any identity of it reports.
    assert_eq!(
        post_with(&worker, &format!("{A}.rig2"), Some("a-rig1")),
        200
    );
    assert_eq!(
        post_with(&worker, &format!("{B}.rig7"), Some("b-only")),
        200
    );
    // An address nobody listed takes the shared token.
    const C: &str = "bc1qauth000000000000000000000000000000000c";
    assert_eq!(post_with(&worker, C, None), 401);
    assert_eq!(
        post_with(&worker, &format!("{C}.rig1"), Some("shared-s3cret")),
        200
    );
    let agents = worker.d1("SELECT sessionId, userAgent FROM clients ORDER BY sessionId");
    assert_eq!(
        agents,
        [
            json!({"sessionId": "a1", "userAgent": "bitaxe/sv2"}),
            json!({"sessionId": "b1", "userAgent": "bitaxe/sv2"})
        ]
    );
    assert_eq!(worker.kv_keys().len(), 3);
}

#[test]
fn a_listed_identity_needs_its_own_token() {
    let tokens = json!({ A: "a-only", format!("{A}.special"): "special-only" }).to_string();
    let worker = start(&[
        ("REPORT_TOKEN", "shared-s3cret"),
        ("REPORT_TOKENS", &tokens),
    ]);
    let special = format!("{A}.special");
    for token in [None, Some("shared-s3cret"), Some("a-only")] {
        assert_eq!(post_with(&worker, &special, token), 401, "{token:?}");
    }
    for token in [None, Some("shared-s3cret"), Some("special-only")] {
        assert_eq!(post_with(&worker, A, token), 401, "{token:?}");
    }
    assert!(worker.kv_keys().is_empty());
    assert_eq!(post_with(&worker, &special, Some("special-only")), 200);
    assert_eq!(post_with(&worker, A, Some("a-only")), 200);
    // Another identity of A takes any of A's tokens.
    assert_eq!(
        post_with(&worker, &format!("{A}.rig3"), Some("special-only")),
        200
    );
}

/// A blank or unusable secret: every endpoint answers 500 problem+json and
/// logs why; nothing is served, stored or renamed.
#[test]
fn a_blank_secret_fails_closed() {
    let cases: &[(&str, &str, &str)] = &[
        ("INSPECTOR_TOKEN", "   ", "INSPECTOR_TOKEN is set but blank"),
        (
            "INSPECTOR_TOKEN",
            "\u{200b}\u{feff}",
            "INSPECTOR_TOKEN is set but blank",
        ),
        ("REPORT_TOKEN", "\t", "REPORT_TOKEN is set but blank"),
        (
            "REPORT_TOKEN",
            "\u{a0}\u{3000}",
            "REPORT_TOKEN is set but blank",
        ),
        ("REPORT_TOKENS", " ", "REPORT_TOKENS is set but blank"),
        (
            "REPORT_TOKENS",
            r#"{"bc1qauth000000000000000000000000000000000a": " "}"#,
            "is set but blank",
        ),
        (
            "REPORT_TOKENS",
            r#"{" bc1qauth000000000000000000000000000000000a": "t"}"#,
            "whitespace",
        ),
        ("REPORT_TOKENS", r#"{".rig1": "t"}"#, "no address"),
        ("REPORT_TOKENS", r#"{"a": "t", "a": "u"}"#, "duplicate key"),
    ];
    for (name, value, logged) in cases {
        let worker = start(&[(name, value)]);
        let one = report_path(A);
        for (method, path) in [
            ("POST", REPORTS_PATH),
            ("GET", REPORTS_PATH),
            ("GET", JDCS_PATH),
            ("GET", one.as_str()),
            ("GET", OPENAPI_PATH),
        ] {
            let body = report(A, vec![miner("bitaxe", 1e12, "w")]).to_string();
            let reply = worker.request_with(
                method,
                path,
                &[("Content-Type", "application/json")],
                (method == "POST").then_some(body.as_bytes()),
            );
            assert_eq!(
                reply.status, 500,
                "{name}={value:?}: {method} {path}: {}",
                reply.body
            );
            assert_eq!(reply.content_type, "application/problem+json");
            assert!(
                !reply.body.contains(logged),
                "the cause is logged, not sent"
            );
        }
        let log = worker.log_containing("internal_error");
        assert!(log.contains(logged), "{name}={value:?}:\n{log}");
        assert!(worker.kv_keys().is_empty(), "{name}={value:?}");
        let agents = worker.d1("SELECT DISTINCT userAgent FROM clients");
        assert_eq!(
            agents,
            [json!({"userAgent": "jd-client/sv2"})],
            "{name}={value:?}"
        );
    }
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
