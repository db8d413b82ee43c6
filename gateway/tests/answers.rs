//! Every answer the gateway writes itself, checked as a client sees it: an
//! RFC 9457 problem (`type`, `title`, `status`, `detail`, `success: false`)
//! as `application/problem+json`, with `X-Content-Type-Options: nosniff`,
//! `Cache-Control: no-store` and `Connection: close`, and nothing of the
//! request repeated in it.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{
    config, connect, connect_from, eventually, exchange, post, read_answer, start, Backend,
    RawAnswer, Running, Upstream,
};
use dmr_shared::api::{PROBLEM_CONTENT_TYPE, REPORTS_PATH};
use dmr_shared::limits::MAX_BODY_BYTES;
use dmr_shared::Problem;
use mining_gateway::answer::{MAX_HEADERS, MAX_HEADER_BYTES};

const REPORT: &str = r#"{"schemaVersion":1,"jdcUserIdentity":"bc1qexampleaddr.jdc","timestamp":"2026-02-15T12:00:00Z","miners":[]}"#;

/// Put in every request, where the request allows: an answer that repeats
/// request text would contain it.
const MARKER: &str = "echo-marker";

struct Setup {
    // Field order is drop order: the gateway stops before its runtime.
    gateway: Running,
    upstream: Upstream,
    _sv2: Backend,
    _rt: std::sync::Arc<tokio::runtime::Runtime>,
}

fn setup(tune: impl FnOnce(&mut mining_gateway::Config)) -> Setup {
    let rt = common::runtime();
    let sv2 = Backend::silent(&rt);
    let upstream = Upstream::start(&rt);
    let mut cfg = config(sv2.addr, &upstream.url);
    tune(&mut cfg);
    let gateway = start(&rt, cfg);
    Setup {
        gateway,
        upstream,
        _sv2: sv2,
        _rt: rt,
    }
}

/// The checks every answer of the gateway's own passes.
fn assert_own(what: &str, answer: Option<RawAnswer>, status: u16) -> RawAnswer {
    let answer = answer.unwrap_or_else(|| panic!("{what}: no answer"));
    assert_eq!(answer.status, status, "{what}");
    for (name, value) in [
        ("content-type", PROBLEM_CONTENT_TYPE),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
        ("connection", "close"),
    ] {
        assert_eq!(
            answer.header(name).as_deref(),
            Some(value),
            "{what}: {name} in {:?}",
            answer.headers
        );
    }
    let text = String::from_utf8_lossy(&answer.body);
    assert!(
        !text.contains(MARKER),
        "{what}: the answer repeats the request: {text}"
    );
    let problem: Problem = serde_json::from_slice(&answer.body).expect("a problem");
    assert_eq!(problem.kind, "about:blank", "{what}");
    assert_eq!(problem.status, status, "{what}");
    assert!(!problem.success, "{what}");
    assert!(
        !problem.title.is_empty() && !problem.detail.is_empty(),
        "{what}: {text}"
    );
    println!("{status} {what}: {}", problem.detail);
    answer
}

/// A 431's detail names both limits of a request head, as they are.
fn assert_names_the_head_limits(answer: &RawAnswer) {
    let problem: Problem = serde_json::from_slice(&answer.body).expect("a problem");
    for limit in [MAX_HEADER_BYTES.to_string(), MAX_HEADERS.to_string()] {
        assert!(
            problem.detail.contains(&limit),
            "{limit}: {}",
            problem.detail
        );
    }
}

#[test]
fn refusals_of_the_request_itself() {
    let s = setup(|_| {});
    let addr = s.gateway.addr;
    let head = |first: &str, extra: &str| format!("{first}\r\nHost: pool\r\n{extra}\r\n");

    let path = format!("GET /{MARKER}/%3Cscript%3E HTTP/1.1");
    assert_own(
        "another path",
        exchange(addr, head(&path, "").as_bytes()),
        404,
    );

    let query = format!("DELETE {REPORTS_PATH}?{MARKER}=1 HTTP/1.1");
    let answer = assert_own(
        "another method",
        exchange(addr, head(&query, "Content-Length: 0\r\n").as_bytes()),
        405,
    );
    assert_eq!(answer.header("allow").as_deref(), Some("GET, HEAD, POST"));
    assert!(!String::from_utf8_lossy(&answer.body).contains("DELETE"));

    let declared = format!(
        "Content-Length: {}\r\nX-Note: {MARKER}\r\n",
        MAX_BODY_BYTES + 1
    );
    let first = format!("POST {REPORTS_PATH} HTTP/1.1");
    assert_own(
        "a body declared too large",
        exchange(addr, head(&first, &declared).as_bytes()),
        413,
    );

    let huge = format!("X-{MARKER}: {}\r\n", "a".repeat(16 * 1024));
    let mut jdc = connect(addr);
    let _ = jdc.write_all(head(&first, &huge).as_bytes());
    let over = assert_own("a head over 8 KiB", read_answer(&mut jdc), 431);
    assert_names_the_head_limits(&over);

    // Short lines, but more than hyper parses: also 431, and the answer
    // says which limits there are.
    let many: String = (0..MAX_HEADERS + 1)
        .map(|i| format!("X-{i}: {MARKER}\r\n"))
        .collect();
    let mut jdc = connect(addr);
    let _ = jdc.write_all(head(&first, &many).as_bytes());
    let over = assert_own("a head of too many lines", read_answer(&mut jdc), 431);
    assert_names_the_head_limits(&over);

    let bad_header = format!("{MARKER} no colon\r\n");
    assert_own(
        "a header line without a colon",
        exchange(addr, head(&first, &bad_header).as_bytes()),
        400,
    );

    let bad_version = format!("POST /{MARKER} HTTP/9.9");
    assert_own(
        "an unknown HTTP version",
        exchange(addr, head(&bad_version, "").as_bytes()),
        400,
    );

    let chunked = format!("Transfer-Encoding: chunked\r\n\r\nzz-{MARKER}\r\n");
    let request = head(&first, &chunked);
    assert_own(
        "a body framed wrongly",
        exchange(addr, request.trim_end().as_bytes()),
        400,
    );

    assert!(
        s.upstream.received().is_empty(),
        "{:?}",
        s.upstream.received()
    );
    for status in [400, 404, 405, 413, 431] {
        assert!(
            s.gateway.metric(&format!(
                "mining_gateway_local_answers_total{{status=\"{status}\"}}"
            )) >= 1.0,
            "{status} counted"
        );
    }
}

#[test]
fn a_body_slower_than_the_request_timeout_gets_408() {
    let s = setup(|cfg| cfg.request_timeout = Duration::from_millis(300));
    let mut jdc = connect(s.gateway.addr);
    let request = post(
        REPORTS_PATH,
        &[&format!("X-Note: {MARKER}")],
        REPORT.as_bytes(),
    );
    jdc.write_all(&request[..request.len() - 10]).unwrap();
    assert_own("a slow body", read_answer(&mut jdc), 408);
    assert!(s.upstream.received().is_empty());
}

#[test]
fn an_address_over_its_share_gets_429() {
    let s = setup(|cfg| cfg.max_requests_per_address = 1);
    let addr = s.gateway.addr;
    let mut holding = connect_from([127, 0, 0, 3], addr);
    holding
        .write_all(format!("POST {REPORTS_PATH} HTTP/1.1\r\nHost: pool\r\n").as_bytes())
        .unwrap();
    eventually("the first request to hold the share", || {
        s.gateway.metric("mining_gateway_http_addresses") == 1.0
    });
    let mut more = connect_from([127, 0, 0, 3], addr);
    more.write_all(&post(
        REPORTS_PATH,
        &[&format!("X-Note: {MARKER}")],
        REPORT.as_bytes(),
    ))
    .unwrap();
    let answer = assert_own("an address over its share", read_answer(&mut more), 429);
    assert_eq!(answer.header("retry-after").as_deref(), Some("5"));
    assert!(common::closes(&mut more));
    assert_eq!(s.gateway.metric("mining_gateway_share_refusals_total"), 1.0);
    // Another address is not affected.
    let other = exchange(addr, &post(REPORTS_PATH, &[], REPORT.as_bytes()));
    assert_eq!(other.unwrap().status, 200);
}

#[test]
fn every_forwarding_place_taken_gets_503() {
    let s = setup(|cfg| {
        cfg.max_forwards = 1;
        cfg.max_requests_per_address = 1;
    });
    s.upstream.hold();
    let addr = s.gateway.addr;
    let first =
        std::thread::spawn(move || exchange(addr, &post(REPORTS_PATH, &[], REPORT.as_bytes())));
    eventually("the first report to reach the Worker", || {
        s.upstream.received().len() == 1
    });
    let mut jdc = connect_from([127, 0, 0, 3], addr);
    jdc.write_all(&post(
        REPORTS_PATH,
        &[&format!("X-Note: {MARKER}")],
        REPORT.as_bytes(),
    ))
    .unwrap();
    let answer = assert_own("every forwarding place taken", read_answer(&mut jdc), 503);
    assert_eq!(answer.header("retry-after").as_deref(), Some("5"));
    s.upstream.release();
    assert_eq!(first.join().unwrap().unwrap().status, 200);
}

#[test]
fn the_workers_failures_get_502_and_504() {
    let s = setup(|cfg| cfg.worker_timeout = Duration::from_millis(300));
    s.upstream.hold();
    let request = post(
        REPORTS_PATH,
        &[&format!("X-Note: {MARKER}")],
        REPORT.as_bytes(),
    );
    assert_own("a slow Worker", exchange(s.gateway.addr, &request), 504);
    s.upstream.release();

    let s = setup(|cfg| cfg.report_url = common::nowhere().parse().unwrap());
    assert_own(
        "an unreachable Worker",
        exchange(s.gateway.addr, &request),
        502,
    );
}

#[test]
fn the_metrics_address_answers_as_carefully() {
    let s = setup(|cfg| cfg.metrics = Some("127.0.0.1:0".parse().unwrap()));
    let metrics = s.gateway.metrics_addr.unwrap();
    let request = format!("GET /{MARKER} HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_own(
        "another path on the metrics address",
        exchange(metrics, request.as_bytes()),
        404,
    );
    let garbage = format!("GET /metrics HTTP/1.1\r\n{MARKER} no colon\r\n\r\n");
    assert_own(
        "garbage on the metrics address",
        exchange(metrics, garbage.as_bytes()),
        400,
    );
    let huge = format!(
        "GET /metrics HTTP/1.1\r\nX-{MARKER}: {}\r\n\r\n",
        "a".repeat(16 * 1024)
    );
    let mut client = connect(metrics);
    let _ = client.write_all(huge.as_bytes());
    let over = assert_own(
        "a head over 8 KiB on the metrics address",
        read_answer(&mut client),
        431,
    );
    assert_names_the_head_limits(&over);
    let text = exchange(
        metrics,
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(text.status, 200);
    assert_eq!(
        text.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}
