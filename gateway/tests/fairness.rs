//! One client address cannot starve the others. Greedy clients send half a
//! report's head, or its head, or its head and half its body, and then
//! nothing: their
//! address holds at most its share of open requests
//! (`--max-requests-per-address`, 8), each request beyond it gets 429 with
//! `Retry-After` and is closed, and none of them holds a forwarding place.
//! Meanwhile a JDC at another address reports every second, and every one
//! of its reports is forwarded and answered 200 in about the Worker's own
//! time (printed; the bounds asserted are generous). When the greedy
//! clients go away, nothing of theirs stays open.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{
    config, connect_from, eventually, post, read_answer, sockets_on, start, Backend, RawAnswer,
    Running, Upstream,
};
use dmr_shared::api::{PROBLEM_CONTENT_TYPE, REPORTS_PATH};
use mining_gateway::config::{DEFAULT_MAX_FORWARDS, DEFAULT_MAX_REQUESTS_PER_ADDRESS};

const REPORT: &str = r#"{"schemaVersion":1,"jdcUserIdentity":"bc1qexampleaddr.jdc","timestamp":"2026-02-15T12:00:00Z","miners":[]}"#;

/// How long the stand-in Worker takes to answer.
const WORKER_TIME: Duration = Duration::from_millis(50);
/// Reports the honest JDC sends, one a second.
const HONEST_REPORTS: usize = 5;
/// The honest JDC's address.
const HONEST: [u8; 4] = [127, 0, 0, 10];
/// A generous bound on an honest report's answer time (the Worker takes
/// 50 ms; a refusal or a wait for a greedy client's timeout would be 0 ms
/// or 20 s).
const GENEROUS: Duration = Duration::from_secs(5);

/// What each greedy request sends before it stops.
#[derive(Debug, Clone, Copy)]
enum Greed {
    /// Half the head.
    HalfHead,
    /// The whole head, announcing a body, and no body.
    Head,
    /// The head and half the body.
    HalfBody,
}

impl Greed {
    fn bytes(self) -> Vec<u8> {
        let request = post(REPORTS_PATH, &[], REPORT.as_bytes());
        let head = request.len() - REPORT.len();
        match self {
            Greed::HalfHead => request[..head / 2].to_vec(),
            Greed::Head => request[..head].to_vec(),
            Greed::HalfBody => request[..head + REPORT.len() / 2].to_vec(),
        }
    }
}

struct Setup {
    // Field order is drop order: the gateway stops before its runtime.
    gateway: Running,
    upstream: Upstream,
    _sv2: Backend,
    _rt: std::sync::Arc<tokio::runtime::Runtime>,
}

fn setup(request_timeout: Duration) -> Setup {
    setup_with(request_timeout, |_| {})
}

fn setup_with(request_timeout: Duration, tune: impl FnOnce(&mut mining_gateway::Config)) -> Setup {
    let rt = common::runtime();
    let sv2 = Backend::silent(&rt);
    let upstream = Upstream::start(&rt);
    upstream.answer_after(WORKER_TIME);
    let mut cfg = config(sv2.addr, &upstream.url);
    cfg.request_timeout = request_timeout;
    assert_eq!(cfg.max_forwards, DEFAULT_MAX_FORWARDS);
    assert_eq!(
        cfg.max_requests_per_address,
        DEFAULT_MAX_REQUESTS_PER_ADDRESS
    );
    tune(&mut cfg);
    let gateway = start(&rt, cfg);
    Setup {
        gateway,
        upstream,
        _sv2: sv2,
        _rt: rt,
    }
}

/// `total` greedy requests, each on its own connection, their sources
/// taken in turn from `sources`.
fn greedy(addr: SocketAddr, sources: &[[u8; 4]], total: usize, greed: Greed) -> Vec<TcpStream> {
    let bytes = greed.bytes();
    (0..total)
        .map(|i| {
            let mut stream = connect_from(sources[i % sources.len()], addr);
            stream.write_all(&bytes).expect("a greedy request is sent");
            stream
        })
        .collect()
}

/// The answer already waiting on `stream`, or `None` if there is none yet.
fn answer_if_any(stream: &mut TcpStream) -> Option<RawAnswer> {
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut byte = [0u8; 1];
    let waiting = matches!(stream.peek(&mut byte), Ok(n) if n > 0);
    stream.set_read_timeout(Some(common::PATIENCE)).unwrap();
    if waiting {
        read_answer(stream)
    } else {
        None
    }
}

/// The gateway's own problem answer of `status`, with its safety headers.
fn assert_own_answer(answer: &RawAnswer, status: u16) {
    assert_eq!(answer.status, status);
    assert_eq!(
        answer.header("content-type").as_deref(),
        Some(PROBLEM_CONTENT_TYPE)
    );
    assert_eq!(
        answer.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(answer.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(answer.json()["status"], status);
}

/// The honest JDC's reports, one a second: each answer's time.
fn honest_reports(addr: SocketAddr) -> Vec<Duration> {
    let started = Instant::now();
    (0..HONEST_REPORTS)
        .map(|i| {
            let due = started + Duration::from_secs(i as u64);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let sent = Instant::now();
            let mut jdc = connect_from(HONEST, addr);
            jdc.write_all(&post(REPORTS_PATH, &[], REPORT.as_bytes()))
                .unwrap();
            let answer = read_answer(&mut jdc).expect("an answer");
            let took = sent.elapsed();
            assert_eq!(
                answer.status,
                200,
                "report {i}: {:?}",
                String::from_utf8_lossy(&answer.body)
            );
            took
        })
        .collect()
}

fn millis(times: &[Duration]) -> String {
    let ms: Vec<String> = times
        .iter()
        .map(|t| format!("{:.1}", t.as_secs_f64() * 1000.0))
        .collect();
    format!("[{}] ms", ms.join(", "))
}

/// The whole scenario: greedy requests from `sources`, the honest JDC's
/// reports meanwhile, the greedy clients' answers, and what is left once
/// they go away.
fn scenario(sources: &[[u8; 4]], total: usize, greed: Greed) {
    let s = setup(Duration::from_secs(20));
    let addr = s.gateway.addr;
    let share = DEFAULT_MAX_REQUESTS_PER_ADDRESS;
    let held = (share * sources.len()).min(total);

    let mut streams = greedy(addr, sources, total, greed);
    eventually("the greedy requests beyond the share to be refused", || {
        s.gateway.metric("mining_gateway_share_refusals_total") == (total - held) as f64
    });
    eventually("the greedy requests within the share to be open", || {
        s.gateway
            .metric("mining_gateway_open_connections{class=\"http\"}")
            == held as f64
    });

    let times = honest_reports(addr);
    println!(
        "fairness: {total} greedy requests ({greed:?}) from {} address(es): the other address's {} reports answered 200 in {} (the Worker takes {} ms)",
        sources.len(),
        times.len(),
        millis(&times),
        WORKER_TIME.as_millis()
    );
    for t in &times {
        assert!(*t < GENEROUS, "{}", millis(&times));
    }
    assert_eq!(s.upstream.received().len(), HONEST_REPORTS);
    assert_eq!(s.gateway.metric("mining_gateway_forwarding"), 0.0);
    assert_eq!(
        s.gateway
            .metric("mining_gateway_local_answers_total{status=\"503\"}"),
        0.0
    );

    // The greedy clients' answers: 429 beyond the share, nothing (yet)
    // within it; a refused connection is closed after its answer.
    let mut refused = 0;
    let mut waiting = 0;
    for stream in &mut streams {
        match answer_if_any(stream) {
            Some(answer) => {
                assert_own_answer(&answer, 429);
                assert_eq!(answer.header("retry-after").as_deref(), Some("5"));
                assert!(common::closes(stream));
                refused += 1;
            }
            None => waiting += 1,
        }
    }
    assert_eq!((refused, waiting), (total - held, held));
    assert_eq!(
        s.gateway.metric("mining_gateway_http_addresses"),
        sources.len() as f64
    );

    // The greedy clients go away: nothing of theirs stays open.
    drop(streams);
    eventually("the gateway to close every greedy connection", || {
        s.gateway
            .metric("mining_gateway_open_connections{class=\"http\"}")
            == 0.0
            && s.gateway.metric("mining_gateway_http_addresses") == 0.0
            && s.gateway.metric("mining_gateway_body_bytes") == 0.0
            && sockets_on(addr.port()) == 0
    });
    assert_eq!(s.upstream.received().len(), HONEST_REPORTS);
}

const ONE: [[u8; 4]; 1] = [[127, 0, 0, 2]];
const EIGHT: [[u8; 4]; 8] = [
    [127, 0, 0, 2],
    [127, 0, 0, 3],
    [127, 0, 0, 4],
    [127, 0, 0, 5],
    [127, 0, 0, 6],
    [127, 0, 0, 7],
    [127, 0, 0, 8],
    [127, 0, 0, 9],
];

/// The same reports with no greedy client, to compare the times with.
#[test]
fn with_no_greedy_client_reports_take_the_workers_time() {
    let s = setup(Duration::from_secs(20));
    let times = honest_reports(s.gateway.addr);
    println!(
        "fairness: no greedy requests: {} reports answered 200 in {} (the Worker takes {} ms)",
        times.len(),
        millis(&times),
        WORKER_TIME.as_millis()
    );
}

#[test]
fn one_address_with_64_heads_starves_no_one() {
    scenario(&ONE, 64, Greed::Head);
}

#[test]
fn one_address_with_64_half_bodies_starves_no_one() {
    scenario(&ONE, 64, Greed::HalfBody);
}

#[test]
fn one_address_with_500_heads_starves_no_one() {
    scenario(&ONE, 500, Greed::Head);
}

#[test]
fn one_address_with_500_half_heads_starves_no_one() {
    scenario(&ONE, 500, Greed::HalfHead);
}

#[test]
fn one_address_with_500_half_bodies_starves_no_one() {
    scenario(&ONE, 500, Greed::HalfBody);
}

/// Eight addresses at their share hold 64 requests, as many as there are
/// forwarding places, and still take none of them.
#[test]
fn eight_addresses_with_500_heads_starve_no_one() {
    scenario(&EIGHT, 500, Greed::Head);
}

#[test]
fn eight_addresses_with_500_half_bodies_starve_no_one() {
    scenario(&EIGHT, 500, Greed::HalfBody);
}

/// A request held within the share ends at the request timeout, with 408,
/// and its place goes back to its address.
#[test]
fn requests_within_the_share_end_with_408_at_the_request_timeout() {
    let s = setup(Duration::from_secs(1));
    let addr = s.gateway.addr;
    let share = DEFAULT_MAX_REQUESTS_PER_ADDRESS;
    let mut streams = greedy(addr, &ONE, share, Greed::HalfBody);
    eventually("the share to be taken", || {
        s.gateway
            .metric("mining_gateway_open_connections{class=\"http\"}")
            == share as f64
    });
    for stream in &mut streams {
        let answer = read_answer(stream).expect("an answer at the timeout");
        assert_own_answer(&answer, 408);
        assert!(common::closes(stream));
    }
    drop(streams);
    eventually("the share to be given back", || {
        s.gateway.metric("mining_gateway_http_addresses") == 0.0 && sockets_on(addr.port()) == 0
    });
    // The address has its whole share again.
    let mut jdc = connect_from(ONE[0], addr);
    jdc.write_all(&post(REPORTS_PATH, &[], REPORT.as_bytes()))
        .unwrap();
    assert_eq!(read_answer(&mut jdc).unwrap().status, 200);
    let mut rest = Vec::new();
    let _ = jdc.read_to_end(&mut rest);
}

/// Bodies on their way hold the body memory (`--body-memory`) by the bytes
/// that have arrived. Two addresses holding nearly all of it leave a third
/// a few bytes: a body past them gets 503 with `Retry-After`; once one of
/// the two goes away, reports are forwarded again.
#[test]
fn bodies_past_the_body_memory_get_503_until_some_is_given_back() {
    const MIB: usize = 1024 * 1024;
    let s = setup_with(Duration::from_secs(20), |cfg| cfg.body_memory_mib = 8);
    let addr = s.gateway.addr;
    let big = |source: [u8; 4]| {
        let mut stream = connect_from(source, addr);
        let head = format!(
            "POST {REPORTS_PATH} HTTP/1.1\r\nHost: pool\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            4 * MIB
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&vec![b' '; 4 * MIB - 1]).unwrap();
        stream
    };
    let first = big([127, 0, 0, 2]);
    let _second = big([127, 0, 0, 3]);
    eventually("both bodies to be held", || {
        s.gateway.metric("mining_gateway_body_bytes") == (8 * MIB - 2) as f64
    });

    let mut jdc = connect_from(HONEST, addr);
    jdc.write_all(&post(REPORTS_PATH, &[], REPORT.as_bytes()))
        .unwrap();
    let answer = read_answer(&mut jdc).expect("an answer");
    assert_own_answer(&answer, 503);
    assert_eq!(answer.header("retry-after").as_deref(), Some("5"));
    assert_eq!(
        s.gateway.metric("mining_gateway_body_bytes"),
        (8 * MIB - 2) as f64
    );

    drop(first);
    eventually("the first body's memory to be given back", || {
        s.gateway.metric("mining_gateway_body_bytes") == (4 * MIB - 1) as f64
    });
    let times = honest_reports(addr);
    println!(
        "body memory: with half of it held, reports answered 200 in {}",
        millis(&times)
    );
    assert_eq!(s.upstream.received().len(), HONEST_REPORTS);
}
