//! A report renames exactly its JDC's live `jd-client/sv2` rows to the
//! majority vendor, and nothing else in the client table.

use dmr_tests::{insert_clients, miner, pairs, report, ClientRow, Options, Worker};
use serde_json::Value;

const JDC: &str = "bc1qjdcaddress000000000000000000000000000001";
const OTHER: &str = "bc1qotheraddress0000000000000000000000000002";

fn start(rows: &[ClientRow]) -> Worker {
    Worker::start_with(Options {
        seed_sql: Some(insert_clients(rows)),
        ..Options::default()
    })
}

/// `sessionId -> (userAgent, bestDifficulty, hashRate)` for every row.
fn rows(worker: &Worker) -> Vec<(String, String, f64, f64)> {
    worker
        .d1("SELECT sessionId, userAgent, bestDifficulty, hashRate FROM clients ORDER BY sessionId")
        .into_iter()
        .map(|r| {
            (
                r["sessionId"].as_str().unwrap().to_owned(),
                r["userAgent"].as_str().unwrap().to_owned(),
                r["bestDifficulty"].as_f64().unwrap(),
                r["hashRate"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn user_agents(worker: &Worker) -> Vec<(String, String)> {
    rows(worker)
        .into_iter()
        .map(|(s, ua, _, _)| (s, ua))
        .collect()
}

#[test]
fn a_report_renames_only_its_own_live_jdc_rows_and_keeps_their_stats() {
    let worker = start(&[
        ClientRow::live(JDC, "s1", "jd-client/sv2"),
        ClientRow::live(JDC, "s2", "jd-client/sv2"),
        ClientRow::live(JDC, "s3", "NerdQAxe++/sv2"),
        ClientRow::live(JDC, "s4", "jd-client/sv2").deleted(),
        ClientRow::live(OTHER, "s5", "jd-client/sv2"),
        ClientRow::live(JDC, "s6", "cgminer/4.11"),
    ]);
    let before = rows(&worker);

    let reply = worker.post_report(&report(
        JDC,
        vec![
            miner("bitaxe", 1.2e12, "w1"),
            miner("NerdAxe", 5e12, "w2"),
            miner("bitaxe", 0.7e12, "w3"),
        ],
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["success"], true);
    assert_eq!(body["accepted"], 3);
    assert_eq!(body["userAgent"], "bitaxe/sv2");
    assert_eq!(body["renamed"], 2);

    assert_eq!(
        user_agents(&worker),
        pairs(&[
            ("s1", "bitaxe/sv2"),
            ("s2", "bitaxe/sv2"),
            ("s3", "NerdQAxe++/sv2"),
            ("s4", "jd-client/sv2"),
            ("s5", "jd-client/sv2"),
            ("s6", "cgminer/4.11"),
        ])
    );
    // Session stats are untouched: only the name changes.
    let after = rows(&worker);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((b.0.as_str(), b.2, b.3), (a.0.as_str(), a.2, a.3));
    }
    // updatedAt is stamped on the renamed rows only.
    let stamped = worker.d1("SELECT sessionId FROM clients WHERE updatedAt > '2026-11-26T00:00:00.000Z' ORDER BY sessionId");
    let stamped: Vec<&str> = stamped
        .iter()
        .map(|r| r["sessionId"].as_str().unwrap())
        .collect();
    assert_eq!(stamped, ["s1", "s2"]);

    // One structured log line for the report, with D1's figures.
    let log = worker.log_containing("\"event\":\"report\"");
    let line = log
        .lines()
        .find(|l| l.starts_with('{') && l.contains("\"event\":\"report\""))
        .unwrap_or_else(|| panic!("no report log line in:\n{log}"));
    let line: Value = serde_json::from_str(line).unwrap();
    assert_eq!(line["identity"], JDC);
    assert_eq!(line["miners"], 3);
    assert_eq!(line["userAgent"], "bitaxe/sv2");
    assert_eq!(line["renamed"], 2);
    assert!(line["rowsRead"].as_u64().unwrap() >= 2, "{line}");
    assert!(line["rowsWritten"].as_u64().unwrap() >= 2, "{line}");
}

#[test]
fn a_reconnected_session_is_named_at_once_and_a_repeat_changes_nothing() {
    let worker = start(&[ClientRow::live(JDC, "s1", "jd-client/sv2")]);
    let first = report(JDC, vec![miner("bitaxe", 1e12, "w1")]);
    assert_eq!(worker.post_report(&first).json()["renamed"], 1);

    // The same report again (a retry): nothing left to rename.
    assert_eq!(worker.post_report(&first).json()["renamed"], 0);

    // The JDC reconnects: the pool opens a new jd-client/sv2 session, and
    // D1 names it as it is inserted (`triggers.rs`), before any report.
    worker.d1(&insert_clients(&[ClientRow::live(
        JDC,
        "s2",
        "jd-client/sv2",
    )]));
    assert_eq!(
        user_agents(&worker),
        pairs(&[("s1", "bitaxe/sv2"), ("s2", "bitaxe/sv2")])
    );
    let next = worker.post_report(&report(JDC, vec![miner("bitaxe", 1e12, "w1")]));
    assert_eq!(next.json()["renamed"], 0);
    assert_eq!(
        user_agents(&worker),
        pairs(&[("s1", "bitaxe/sv2"), ("s2", "bitaxe/sv2")])
    );
}

#[test]
fn identity_suffix_ties_empty_vendors_and_empty_reports() {
    const A: &str = "bc1qsuffix0000000000000000000000000000000a";
    const B: &str = "bc1qtie000000000000000000000000000000000b";
    const C: &str = "bc1qnovendor0000000000000000000000000000c";
    const D: &str = "bc1qnominers0000000000000000000000000000d";
    let worker = start(&[
        ClientRow::live(A, "a1", "jd-client/sv2"),
        ClientRow::live(B, "b1", "jd-client/sv2"),
        ClientRow::live(C, "c1", "jd-client/sv2"),
        ClientRow::live(D, "d1", "jd-client/sv2"),
    ]);

    // `address.worker` reports for `address`.
    let reply = worker.post_report(&report(
        &format!("{A}.rig1"),
        vec![miner("VNish", 1e14, "x")],
    ));
    assert_eq!(reply.json()["userAgent"], "VNish/sv2");

    // A tie goes to the vendor listed first.
    let reply = worker.post_report(&report(
        B,
        vec![
            miner("NerdQAxe++", 1e12, "x"),
            miner("bitaxe", 1e12, "y"),
            miner("bitaxe", 1e12, "z"),
            miner("NerdQAxe++", 1e12, "w"),
        ],
    ));
    assert_eq!(reply.json()["userAgent"], "NerdQAxe++/sv2");

    // Miners without a vendor do not vote: nothing to rename to.
    let reply = worker.post_report(&report(
        C,
        vec![miner("", 1e12, "x"), miner("  ", 1e12, "y")],
    ));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["userAgent"], Value::Null);
    assert_eq!(reply.json()["renamed"], 0);

    // No miners: stored, accepted 0, nothing renamed.
    let reply = worker.post_report(&report(D, vec![]));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["accepted"], 0);
    assert_eq!(reply.json()["renamed"], 0);

    assert_eq!(
        user_agents(&worker),
        pairs(&[
            ("a1", "VNish/sv2"),
            ("b1", "NerdQAxe++/sv2"),
            ("c1", "jd-client/sv2"),
            ("d1", "jd-client/sv2"),
        ])
    );
    // GET lists every report, ordered by identity.
    let identities: Vec<String> = worker
        .get_reports()
        .iter()
        .map(|r| r["jdcUserIdentity"].as_str().unwrap().to_owned())
        .collect();
    let mut expected = vec![format!("{A}.rig1"), B.into(), C.into(), D.into()];
    expected.sort();
    assert_eq!(identities, expected);
}

#[test]
fn markup_in_a_vendor_never_reaches_the_database() {
    let worker = start(&[ClientRow::live(JDC, "s1", "jd-client/sv2")]);
    let reply = worker.post_report(&report(
        JDC,
        vec![miner("<img src=x onerror=alert(1)>Bit'axe\"", 1e12, "w")],
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        user_agents(&worker),
        pairs(&[("s1", "img srcx onerroralert(1)Bitaxe/sv2")])
    );
}

/// Every row with its agent and when it was last written.
fn agents_and_times(worker: &Worker) -> Vec<Value> {
    worker.d1("SELECT sessionId, userAgent, updatedAt FROM clients ORDER BY sessionId")
}

#[test]
fn a_vendor_naming_the_jdc_or_made_of_punctuation_renames_nothing() {
    let worker = Worker::start_with(Options {
        seed_sql: Some(insert_clients(&[ClientRow::live(
            JDC,
            "s1",
            "jd-client/sv2",
        )])),
        without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
        ..Options::default()
    });
    let before = agents_and_times(&worker);
    let vendors = [
        // The JDC's own name, in any spelling: it would rename the rows to
        // the name they already have.
        "jd-client",
        "JD-Client",
        "jd_client",
        "JD Client",
        "jdclient",
        "jd-client/sv2",
        "jd_client_sv2",
        " jd-client. ",
        // Nothing but punctuation: no name at all.
        ".",
        "-",
        "()",
        "+",
        "++",
        "._-+()",
        "<>/",
        "...",
        "(+)",
    ];
    for (n, vendor) in vendors.iter().enumerate() {
        let identity = format!("{JDC}.v{n}");
        let reply = worker.post_report(&report(
            &identity,
            vec![miner(vendor, 1e12, "w"), miner(vendor, 1e12, "x")],
        ));
        assert_eq!(reply.status, 200, "{vendor:?}: {}", reply.body);
        let body = reply.json();
        assert_eq!(body["userAgent"], Value::Null, "{vendor:?}");
        assert_eq!(body["renamed"], 0, "{vendor:?}");
        let line = worker.report_lines_of(&identity, 1).remove(0);
        assert_eq!(line["rowsWritten"], 0, "{vendor:?}: {line}");
    }
    assert_eq!(agents_and_times(&worker), before, "a row was rewritten");

    // They do not outvote a device either.
    let reply = worker.post_report(&report(
        JDC,
        vec![
            miner("jd-client", 1e12, "a"),
            miner("jd-client", 1e12, "b"),
            miner("...", 1e12, "c"),
            miner(".bitaxe.", 1e12, "d"),
        ],
    ));
    assert_eq!(reply.json()["userAgent"], "bitaxe/sv2");
    assert_eq!(user_agents(&worker), pairs(&[("s1", "bitaxe/sv2")]));
}

#[test]
fn an_unchanged_report_writes_no_row() {
    let worker = Worker::start_with(Options {
        seed_sql: Some(insert_clients(&[
            ClientRow::live(JDC, "s1", "jd-client/sv2"),
            ClientRow::live(JDC, "s2", "jd-client/sv2"),
            ClientRow::live(JDC, "s3", "bitaxe/sv2"),
        ])),
        without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
        ..Options::default()
    });
    let first = report(JDC, vec![miner("bitaxe", 1e12, "w1")]);
    let reply = worker.post_report(&first).json();
    assert_eq!(reply["renamed"], 2);
    let line = worker.report_lines_of(JDC, 1).remove(0);
    assert!(line["rowsWritten"].as_u64().unwrap() >= 2, "{line}");
    let renamed = agents_and_times(&worker);
    assert!(
        renamed.iter().all(|r| r["userAgent"] == "bitaxe/sv2"),
        "{renamed:?}"
    );

    // The same report again, and again with a new timestamp: no row is
    // written, updatedAt stays as the rename left it.
    for _ in 1..=3 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let again = report(JDC, vec![miner("bitaxe", 1e12, "w1")]);
        let reply = worker.post_report(&again).json();
        assert_eq!(reply["renamed"], 0, "{reply}");
    }
    assert_eq!(agents_and_times(&worker), renamed);
    // Reports that changed nothing get no line of their own; the next
    // report that changes something counts them (a report is quiet only
    // when it renamed and wrote no row and made no KV call).
    let changed = report(JDC, vec![miner("bitaxe", 2e12, "w1")]);
    assert_eq!(worker.post_report(&changed).json()["stored"], true);
    let line = worker.report_lines_of(JDC, 2).remove(1);
    assert_eq!(line["quietReports"], 3, "{line}");
    assert_eq!(line["rowsWritten"], 0, "{line}");
    // Nor a D1 call: the name has not changed (see `triggers.rs`).
    assert_eq!(line["quietRowsRead"], 0, "{line}");
    assert_eq!(line["d1Calls"], 0, "{line}");
}
