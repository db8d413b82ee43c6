//! The served OpenAPI document describes what the Worker really answers.

use dmr_shared::api::{report_path, JDCS_PATH, OPENAPI_PATH, REPORTS_PATH};
use dmr_tests::{miner, report, Worker};
use serde_json::{json, Value};

/// Validates `instance` against `#/components/schemas/<name>` of `doc`.
fn conforms(doc: &Value, name: &str, instance: &Value) {
    let mut schema = doc.clone();
    schema["$ref"] = json!(format!("#/components/schemas/{name}"));
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    let validator = jsonschema::validator_for(&schema).expect("the document's schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{name} does not match {instance}: {errors:?}"
    );
}

#[test]
fn the_document_matches_the_answers() {
    let worker = Worker::start();
    let reply = worker.request("GET", OPENAPI_PATH, None);
    assert_eq!(reply.status, 200);
    assert!(reply.content_type.starts_with("application/json"));
    let doc = reply.json();
    assert_eq!(doc["openapi"], "3.1.0");

    // Every route the Worker serves is documented, and nothing else.
    let mut operations: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{m} {path}"))
        })
        .collect();
    operations.sort();
    assert_eq!(
        operations,
        [
            "get /api/agents",
            "get /api/downstream-report",
            "get /api/downstream-report/{identity}",
            "get /api/jdcs",
            "get /api/openapi.json",
            "post /api/downstream-report"
        ]
    );

    let documented = |method: &str, status: u16| {
        doc["paths"][REPORTS_PATH][method]["responses"]
            .get(status.to_string())
            .is_some()
    };

    // A valid report: the documented request schema accepts it, and the
    // answer matches the documented response.
    let sent = report("bc1qopenapi.rig", vec![miner("bitaxe", 1e12, "w")]);
    conforms(&doc, "Report", &sent);
    let reply = worker.post_report(&sent);
    assert_eq!(reply.status, 200);
    conforms(&doc, "Accepted", &reply.json());

    let listed = worker.get_reports();
    for item in &listed {
        conforms(&doc, "StoredReport", item);
    }
    let one = worker.request("GET", &report_path("bc1qopenapi.rig"), None);
    conforms(&doc, "StoredReport", &one.json());
    let jdcs = worker.request("GET", JDCS_PATH, None).json();
    assert_eq!(jdcs.as_array().unwrap().len(), 1);
    for item in jdcs.as_array().unwrap() {
        conforms(&doc, "JdcSummary", item);
    }
    let missing = worker.request("GET", &report_path("nobody"), None);
    assert_eq!(missing.status, 404);
    conforms(&doc, "Problem", &missing.json());
    let one_documented = |status: u16| {
        doc["paths"]["/api/downstream-report/{identity}"]["get"]["responses"]
            .get(status.to_string())
            .is_some()
    };
    for path in [
        report_path(".nobody"),
        report_path(&"a".repeat(300)),
        format!("{}?x=1", report_path("nobody")),
    ] {
        let refused = worker.request("GET", &path, None);
        assert_eq!(refused.status, 400, "{path}");
        assert!(one_documented(refused.status));
        conforms(&doc, "Problem", &refused.json());
    }

    // Refusals: documented statuses with problem bodies.
    let refusals: [&[u8]; 3] = [b"nope", b"{}", br#"{"schemaVersion":7}"#];
    for body in refusals {
        let reply = worker.post_raw(body);
        assert!(
            documented("post", reply.status),
            "status {} is undocumented",
            reply.status
        );
        conforms(&doc, "Problem", &reply.json());
    }
    let reply = worker.request("POST", REPORTS_PATH, Some(("text/plain", b"x")));
    assert!(documented("post", reply.status));
    conforms(&doc, "Problem", &reply.json());
}

/// Whether `instance` is valid by `#/components/schemas/<name>` of `doc`.
fn valid(doc: &Value, name: &str, instance: &Value) -> bool {
    let mut schema = doc.clone();
    schema["$ref"] = json!(format!("#/components/schemas/{name}"));
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    jsonschema::validator_for(&schema)
        .expect("the document's schemas compile")
        .is_valid(instance)
}

#[test]
fn the_documented_identity_rules_are_the_workers() {
    let worker = Worker::start_with(dmr_tests::Options {
        without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
        ..dmr_tests::Options::default()
    });
    let doc = worker.request("GET", OPENAPI_PATH, None).json();
    let identities = [
        "bc1qdoc".to_owned(),
        "bc1qdoc.rig1".into(),
        "bc1qdoc.".into(),
        "bc1qdoc..x".into(),
        "été.rig/1".into(),
        "a".repeat(256),
        "a".repeat(257),
        ".rig1".into(),
        ".".into(),
        "bc1q doc".into(),
        "bc1q\tdoc".into(),
        "bc1q\u{a0}doc".into(),
        "bc1q\u{2028}doc".into(),
        "bc1qdoc\u{200b}".into(),
        "\u{202e}bc1qdoc".into(),
        "bc1q\u{2066}doc".into(),
        "bc1qdoc\u{feff}".into(),
        "bc1qdoc\u{e0041}".into(),
        "bc1qdoc\u{1fffe}".into(),
        "bc1qdoc\u{2800}".into(),
        "bc1qdoc\u{e000}".into(),
        "bc1qdoc\u{7f}".into(),
    ];
    let one =
        doc["paths"]["/api/downstream-report/{identity}"]["get"]["parameters"][0]["schema"].clone();
    let path_validator = jsonschema::validator_for(&one).expect("the parameter schema compiles");
    for identity in &identities {
        let sent = report(identity, vec![miner("bitaxe", 1e12, "w")]);
        let documented = valid(&doc, "Report", &sent);
        let status = worker.post_report(&sent).status;
        assert_eq!(documented, status == 200, "{identity:?}: {status}");
        assert_eq!(
            path_validator.is_valid(&json!(identity)),
            documented,
            "{identity:?}"
        );
        // A path identity the document refuses is refused (400) or, for dot
        // segments that URLs resolve away, no endpoint (404).
        let read = worker.request("GET", &report_path(identity), None).status;
        let want: &[u16] = if documented { &[200] } else { &[400, 404] };
        assert!(want.contains(&read), "{identity:?}: GET {read}");
    }
}
