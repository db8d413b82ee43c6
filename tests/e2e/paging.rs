//! Reads never fail because of size: a store of maximum-size reports is read
//! in full, page by page (cut by bytes as well as by count), every page a
//! 200. And `limit`, `cursor` and other query parameters are checked as
//! documented: anything but a whole number in range, a cursor from the
//! `Link` header, each once, is a 400 naming the parameter.

use dmr_shared::api::{report_path, JDCS_PATH, REPORTS_PATH};
use dmr_shared::limits::{MAX_CURSOR_LEN, MAX_PAGE_BYTES};
use dmr_shared::percent::percent_encode;
use dmr_shared::{JdcSummary, Report};
use dmr_tests::bodies::largest_report;
use dmr_tests::{miner, report, Options, Worker};
use serde_json::{json, Value};

fn start() -> Worker {
    Worker::start_with(Options {
        without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
        ..Options::default()
    })
}

/// Follows `Link` headers from `path` to the end: each page's status, size
/// and items. Bounded by `max_pages`.
fn read_all(worker: &Worker, path: &str, max_pages: usize) -> Vec<(u16, usize, Vec<Value>)> {
    let mut pages = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next.take() {
        assert!(pages.len() < max_pages, "more than {max_pages} pages");
        let reply = worker.request("GET", &path, None);
        assert_eq!(
            reply.status,
            200,
            "{path}: {}",
            &reply.body[..reply.body.len().min(500)]
        );
        assert!(reply.content_type.starts_with("application/json"));
        let items = match reply.json() {
            Value::Array(items) => items,
            other => panic!("not an array: {other}"),
        };
        next = reply.link.map(|link| {
            link.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_owned()
        });
        pages.push((reply.status, reply.body.len(), items));
    }
    pages
}

#[test]
fn a_store_of_maximum_size_reports_is_read_in_full() {
    let worker = start();
    const REPORTS: usize = 16;
    let identities: Vec<String> = (0..REPORTS)
        .map(|i| format!("bc1qpaging{i:02}.rig"))
        .collect();
    let mut largest = 0;
    for identity in &identities {
        let body = largest_report(identity);
        let reply = worker.post_raw(&body);
        assert_eq!(reply.status, 200, "{identity}: {}", reply.body);
        largest = largest.max(body.len());
    }
    assert_eq!(worker.kv_keys().len(), REPORTS);

    // The full list, by default page size and by the largest allowed one.
    for path in [
        REPORTS_PATH.to_owned(),
        format!("{REPORTS_PATH}?limit=1000"),
    ] {
        let pages = read_all(&worker, &path, REPORTS + 1);
        assert!(pages.len() > 1, "{} reports of ~4 MiB in one page", REPORTS);
        let mut seen = Vec::new();
        for (_, bytes, items) in &pages {
            assert!(!items.is_empty());
            // A page stays within the budget, or holds a single report.
            assert!(
                *bytes <= MAX_PAGE_BYTES || items.len() == 1,
                "{bytes} bytes, {} items",
                items.len()
            );
            for item in items {
                let report: Report = serde_json::from_value(item.clone()).expect("a report");
                assert_eq!(report.miners.len(), 2000);
                assert_eq!(report.miners[0].firmware, "\"".repeat(255));
                seen.push(report.jdc_user_identity);
            }
        }
        assert_eq!(seen, identities, "every report once, in order");
    }

    // Each one by itself, and the summaries.
    for identity in &identities {
        let reply = worker.request("GET", &report_path(identity), None);
        assert_eq!(reply.status, 200);
        // The stored copy is the posted report re-written: the same miners,
        // each hash rate a JSON integer when it is whole, so a little shorter.
        assert!(reply.body.len() >= largest * 9 / 10, "{}", reply.body.len());
        let report: Report = serde_json::from_str(&reply.body).expect("a report");
        assert_eq!(&report.jdc_user_identity, identity);
        assert_eq!(report.miners.len(), 2000);
        assert_eq!(report.miners[1999].firmware, "\"".repeat(255));
    }
    let pages = read_all(&worker, JDCS_PATH, 2);
    let summaries: Vec<JdcSummary> = pages
        .iter()
        .flat_map(|(_, _, items)| items.iter().cloned())
        .map(|v| serde_json::from_value(v).expect("a summary"))
        .collect();
    assert_eq!(summaries.len(), REPORTS);
    assert!(summaries.iter().all(|s| s.miners == 2000));
    let log = worker.log_text();
    assert!(!log.contains("storage_error"), "{log}");
}

#[test]
fn summary_pages_are_cut_by_bytes_too() {
    let worker = start();
    // Summaries as large as KV metadata allows, as the Worker writes them:
    // eight vendors of 32 characters each, and long identities.
    let now = chrono::Utc::now();
    let at = dmr_shared::rfc3339(now);
    let expires = dmr_shared::rfc3339(now + chrono::Duration::hours(1));
    const ENTRIES: usize = 5_000;
    let entries: Vec<Value> = (0..ENTRIES)
        .map(|i| {
            let identity = format!("{:0>200}.{i:05}", "bc1qwide");
            let miners = (0..8)
                .map(|v| miner(&format!("{v}{}", "V".repeat(31)), 1.234_567e15, "w"))
                .collect();
            let report: Report = serde_json::from_value(report(&identity, miners)).expect("report");
            let summary = JdcSummary::of(&report, Some("x/sv2".into()), &at, &expires);
            json!({
                "key": dmr_shared::api::kv_key(&identity),
                "value": "{}",
                "metadata": summary,
                "expiration_ttl": 3600,
            })
        })
        .collect();
    let file = worker.state_dir().join("wide.json");
    std::fs::write(&file, serde_json::to_vec(&entries).unwrap()).unwrap();
    worker.kv_bulk_put(&file);

    let pages = read_all(&worker, &format!("{JDCS_PATH}?limit=10000"), 10);
    assert!(pages.len() >= 2, "{ENTRIES} wide summaries in one page");
    let mut seen = 0;
    for (_, bytes, items) in &pages {
        assert!(*bytes <= MAX_PAGE_BYTES, "{bytes} bytes");
        seen += items.len();
    }
    assert_eq!(seen, ENTRIES);
}

/// Every bad query of a paged read, with the parameter it must name.
fn bad_queries(real_cursor: &str) -> Vec<(String, &'static str)> {
    let tampered = {
        let mut c = real_cursor.to_owned();
        let last = c.pop().unwrap();
        c.push(if last == 'A' { 'B' } else { 'A' });
        c
    };
    let mut cases: Vec<(String, &str)> = [
        "0",
        "-1",
        "+5",
        "%2B5",
        "5%20",
        "%205",
        "1e3",
        "0x10",
        "5.0",
        "ten",
        "",
        "%00",
        "99999999999999999999999",
        "%D9%A3",
        "%FF",
        "10001",
    ]
    .iter()
    .map(|v| (format!("limit={v}"), "limit"))
    .collect();
    cases.push(("limit".into(), "limit"));
    cases.push(("limit=5&limit=5".into(), "limit"));
    cases.push(("limit=5&limit=6".into(), "limit"));
    for cursor in [
        "",
        "abc",
        "null",
        "-1",
        "0000000000000000.",
        "0000000000000000.abc",
        "../../etc/passwd",
        "%zz",
        "%C3",
        "%00",
        "%0A",
    ] {
        cases.push((format!("cursor={cursor}"), "cursor"));
    }
    cases.push((format!("cursor={}", percent_encode(&tampered)), "cursor"));
    cases.push((
        format!("cursor={}", percent_encode(&real_cursor.to_uppercase())),
        "cursor",
    ));
    cases.push((
        format!("cursor={}", "A".repeat(MAX_CURSOR_LEN + 1)),
        "cursor",
    ));
    cases.push((
        format!("cursor={}", &real_cursor[..real_cursor.len() - 3]),
        "cursor",
    ));
    cases.push((
        format!("cursor={0}&cursor={0}", percent_encode(real_cursor)),
        "cursor",
    ));
    for (query, field) in [
        ("limt=5", "limt"),
        ("Limit=5", "Limit"),
        ("page=2", "page"),
        ("callback=x", "callback"),
        ("=5", ""),
        ("%zz=1", "query"),
    ] {
        cases.push((query.into(), field));
    }
    cases
}

#[test]
fn absurd_limits_cursors_and_parameters_are_refused_by_name() {
    let worker = start();
    for i in 0..3 {
        let reply = worker.post_report(&report(&format!("bc1qquery.rig{i}"), vec![]));
        assert_eq!(reply.status, 200);
    }
    let keys = worker.kv_keys();
    // A real cursor, from a real Link header.
    let link = worker
        .request("GET", &format!("{REPORTS_PATH}?limit=1"), None)
        .link
        .expect("a Link to the next page");
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let cursor = next.split("cursor=").nth(1).unwrap();
    let cursor = dmr_shared::percent::percent_decode(cursor, true).unwrap();
    assert_eq!(worker.request("GET", &next, None).status, 200);

    let cases = bad_queries(&cursor);
    let mut checked = 0;
    for path in [REPORTS_PATH, JDCS_PATH] {
        for (query, field) in &cases {
            let target = format!("{path}?{query}");
            let reply = worker.request("GET", &target, None);
            assert_eq!(reply.status, 400, "{target}: {}", reply.body);
            assert_eq!(reply.content_type, "application/problem+json", "{target}");
            let problem = reply.json();
            assert_eq!(problem["field"], *field, "{target}: {problem}");
            assert_eq!(problem["status"], 400);
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * cases.len());
    // The real cursor works on both lists' own Links; nothing changed.
    for path in [REPORTS_PATH, JDCS_PATH] {
        let pages = read_all(&worker, &format!("{path}?limit=1"), 4);
        assert_eq!(pages.iter().map(|p| p.2.len()).sum::<usize>(), 3, "{path}");
    }
    assert_eq!(worker.kv_keys(), keys);
    let log = worker.log_text();
    assert!(!log.contains("storage_error"), "{log}");
}
