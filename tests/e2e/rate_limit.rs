//! Bursts are refused with 429 and Retry-After, per identity and per client
//! IP, before anything is stored; other clients keep being served.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dmr_shared::api::REPORTS_PATH;
use dmr_tests::{report, Worker};

/// wrangler dev counts requests in 60 s windows aligned to the wall clock:
/// a burst that straddles two windows is counted in halves. Wait (at most
/// 45 s) until the current window has at least 45 s left, so the burst is
/// counted whole however slow the machine.
fn at_start_of_window() {
    let into_window = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
        % 60.0;
    if into_window > 15.0 {
        std::thread::sleep(Duration::from_secs_f64(60.0 - into_window + 0.5));
    }
}

fn post(worker: &Worker, identity: &str, ip: &str) -> dmr_tests::Reply {
    let body = report(identity, vec![]).to_string();
    worker.request_with(
        "POST",
        REPORTS_PATH,
        &[
            ("Content-Type", "application/json"),
            ("CF-Connecting-IP", ip),
        ],
        Some(body.as_bytes()),
    )
}

#[test]
fn a_burst_from_one_identity_gets_429_with_retry_after() {
    let worker = Worker::start();
    // wrangler.toml allows 10 reports per identity per minute. Each request
    // comes from its own IP so only the identity limit applies.
    at_start_of_window();
    let statuses: Vec<u16> = (0..15)
        .map(|i| post(&worker, "bc1qburst", &format!("192.0.2.{i}")).status)
        .collect();
    assert_eq!(statuses[..10], [200; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 5], "{statuses:?}");

    let reply = post(&worker, "bc1qburst", "192.0.2.99");
    assert_eq!(reply.status, 429);
    assert_eq!(reply.retry_after.as_deref(), Some("60"));
    assert_eq!(reply.content_type, "application/problem+json");

    // Other identities are unaffected.
    assert_eq!(post(&worker, "bc1qcalm", "192.0.2.100").status, 200);
}

#[test]
fn a_burst_from_one_ip_gets_429_before_its_body_is_read() {
    let worker = Worker::start();
    // 120 requests per IP per minute, each for a different identity.
    at_start_of_window();
    let statuses: Vec<u16> = (0..125)
        .map(|i| post(&worker, &format!("bc1qip{i}"), "198.51.100.7").status)
        .collect();
    assert!(statuses[..120].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses[120..], [429; 5]);

    // A refused request's report is not stored.
    let stored = worker.get_reports().len();
    assert_eq!(stored, 120);
    // Even an unparseable body is refused by the IP limit first.
    let reply = worker.request_with(
        "POST",
        REPORTS_PATH,
        &[
            ("Content-Type", "application/json"),
            ("CF-Connecting-IP", "198.51.100.7"),
        ],
        Some(b"not json"),
    );
    assert_eq!(reply.status, 429);
    // Another IP is served.
    assert_eq!(post(&worker, "bc1qother", "198.51.100.8").status, 200);
}
