//! HTTP on the mining port, against a stand-in Worker that records exactly
//! what reaches it: reports are forwarded with the JDC's address and the
//! gateway token, the Worker's answers come back unchanged, and every
//! refusal (wrong path or method, too large, too slow, too many, garbage)
//! is the gateway's own and never reaches the Worker.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::{
    config, connect, connect_from_127_0_0_2, eventually, exchange, post, read_answer, start,
    Answer, Backend, Upstream,
};
use dmr_shared::api::{PROBLEM_CONTENT_TYPE, REPORTS_PATH};
use dmr_shared::limits::MAX_BODY_BYTES;

const REPORT: &str = r#"{"schemaVersion":1,"jdcUserIdentity":"bc1qexampleaddr.jdc","timestamp":"2026-02-15T12:00:00Z","miners":[]}"#;

struct Setup {
    // Field order is drop order: the gateway stops before its runtime.
    gateway: common::Running,
    upstream: Upstream,
    _sv2: Backend,
    _rt: std::sync::Arc<tokio::runtime::Runtime>,
}

fn setup(tune: impl FnOnce(&mut mining_gateway::Config)) -> Setup {
    let rt = common::runtime();
    let sv2 = Backend::silent(&rt);
    let upstream = Upstream::start(&rt);
    let mut cfg = config(sv2.addr, &upstream.url);
    cfg.gateway_token = Some("gw-s3cret".into());
    tune(&mut cfg);
    let gateway = start(&rt, cfg);
    Setup {
        gateway,
        upstream,
        _sv2: sv2,
        _rt: rt,
    }
}

fn assert_problem(answer: &common::RawAnswer, status: u16) {
    assert_eq!(answer.status, status);
    assert_eq!(
        answer.header("content-type").as_deref(),
        Some(PROBLEM_CONTENT_TYPE)
    );
    let problem = answer.json();
    assert_eq!(problem["status"], status);
    assert_eq!(problem["success"], false);
    assert!(
        problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{problem}"
    );
}

#[test]
fn a_report_is_forwarded_with_the_jdcs_address_and_the_gateway_token() {
    let s = setup(|_| {});
    let mut jdc = connect_from_127_0_0_2(s.gateway.addr);
    let request = post(
        REPORTS_PATH,
        &[
            "Authorization: Bearer report-token",
            // Whatever a JDC claims here is replaced.
            "X-Forwarded-For: 203.0.113.66",
            "X-Gateway-Token: forged",
            "Cookie: not-forwarded",
        ],
        REPORT.as_bytes(),
    );
    jdc.write_all(&request).unwrap();
    let answer = read_answer(&mut jdc).expect("an answer");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["success"], true);

    let received = s.upstream.received();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", REPORTS_PATH)
    );
    assert_eq!(r.body, REPORT.as_bytes());
    assert_eq!(r.header("content-type"), ["application/json"]);
    assert_eq!(r.header("authorization"), ["Bearer report-token"]);
    assert_eq!(r.header("x-forwarded-for"), ["127.0.0.2"]);
    assert_eq!(r.header("x-gateway-token"), ["gw-s3cret"]);
    assert!(r.header("cookie").is_empty());
    assert_eq!(
        s.gateway
            .metric("mining_gateway_forwarded_requests_total{method=\"POST\",status=\"200\"}"),
        1.0
    );
}

#[test]
fn the_workers_answer_comes_back_unchanged() {
    let s = setup(|_| {});
    let problem = r#"{"type":"about:blank","title":"Too many requests","status":429,"detail":"slow down","success":false}"#;
    s.upstream.answer_with(Answer {
        status: 429,
        headers: vec![
            ("content-type", PROBLEM_CONTENT_TYPE.into()),
            ("retry-after", "60".into()),
            (
                "www-authenticate",
                "Bearer realm=\"downstream-report\"".into(),
            ),
            (
                "link",
                "</api/downstream-report?limit=1&cursor=abc>; rel=\"next\"".into(),
            ),
            ("x-internal", "not for the JDC".into()),
        ],
        body: problem.as_bytes().to_vec(),
    });
    let answer = exchange(s.gateway.addr, &post(REPORTS_PATH, &[], REPORT.as_bytes())).unwrap();
    assert_eq!(answer.status, 429);
    assert_eq!(
        answer.header("content-type").as_deref(),
        Some(PROBLEM_CONTENT_TYPE)
    );
    assert_eq!(answer.header("retry-after").as_deref(), Some("60"));
    assert_eq!(
        answer.header("www-authenticate").as_deref(),
        Some("Bearer realm=\"downstream-report\"")
    );
    assert_eq!(
        answer.header("link").as_deref(),
        Some("</api/downstream-report?limit=1&cursor=abc>; rel=\"next\"")
    );
    assert_eq!(answer.header("x-internal"), None);
    assert_eq!(answer.body, problem.as_bytes());
}

#[test]
fn get_is_forwarded_with_its_query_for_the_debugging_view() {
    let s = setup(|_| {});
    s.upstream.answer_with(Answer::json(200, "[]"));
    let answer = exchange(
        s.gateway.addr,
        b"GET /api/downstream-report?limit=5&cursor=x%2Fy HTTP/1.1\r\nHost: pool\r\nAuthorization: Bearer read\r\n\r\n",
    )
    .unwrap();
    assert_eq!((answer.status, answer.body.as_slice()), (200, &b"[]"[..]));
    let r = &s.upstream.received()[0];
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("GET", "/api/downstream-report?limit=5&cursor=x%2Fy")
    );
    assert_eq!(r.header("authorization"), ["Bearer read"]);
    assert_eq!(r.header("x-forwarded-for"), ["127.0.0.1"]);
}

#[test]
fn head_is_forwarded_and_answered_without_a_body() {
    let s = setup(|_| {});
    s.upstream.answer_with(Answer::json(200, "[]"));
    let mut jdc = connect(s.gateway.addr);
    jdc.write_all(b"HEAD /api/downstream-report HTTP/1.1\r\nHost: pool\r\n\r\n")
        .unwrap();
    // The gateway closes after one answer: everything it sent is the head.
    let mut sent = Vec::new();
    jdc.read_to_end(&mut sent).unwrap();
    let text = String::from_utf8_lossy(&sent);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.ends_with("\r\n\r\n"),
        "no body after the head: {text:?}"
    );
    let r = &s.upstream.received()[0];
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("HEAD", "/api/downstream-report")
    );
}

#[test]
fn each_connection_carries_one_request() {
    let s = setup(|_| {});
    let mut jdc = connect(s.gateway.addr);
    // Two requests at once: the first is answered, then the connection is
    // closed without reading the second.
    let mut both = post(REPORTS_PATH, &[], REPORT.as_bytes());
    both.extend_from_slice(&post(REPORTS_PATH, &[], REPORT.as_bytes()));
    jdc.write_all(&both).unwrap();
    let answer = read_answer(&mut jdc).expect("an answer");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("connection").as_deref(), Some("close"));
    assert!(common::closes(&mut jdc));
    assert_eq!(s.upstream.received().len(), 1);
}

#[test]
fn other_paths_and_methods_are_answered_here() {
    let s = setup(|_| {});
    for path in ["/", "/api/jdcs", "/api/downstream-report/bc1q", "/metrics"] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: pool\r\n\r\n");
        assert_problem(&exchange(s.gateway.addr, request.as_bytes()).unwrap(), 404);
    }
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS"] {
        let request =
            format!("{method} {REPORTS_PATH} HTTP/1.1\r\nHost: pool\r\nContent-Length: 0\r\n\r\n");
        let answer = exchange(s.gateway.addr, request.as_bytes()).unwrap();
        assert_problem(&answer, 405);
        assert_eq!(answer.header("allow").as_deref(), Some("GET, HEAD, POST"));
    }
    assert!(
        s.upstream.received().is_empty(),
        "{:?}",
        s.upstream.received()
    );
    assert_eq!(
        s.gateway
            .metric("mining_gateway_local_answers_total{status=\"404\"}"),
        4.0
    );
}

#[test]
fn bodies_over_the_workers_limit_get_413_without_reaching_it() {
    let s = setup(|_| {});
    // Declared too large: refused before a byte of it is read.
    let head = format!(
        "POST {REPORTS_PATH} HTTP/1.1\r\nHost: pool\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        MAX_BODY_BYTES + 1
    );
    assert_problem(&exchange(s.gateway.addr, head.as_bytes()).unwrap(), 413);

    // Chunked, growing past the limit while it is read.
    let mut jdc = connect(s.gateway.addr);
    jdc.write_all(
        format!("POST {REPORTS_PATH} HTTP/1.1\r\nHost: pool\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent <= MAX_BODY_BYTES {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if jdc.write_all(&framed).is_err() {
            break; // the gateway answered and closed
        }
        sent += chunk.len();
    }
    let answer = read_answer(&mut jdc).expect("an answer");
    assert_problem(&answer, 413);
    assert!(s.upstream.received().is_empty());
}

#[test]
fn slow_bodies_and_slow_headers_are_cut_off() {
    let s = setup(|cfg| cfg.request_timeout = Duration::from_secs(1));
    // A body slower than a byte a second: 408.
    let mut jdc = connect(s.gateway.addr);
    jdc.write_all(
        format!("POST {REPORTS_PATH} HTTP/1.1\r\nHost: pool\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{")
            .as_bytes(),
    )
    .unwrap();
    let answer = loop {
        std::thread::sleep(Duration::from_millis(700));
        if jdc.write_all(b" ").is_err() {
            break read_answer(&mut jdc);
        }
        jdc.set_read_timeout(Some(Duration::from_millis(10)))
            .unwrap();
        let mut peek = [0u8; 1];
        if jdc.peek(&mut peek).is_ok() {
            jdc.set_read_timeout(Some(common::PATIENCE)).unwrap();
            break read_answer(&mut jdc);
        }
    };
    assert_problem(&answer.expect("an answer"), 408);

    // A header that never ends: the connection is closed.
    let mut jdc = connect(s.gateway.addr);
    jdc.write_all(format!("POST {REPORTS_PATH} HTTP/1.1\r\nHost: pool\r\n").as_bytes())
        .unwrap();
    assert!(common::closes(&mut jdc));
    assert!(s.upstream.received().is_empty());
}

#[test]
fn a_huge_header_gets_431_and_pipelined_garbage_is_never_read() {
    let s = setup(|_| {});
    // 64 KiB of head: the gateway reads 8 KiB, answers, and drops what
    // follows before it closes, so the answer is not lost to a reset.
    let huge = format!(
        "POST {REPORTS_PATH} HTTP/1.1\r\nHost: pool\r\nX-Padding: {}\r\nContent-Length: 0\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let mut jdc = connect(s.gateway.addr);
    let _ = jdc.write_all(huge.as_bytes());
    let answer = read_answer(&mut jdc).expect("an answer");
    assert_problem(&answer, 431);

    // A good request, then garbage: the first is answered and the
    // connection closed; the garbage is never read.
    let mut jdc = connect(s.gateway.addr);
    let mut bytes = post(REPORTS_PATH, &[], REPORT.as_bytes());
    bytes.extend_from_slice(b"GET \x00\x01\x02 garbage\r\n\r\n");
    jdc.write_all(&bytes).unwrap();
    assert_eq!(read_answer(&mut jdc).expect("the first answer").status, 200);
    assert!(common::closes(&mut jdc));
    // Only the good request reached the Worker.
    assert_eq!(s.upstream.received().len(), 1);
}

#[test]
fn too_many_reports_in_flight_get_503_with_retry_after() {
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
    // From another address: the first one holds its whole share.
    let mut jdc = connect_from_127_0_0_2(addr);
    jdc.write_all(&post(REPORTS_PATH, &[], REPORT.as_bytes()))
        .unwrap();
    let busy = read_answer(&mut jdc).unwrap();
    assert_problem(&busy, 503);
    assert_eq!(busy.header("retry-after").as_deref(), Some("5"));
    s.upstream.release();
    assert_eq!(first.join().unwrap().unwrap().status, 200);
    assert_eq!(s.upstream.received().len(), 1);
}

#[test]
fn a_slow_worker_gives_504_and_an_unreachable_one_502() {
    let s = setup(|cfg| cfg.worker_timeout = Duration::from_secs(1));
    s.upstream.hold();
    let answer = exchange(s.gateway.addr, &post(REPORTS_PATH, &[], REPORT.as_bytes())).unwrap();
    assert_problem(&answer, 504);
    s.upstream.release();

    let s = setup(|cfg| cfg.report_url = common::nowhere().parse().unwrap());
    let answer = exchange(s.gateway.addr, &post(REPORTS_PATH, &[], REPORT.as_bytes())).unwrap();
    assert_problem(&answer, 502);
    assert_eq!(
        s.gateway
            .metric("mining_gateway_forwarded_requests_total{method=\"POST\",status=\"502\"}"),
        1.0
    );
}

#[test]
fn a_request_arriving_a_byte_at_a_time_is_still_http() {
    let s = setup(|_| {});
    let mut jdc = connect(s.gateway.addr);
    let request = post(REPORTS_PATH, &[], REPORT.as_bytes());
    for byte in &request[..6] {
        jdc.write_all(&[*byte]).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    jdc.write_all(&request[6..]).unwrap();
    assert_eq!(read_answer(&mut jdc).expect("an answer").status, 200);
    assert!(common::closes(&mut jdc), "one request per connection");
}
