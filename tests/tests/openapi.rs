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
