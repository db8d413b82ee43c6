//! After a wasm trap in the middle of a report (a Rust panic, or a bare
//! `unreachable` no Rust code sees coming), the Worker answers the next
//! requests from a fresh wasm instance, and the trapped report left no
//! trace: it trapped once valid and admitted, before any KV or D1 call, so
//! neither holds anything of it.
//!
//! It runs the copy of the Worker built with the `trap` feature
//! (`dmr_tests::trap`), never the one the other tests and the pool use.

use dmr_shared::api::{kv_key, REPORTS_PATH};
use dmr_tests::{insert_clients, miner, pairs, report, trap, ClientRow, Options, Worker, LOG_WAIT};
use serde_json::Value;

const A: &str = "bc1qtrap0000000000000000000000000000000000a";
const B: &str = "bc1qtrap0000000000000000000000000000000000b";

/// The trap feature's headers and the variable the first must match
/// (`worker/src/trap.rs`).
const TRAP_HEADER: &str = "X-Trap-Token";
const TRAP_KIND_HEADER: &str = "X-Trap-Kind";
const TOKEN: &str = "trap-only-in-tests";

fn post(worker: &Worker, body: &Value, trap: Option<&str>) -> dmr_tests::Reply {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(kind) = trap {
        headers.push((TRAP_HEADER, TOKEN));
        headers.push((TRAP_KIND_HEADER, kind));
    }
    worker.request_with(
        "POST",
        REPORTS_PATH,
        &headers,
        Some(body.to_string().as_bytes()),
    )
}

/// Lines of reports answered by an instance without a note of its own:
/// an unchanged report that read KV to learn it was unchanged.
const FRESH_INSTANCE_LINE: &str = r#""stored":false,"hint":false,"kvOperations":1,"#;

/// How many times `needle` is in the log once it is there `count` times,
/// or after [`LOG_WAIT`].
fn logged(worker: &Worker, needle: &str, count: usize) -> usize {
    worker.await_log(
        LOG_WAIT,
        |log| log.matches(needle).count(),
        |&found| found >= count,
    )
}

#[test]
fn a_trapped_report_leaves_nothing_and_the_next_requests_are_answered() {
    let worker = Worker::start_with(Options {
        main: Some(trap::entry()),
        vars: vec![("TRAP_TOKEN".into(), TOKEN.into())],
        seed_sql: Some(insert_clients(&[
            ClientRow::live(A, "a1", "jd-client/sv2"),
            ClientRow::live(B, "b1", "jd-client/sv2"),
        ])),
        ..Options::default()
    });
    // B reports twice: the second, unchanged, is answered from the
    // instance's note (no KV call, no log line).
    let b = report(B, vec![miner("bitaxe", 1e12, "w")]);
    assert_eq!(post(&worker, &b, None).json()["stored"], true);
    assert_eq!(post(&worker, &b, None).json()["stored"], false);
    assert_eq!(logged(&worker, FRESH_INSTANCE_LINE, 0), 0);

    let a = report(A, vec![miner("antminer", 1e14, "w")]);
    let mut panics = 0;
    for (round, kind) in ["panic", "unreachable", "panic", "unreachable"]
        .into_iter()
        .enumerate()
    {
        let round = round + 1;
        let case = format!("round {round} ({kind})");
        let trapped = post(&worker, &a, Some(kind));
        assert_eq!(trapped.status, 500, "{case}: {}", trapped.body);
        if kind == "panic" {
            // worker-build's panic hook reports it as critical.
            panics += 1;
            let critical = logged(&worker, "Critical Error: Rust panic", panics);
            assert_eq!(critical, panics, "{case}:\n{}", worker.log_text());
        }

        // Nothing of A: no KV entry, its rows still jd-client/sv2.
        let keys: Vec<String> = worker
            .kv_keys()
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(keys, [kv_key(B)], "{case}");
        assert_eq!(
            worker.user_agents(),
            pairs(&[("a1", "jd-client/sv2"), ("b1", "bitaxe/sv2")]),
            "{case}"
        );

        // The next requests are answered, by a fresh instance: B's
        // unchanged report finds no note and reads KV to tell.
        let listed = worker.get_reports();
        assert_eq!(listed.len(), 1, "{case}");
        assert_eq!(listed[0]["jdcUserIdentity"], B);
        let again = post(&worker, &b, None);
        assert_eq!(again.status, 200, "{case}: {}", again.body);
        assert_eq!(again.json()["stored"], false, "{case}");
        let fresh = logged(&worker, FRESH_INSTANCE_LINE, round);
        assert_eq!(fresh, round, "{case}:\n{}", worker.log_text());
        // After a panic that fresh instance is `worker/entry.mjs`'s doing:
        // it saw the critical state and had worker-build's code start one
        // (which says so). A bare `unreachable` leaves no such state: the
        // fresh instance then comes from below `entry.mjs`.
        let reinitialised = logged(&worker, "Reinitializing Wasm application", panics);
        assert_eq!(reinitialised, panics, "{case}:\n{}", worker.log_text());
    }

    // A's report without the trap is applied in full.
    let reply = post(&worker, &a, None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["renamed"], 1);
    assert_eq!(
        worker.user_agents(),
        pairs(&[("a1", "antminer/sv2"), ("b1", "bitaxe/sv2")])
    );
    assert_eq!(worker.kv_keys().len(), 2);
}

/// The copy without its variable is the real Worker: the header does
/// nothing.
#[test]
fn without_its_variable_the_trap_header_does_nothing() {
    let worker = Worker::start_with(Options {
        main: Some(trap::entry()),
        seed_sql: Some(insert_clients(&[ClientRow::live(A, "a1", "jd-client/sv2")])),
        ..Options::default()
    });
    let a = report(A, vec![miner("antminer", 1e14, "w")]);
    let reply = post(&worker, &a, Some("panic"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(!worker.log_text().contains("trap requested"));
}
