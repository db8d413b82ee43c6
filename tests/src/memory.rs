//! How much the Worker's wasm memory grows under the worst bodies it
//! accepts (and the worst it refuses), read from its own log lines
//! (`wasmMemoryBytes`, see `worker/src/memory.rs`). Wasm memory never
//! shrinks, and an isolate has 128 MB in all, so this growth is what a
//! hostile client can take from every other request of the isolate.
//!
//! [`measure`] starts a fresh Worker, reads the memory after one small
//! report, sends the bodies (and reads the largest reports back, alone and
//! as the full list), reads it again after another small report.
//! `npm run bench` prints the figure ([`print_growth`]); `tests/e2e/memory.rs`
//! holds it under its goal.

use dmr_shared::limits::MAX_BODY_BYTES;
use serde_json::Value;

use crate::bodies::{padded_report, post_chunked, worst_accepted};
use crate::{miner, report, Options, Worker};

/// What [`measure`] saw.
#[derive(Debug)]
pub struct Growth {
    /// Wasm memory after one small report, bytes.
    pub before: usize,
    /// Wasm memory after every body below and one more small report.
    pub after: usize,
    /// Each body sent: what it was, its size, the status, and the wasm
    /// memory after it (read with a small report sent right after).
    pub bodies: Vec<(String, usize, u16, usize)>,
}

impl Growth {
    /// Bytes the memory grew by.
    pub fn grown(&self) -> usize {
        self.after.saturating_sub(self.before)
    }
}

/// The `wasmMemoryBytes` of the report log line for `identity`, waiting
/// (bounded) for wrangler to relay it.
fn memory_after_report(worker: &Worker, identity: &str) -> usize {
    let line = &worker.report_lines_of(identity, 1)[0];
    let bytes = line["wasmMemoryBytes"]
        .as_u64()
        .unwrap_or_else(|| panic!("no wasmMemoryBytes in the report line {line}"));
    bytes as usize
}

/// A small report from `identity`, and the memory after it.
fn probe(worker: &Worker, identity: &str) -> usize {
    let reply = worker.post_report(&report(identity, vec![miner("bitaxe", 1e12, "w")]));
    assert_eq!(reply.status, 200, "{}", reply.body);
    memory_after_report(worker, identity)
}

/// Starts a fresh Worker (no rate limits: they would measure the limiter)
/// and measures the growth; see the module docs.
pub fn measure() -> Growth {
    let worker = Worker::start_with(Options {
        without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
        ..Options::default()
    });
    let before = probe(&worker, "bc1qmemory.before");
    let mut bodies = Vec::new();
    let mut send = |name: String, body: &[u8], chunked: bool| {
        let status = if chunked {
            post_chunked(&worker, body, 64 * 1024).0
        } else {
            worker.post_raw(body).status
        };
        let memory = probe(&worker, &format!("bc1qmemory.after{}", bodies.len()));
        bodies.push((name, body.len(), status, memory));
    };
    for (name, body) in worst_accepted("bc1qmemory.accepted") {
        send(name.to_owned(), &body, false);
        send(format!("{name}, chunked"), &body, true);
    }
    // Four such bodies in a row: each used to grow the Worker by ~17 MB.
    let numbers = padded_report("bc1qmemory.numbers", "0", ",", "[", "]");
    for i in 1..=4 {
        send(
            format!("unknown array of numbers, again ({i})"),
            &numbers,
            false,
        );
    }
    // The worst refused: over the limit without a Content-Length, and known
    // strings nearly as long as the body (plain and escaped).
    let mut over = numbers.clone();
    over.extend(std::iter::repeat_n(b' ', 1024 * 1024));
    send("5 MiB, chunked (refused)".into(), &over, true);
    for (name, unit) in [("plain", "v"), ("escaped", "\\u00e9")] {
        let mut long = miner("", 1e12, "w");
        let text = unit.repeat((MAX_BODY_BYTES - 1024) / unit.len());
        long["vendor"] = Value::String(String::new());
        let body = report("bc1qmemory.refused", vec![long])
            .to_string()
            .replacen("\"vendor\":\"\"", &format!("\"vendor\":\"{text}\""), 1);
        send(
            format!("4 MiB vendor, {name} (refused)"),
            body.as_bytes(),
            false,
        );
    }
    // Reads of the largest reports: each alone, and the full list.
    for i in 0..3 {
        let body = crate::bodies::largest_report(&format!("bc1qmemory.large{i}"));
        send(
            format!("largest report, stored to be read ({i})"),
            &body,
            false,
        );
    }
    let mut path = Some(dmr_shared::api::REPORTS_PATH.to_owned());
    let mut pages = 0;
    while let Some(next) = path.take() {
        let reply = worker.request("GET", &next, None);
        pages += 1;
        let bytes = reply.body.len();
        let memory = probe(&worker, &format!("bc1qmemory.read{pages}"));
        bodies.push((
            format!("read: page {pages} of the full list"),
            bytes,
            reply.status,
            memory,
        ));
        path = reply.link.map(|l| {
            l.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or("")
                .to_owned()
        });
        assert!(pages < 10, "too many pages");
    }
    let one = worker.request(
        "GET",
        &dmr_shared::api::report_path("bc1qmemory.large0"),
        None,
    );
    let memory = probe(&worker, "bc1qmemory.readone");
    bodies.push((
        "read: one largest report".into(),
        one.body.len(),
        one.status,
        memory,
    ));
    let after = probe(&worker, "bc1qmemory.after");
    Growth {
        before,
        after,
        bodies,
    }
}

/// Prints the figure and what was sent, for `npm run bench`.
pub fn print_growth() {
    let growth = measure();
    for (name, bytes, status, memory) in &growth.bodies {
        println!("  {name}: {bytes} bytes -> {status}, wasm memory {memory} bytes");
    }
    println!(
        "wasm memory after the worst bodies: {} bytes before, {} after, grown {:.1} MiB",
        growth.before,
        growth.after,
        growth.grown() as f64 / (1024.0 * 1024.0)
    );
}
