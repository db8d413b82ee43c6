//! When every report needs a token, a report that no configured token could
//! admit is refused 401 before its body is read: the answer comes while
//! most of the body has not even been sent. Only a token that could admit
//! some report gets its body read.
//!
//! `wrangler dev` reads whatever body a Worker left unread before it sends
//! the answer (a middleware deployed Workers do not have). The Workers that
//! show when an answer comes run without it (`Options::undrained_bodies`);
//! whole bodies are sent to Workers with it, as the local runtime's entry
//! Worker can otherwise lose its connection while it still passes a body on
//! that the Worker has already refused.

use std::io::Write;
use std::time::Duration;

use dmr_shared::api::REPORTS_PATH;
use dmr_tests::{insert_clients, raw, ClientRow, Options, Worker};
use serde_json::json;

const A: &str = "bc1qearly000000000000000000000000000000000a";

/// An invalid body (not JSON at all) of 3 MiB: read, it earns a 400.
fn invalid_body() -> Vec<u8> {
    vec![b'x'; 3 * 1024 * 1024]
}

fn start(vars: &[(&str, &str)], undrained_bodies: bool) -> Worker {
    Worker::start_with(Options {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        seed_sql: Some(insert_clients(&[ClientRow::live(A, "a1", "jd-client/sv2")])),
        undrained_bodies,
        ..Options::default()
    })
}

fn post(worker: &Worker, authorization: Option<&str>, body: &[u8]) -> dmr_tests::Reply {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(value) = authorization {
        headers.push(("Authorization", value));
    }
    worker.request_with("POST", REPORTS_PATH, &headers, Some(body))
}

/// Sends the head of a 3 MiB report and its first 64 KiB only, and returns
/// the answer if one comes before the rest is sent (within `wait`), with
/// the socket to send the rest on.
fn answer_to_a_head(
    worker: &Worker,
    authorization: Option<&str>,
    wait: Duration,
) -> (Option<raw::RawAnswer>, std::net::TcpStream) {
    let mut stream = raw::connect(worker.port());
    let mut head = format!(
        "POST {REPORTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        3 * 1024 * 1024
    );
    if let Some(value) = authorization {
        head.push_str(&format!("Authorization: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send the head");
    stream.write_all(&[b'x'; 64 * 1024]).expect("send 64 KiB");
    stream.set_read_timeout(Some(wait)).expect("timeout");
    (raw::read_head(&mut stream), stream)
}

fn assert_untouched(worker: &Worker) {
    assert!(worker.kv_keys().is_empty(), "KV was written");
    let agents = worker.d1("SELECT DISTINCT userAgent FROM clients");
    assert_eq!(agents, [json!({"userAgent": "jd-client/sv2"})]);
}

/// With `REPORT_TOKEN` (and per-identity tokens besides): no credential, a
/// wrong one or another scheme is a 401 for an invalid 3 MiB body, not a
/// 400; the 401 comes with 64 KiB of the 3 MiB sent.
#[test]
fn no_admissible_token_is_refused_before_the_body() {
    let with_listed = [
        ("REPORT_TOKEN", "shared-s3cret"),
        (
            "REPORT_TOKENS",
            r#"{"bc1qearly000000000000000000000000000000000a": "a-only"}"#,
        ),
    ];
    let refused = [
        None,
        Some("Bearer wrong"),
        Some("Bearer "),
        Some("Basic c2hhcmVkLXMzY3JldA=="),
        Some("shared-s3cret"),
    ];
    for vars in [&with_listed[..1], &with_listed[..]] {
        let case = format!("{vars:?}");
        let worker = start(vars, false);
        for authorization in refused {
            let reply = post(&worker, authorization, &invalid_body());
            assert_eq!(
                reply.status, 401,
                "{case}: {authorization:?}: {}",
                reply.body
            );
            assert_eq!(reply.content_type, "application/problem+json");
            assert_eq!(
                reply.www_authenticate.as_deref(),
                Some("Bearer realm=\"downstream-report\"")
            );
        }
        // A token that could admit some report gets its body read: the
        // invalid body is a 400.
        let mut admitting = vec!["Bearer shared-s3cret"];
        if vars.len() > 1 {
            admitting.push("Bearer a-only");
        }
        for authorization in admitting {
            let reply = post(&worker, Some(authorization), &invalid_body());
            assert_eq!(reply.status, 400, "{case}: {authorization}: {}", reply.body);
        }
        assert_untouched(&worker);
        drop(worker);

        // The same with the body held back: the 401 does not wait for it
        // (the 30 s bound is never reached when it works).
        let worker = start(vars, true);
        for authorization in refused {
            let (answer, _) = answer_to_a_head(&worker, authorization, Duration::from_secs(30));
            let answer = answer.expect("a 401 before the body was sent");
            assert_eq!(answer.status, 401, "{case}: {authorization:?}");
        }
        assert_untouched(&worker);
    }
}

/// A token that could admit a report waits for its body: nothing is
/// answered while the body is held back, and once it is all sent it is
/// read (and refused as the invalid JSON it is).
#[test]
fn an_admissible_token_waits_for_the_body() {
    let worker = start(&[("REPORT_TOKEN", "shared-s3cret")], true);
    let (answer, mut stream) = answer_to_a_head(
        &worker,
        Some("Bearer shared-s3cret"),
        Duration::from_secs(2),
    );
    assert!(answer.is_none(), "answered before the body: {answer:?}");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream
        .write_all(&invalid_body()[64 * 1024..])
        .expect("send the rest");
    let answer = raw::read_head(&mut stream).expect("an answer once the body is sent");
    assert_eq!(answer.status, 400);
    assert_untouched(&worker);
}

/// Without `REPORT_TOKEN`, identities of unlisted addresses need no token,
/// and only the body tells the identity: a request without one is read.
#[test]
fn without_a_shared_token_the_body_decides() {
    let worker = start(
        &[(
            "REPORT_TOKENS",
            r#"{"bc1qearly000000000000000000000000000000000a": "a-only"}"#,
        )],
        false,
    );
    let reply = post(&worker, None, &invalid_body());
    assert_eq!(reply.status, 400, "{}", reply.body);
    let reply = post(&worker, Some("Bearer wrong"), &invalid_body());
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_untouched(&worker);
}
