//! The pure steps of one report on the Worker's path, natively: parse and
//! validate the body, derive the user agent, summarise and fingerprint,
//! write the stored JSON and its metadata, the log line and the answer.
//! Time per step for the benchmark's report shapes (one to four miners) and
//! for a 100-miner report. Prints figures; asserts nothing.
//!
//! `cargo bench -p dmr-shared --bench report_path`
//! (the release profile optimises for size, as the Worker's wasm is built;
//! wasm in V8 runs these slower: see docs/performance.md).

use std::hint::black_box;
use std::time::{Duration, Instant};

use dmr_shared::summary::fingerprint;
use dmr_shared::{parse_report, user_agent_for, JdcSummary, Miner, Report, StoredReport};
use serde_json::json;

/// Runs `f` for about `budget` and returns nanoseconds per call.
fn time<T>(budget: Duration, mut f: impl FnMut() -> T) -> f64 {
    let mut calls = 0u64;
    let started = Instant::now();
    while started.elapsed() < budget {
        for _ in 0..100 {
            black_box(f());
        }
        calls += 100;
    }
    started.elapsed().as_nanos() as f64 / calls as f64
}

fn miners(count: usize) -> Vec<Miner> {
    const VENDORS: [&str; 4] = ["bitaxe", "NerdQAxe++", "Braiins OS", ""];
    (0..count)
        .map(|m| Miner {
            vendor: VENDORS[m % 4].into(),
            hardware_version: "BM1370".into(),
            firmware: "v2.4.1".into(),
            device_id: format!("dev{m}"),
            nominal_hash_rate: 1.2e12 * (1 + m) as f64,
            user_identity: format!("bc1qbench000042.w{m}"),
            connected_at: "2026-11-26T00:00:00Z".into(),
            via: None,
        })
        .collect()
}

fn main() {
    let budget = Duration::from_millis(300);
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}   (ns per report)",
        "miners", "parse", "vendor", "summary", "(fnv)", "stored", "metadata", "log line", "answer"
    );
    for count in [1, 2, 4, 100] {
        let report = Report {
            schema_version: 1,
            jdc_user_identity: "bc1qbench000042.jdc".into(),
            timestamp: "2026-11-26T00:00:00.000Z".into(),
            miners: miners(count),
        };
        let body = serde_json::to_vec(&report).expect("JSON");
        let now = "2026-11-26T00:00:01.000Z";
        let parse = time(budget, || parse_report(&body).expect("valid"));
        let vendor = time(budget, || user_agent_for(&report.miners));
        let ua = user_agent_for(&report.miners);
        let summary = time(budget, || JdcSummary::of(&report, ua.clone(), now, now));
        let fnv = time(budget, || fingerprint(&report));
        let stored = StoredReport {
            received_at: now.into(),
            expires_at: now.into(),
            user_agent: ua.clone(),
            report: report.clone(),
        };
        let mut buffer = Vec::with_capacity(body.len() + 1024);
        let store = time(budget, || {
            buffer.clear();
            serde_json::to_writer(&mut buffer, &stored).expect("JSON");
            buffer.len()
        });
        let s = JdcSummary::of(&report, ua.clone(), now, now);
        let metadata = time(budget, || serde_json::to_string(&s).expect("JSON"));
        let log = time(budget, || {
            json!({
                "event": "report", "client": "10.0.0.1", "identity": report.jdc_user_identity,
                "address": "bc1qbench000042", "miners": count, "userAgent": ua,
                "renamed": 0, "rowsRead": 1, "rowsWritten": 0, "stored": false,
                "kvOperations": 1, "wasmMemoryBytes": 1_114_112,
            })
            .to_string()
        });
        let answer = time(budget, || {
            json!({"success": true, "accepted": count, "userAgent": ua, "renamed": 0,
                   "stored": false, "receivedAt": now, "expiresAt": now})
            .to_string()
        });
        println!(
            "{count:<10} {parse:>9.0} {vendor:>9.0} {summary:>9.0} {fnv:>9.0} {store:>9.0} {metadata:>9.0} {log:>9.0} {answer:>9.0}"
        );
    }
}
