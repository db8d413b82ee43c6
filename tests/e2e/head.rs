//! `HEAD` on every GET route answers as `GET` would (status and headers,
//! `Content-Length` included) with no body, errors too; every `405` lists
//! `HEAD` in `Allow` wherever `GET` is allowed.

use dmr_shared::api::{report_path, AGENTS_PATH, JDCS_PATH, OPENAPI_PATH, REPORTS_PATH};
use dmr_tests::raw::{self, RawAnswer};
use dmr_tests::{insert_clients, miner, report, ClientRow, Options, Worker};

const A: &str = "bc1qhead00000000000000000000000000000000000a";
const B: &str = "bc1qhead00000000000000000000000000000000000b";

/// Headers that may differ between two answers to the same request: when
/// it was sent, and how old a cached answer is.
const MAY_DIFFER: [&str; 2] = ["date", "age"];

fn start(vars: &[(&str, &str)]) -> Worker {
    let worker = Worker::start_with(Options {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        seed_sql: Some(insert_clients(&[
            ClientRow::live(A, "a1", "jd-client/sv2"),
            ClientRow::live(B, "b1", "jd-client/sv2"),
        ])),
        ..Options::default()
    });
    for identity in [A, B] {
        let reply = worker.post_report(&report(identity, vec![miner("bitaxe", 1e12, "w")]));
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    worker
}

/// The headers of `answer` that must be the same for `HEAD`, sorted.
fn comparable(answer: &RawAnswer) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = answer
        .headers
        .iter()
        .filter(|(name, _)| !MAY_DIFFER.contains(&name.as_str()))
        .cloned()
        .collect();
    headers.sort();
    headers
}

/// `HEAD path` answers as `GET path` without its body; returns the `GET`.
fn head_is_get(worker: &Worker, path: &str, headers: &[(&str, &str)]) -> RawAnswer {
    let get = raw::exchange(worker.port(), "GET", path, headers);
    let head = raw::exchange(worker.port(), "HEAD", path, headers);
    assert_eq!(head.status, get.status, "HEAD {path}");
    assert!(
        head.body.is_empty(),
        "HEAD {path} sent a body: {:?}",
        String::from_utf8_lossy(&head.body)
    );
    assert!(!get.body.is_empty(), "GET {path} sent no body");
    // The GET's length is told, not sent.
    let length = get.body.len().to_string();
    assert_eq!(
        get.header("content-length"),
        Some(length.as_str()),
        "GET {path}"
    );
    assert_eq!(
        head.header("content-length"),
        Some(length.as_str()),
        "HEAD {path}"
    );
    assert_eq!(comparable(&head), comparable(&get), "HEAD {path}");
    get
}

#[test]
fn head_answers_every_get_route_as_get_without_the_body() {
    let worker = start(&[]);
    let one = report_path(A);
    let unknown = report_path("bc1qnobody");
    let cases: [(&str, u16); 12] = [
        (REPORTS_PATH, 200),
        // A page with a `Link` to the next.
        ("/api/downstream-report?limit=1", 200),
        (&one, 200),
        (&unknown, 404),
        ("/api/downstream-report/a%20b", 400),
        (JDCS_PATH, 200),
        ("/api/jdcs?limit=1", 200),
        ("/api/jdcs?limt=1", 400),
        (AGENTS_PATH, 200),
        ("/api/agents?x=1", 400),
        (OPENAPI_PATH, 200),
        ("/api/nothing-here", 404),
    ];
    for (path, status) in cases {
        let get = head_is_get(&worker, path, &[]);
        assert_eq!(get.status, status, "GET {path}");
    }
    let paged = raw::exchange(worker.port(), "HEAD", "/api/jdcs?limit=1", &[]);
    assert!(paged.header("link").is_some(), "{paged:?}");

    // HEAD changed nothing a GET would not have.
    assert_eq!(worker.kv_keys().len(), 2);
}

#[test]
fn head_needs_the_token_a_get_needs() {
    let worker = start(&[("INSPECTOR_TOKEN", "read-s3cret")]);
    for path in [REPORTS_PATH, JDCS_PATH, AGENTS_PATH] {
        let refused = head_is_get(&worker, path, &[]);
        assert_eq!(refused.status, 401, "{path}");
        assert!(refused.header("www-authenticate").is_some(), "{path}");
        let wrong = head_is_get(&worker, path, &[("Authorization", "Bearer wrong")]);
        assert_eq!(wrong.status, 401, "{path}");
        let read = head_is_get(&worker, path, &[("Authorization", "Bearer read-s3cret")]);
        assert_eq!(read.status, 200, "{path}");
    }
}

#[test]
fn allow_lists_head_wherever_get_is_allowed() {
    let worker = Worker::start();
    let one = report_path(A);
    for (path, allow) in [
        (REPORTS_PATH, "GET, HEAD, POST"),
        (one.as_str(), "GET, HEAD"),
        (JDCS_PATH, "GET, HEAD"),
        (AGENTS_PATH, "GET, HEAD"),
        (OPENAPI_PATH, "GET, HEAD"),
    ] {
        for method in ["PUT", "DELETE", "PATCH", "OPTIONS", "QUERY"] {
            let answer = raw::exchange(worker.port(), method, path, &[("Content-Length", "0")]);
            assert_eq!(answer.status, 405, "{method} {path}");
            assert_eq!(answer.header("allow"), Some(allow), "{method} {path}");
        }
    }
}
