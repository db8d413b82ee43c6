//! `dmr-bench`: what a report and a read cost at pool scale, measured on the
//! built Worker under wrangler dev (workerd, local KV and D1) with fresh
//! state. Prints figures and one JSON line; asserts nothing about time.
//!
//! 1. Seeds D1 with 100,000 `clients` rows, 1,000 of them the live
//!    `jd-client/sv2` rows of 1,000 JDC addresses.
//! 2. Capacity: concurrent connections post reports from those 1,000 JDCs
//!    (each JDC always the same miners) for a bounded time: reports/s,
//!    latency, workerd CPU per report, D1 calls, D1 rows read and written
//!    and KV operations and writes per report (from the Worker's log
//!    lines).
//! 3. Cadence: every JDC reports its unchanged miners at a steady interval;
//!    KV writes and D1 calls per report. Time is scaled 1:5 (TTL 60 s, a
//!    report every 12 s stands for TTL 300 s and a report every 60 s), as
//!    the rules depend only on the ratio.
//! 4. Reads: `GET /api/jdcs` and `GET /api/downstream-report` with 1,000 and
//!    then 10,000 live JDCs: KV operations and wall time.
//! 5. Side by side (`dmr_bench::side_by_side`): the Rust Worker, the same
//!    with its rate-limit bindings, and a plain JavaScript Worker doing the
//!    protocol's reference flow, in the same workerd on the same D1, taking
//!    turns under the same load: CPU per report, reports/s and p99 per round
//!    and as medians, the ratio, and KV and D1 operations per report.
//! 6. A pool's writes of session rows (`dmr_bench::pool_writes`): D1 rows
//!    read and written per write with the naming triggers and without.
//! 7. The gzip sizes of the worker and inspector wasm.
//!
//! The rate limits are left out of the first Worker's config: they would
//! measure the limiter, not the storage (the side-by-side run shows what
//! they add).
//!
//! usage: dmr-bench [CAPACITY_SECS] [CONNECTIONS] [CADENCE_ROUNDS]
//!        [--side-rounds N] [--side-secs S] [--side-by-side-only]
//!        [--pool-writes-only]
//! (defaults: 30 s, 16 connections, 6 rounds of 12 s; 5 side-by-side
//! rounds of 12 s per Worker)

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dmr_bench::side_by_side::{self, settled_log};
use dmr_shared::api::{JDCS_PATH, REPORTS_PATH};
use dmr_shared::{JdcSummary, Miner, Report, StoredReport};
use dmr_tests::{reads_of, repo_root, Options, Worker};
use serde_json::{json, Value};

const CLIENT_ROWS: usize = 100_000;
const JDCS: usize = 1_000;
const MANY_JDCS: usize = 10_000;
/// The TTL of the scaled clock, and one report interval on it.
const SCALED_TTL_SECS: u64 = 60;
const SCALED_INTERVAL: Duration = Duration::from_secs(12);
const START: &str = "2026-11-26T00:00:00.000Z";

fn address(i: usize) -> String {
    format!("bc1qbench{i:06}")
}

fn identity(i: usize) -> String {
    format!("{}.jdc", address(i))
}

/// JDC `i`'s miners: one to four, a mix of vendors; never changes.
fn miners(i: usize) -> Vec<Miner> {
    const VENDORS: [&str; 4] = ["bitaxe", "NerdQAxe++", "Braiins OS", ""];
    (0..1 + i % 4)
        .map(|m| Miner {
            vendor: VENDORS[(i + m) % 4].into(),
            hardware_version: "BM1370".into(),
            firmware: "v2.4.1".into(),
            device_id: format!("dev{m}"),
            nominal_hash_rate: 1.2e12 * (1 + m) as f64,
            user_identity: format!("{}.w{m}", address(i)),
            connected_at: "2026-11-26T00:00:00Z".into(),
            via: None,
        })
        .collect()
}

fn report_body(i: usize) -> String {
    let report = Report {
        schema_version: 1,
        jdc_user_identity: identity(i),
        timestamp: dmr_shared::rfc3339(chrono::Utc::now()),
        miners: miners(i),
    };
    serde_json::to_string(&report).expect("report JSON")
}

/// JDC `i`'s `nth` report for the side-by-side rounds: its miners, with the
/// first one's hash rate changed every third report, so the Rust Worker
/// stores one report in three, as at a real pool's steady state. The JDCs
/// change at different reports, so any run of reports holds a third of
/// changed ones.
fn changing_report_body(i: usize, nth: usize) -> String {
    let mut miners = miners(i);
    if ((nth + i) / 3) % 2 == 1 {
        miners[0].nominal_hash_rate *= 1.01;
    }
    let report = Report {
        schema_version: 1,
        jdc_user_identity: identity(i),
        timestamp: dmr_shared::rfc3339(chrono::Utc::now()),
        miners,
    };
    serde_json::to_string(&report).expect("report JSON")
}

/// 100,000 client rows: each JDC address has its live `jd-client/sv2` row
/// and an ended one; the rest are other miners of other addresses.
fn seed_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("bench-seed.sql");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("seed file"));
    let agents = [
        "bitaxe/1.0",
        "cgminer/4.11",
        "NerdQAxe++/sv2",
        "jd-client/sv2",
    ];
    let mut rows = Vec::with_capacity(CLIENT_ROWS);
    for i in 0..JDCS {
        rows.push(format!(
            "('{}','jdc','live{i}','jd-client/sv2',NULL,'{START}')",
            address(i)
        ));
        rows.push(format!(
            "('{}','jdc','old{i}','jd-client/sv2','2026-11-25T00:00:00.000Z','{START}')",
            address(i)
        ));
    }
    for n in rows.len()..CLIENT_ROWS {
        let deleted = if n % 5 == 0 {
            "'2026-11-25T00:00:00.000Z'"
        } else {
            "NULL"
        };
        rows.push(format!(
            "('bc1qother{:06}','w{n}','s{n}','{}',{deleted},'{START}')",
            n / 3,
            agents[n % 4]
        ));
    }
    for chunk in rows.chunks(500) {
        writeln!(
            out,
            "INSERT INTO clients (address, clientName, sessionId, userAgent, deletedAt, startTime) VALUES {};",
            chunk.join(",")
        )
        .expect("write seed");
    }
    out.flush().expect("write seed");
    path
}

/// The last `read` log line's KV operations for `view`.
fn read_operations(text: &str, view: &str) -> Option<u64> {
    reads_of(text, view)
        .last()
        .and_then(|v| v["kvOperations"].as_u64())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

fn post(agent: &ureq::Agent, url: &str, i: usize) -> u16 {
    agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(report_body(i))
        .map_or(0, |r| r.status().as_u16())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

struct Capacity {
    reports: usize,
    errors: usize,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_ms_per_report: f64,
}

fn capacity(worker: &Worker, secs: u64, connections: usize) -> Capacity {
    let url = worker.url(REPORTS_PATH);
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = worker.workerd_cpu_secs();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let (url, next) = (url.clone(), next.clone());
            std::thread::spawn(move || {
                let agent = agent();
                let (mut times, mut errors) = (Vec::new(), 0);
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed) % JDCS;
                    let sent = Instant::now();
                    if post(&agent, &url, i) != 200 {
                        errors += 1;
                    }
                    times.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                (times, errors)
            })
        })
        .collect();
    let (mut times, mut errors) = (Vec::new(), 0);
    for thread in threads {
        let (t, e) = thread.join().expect("connection thread");
        times.extend(t);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = worker.workerd_cpu_secs() - cpu_before;
    times.sort_by(f64::total_cmp);
    Capacity {
        reports: times.len(),
        errors,
        per_sec: times.len() as f64 / elapsed,
        p50_ms: percentile(&times, 0.5),
        p99_ms: percentile(&times, 0.99),
        cpu_ms_per_report: cpu * 1000.0 / times.len().max(1) as f64,
    }
}

/// Every JDC reports once per scaled interval for `rounds` rounds, spread
/// evenly over the interval as real JDCs are.
fn cadence(worker: &Worker, rounds: usize, connections: usize) -> usize {
    let url = worker.url(REPORTS_PATH);
    let started = Instant::now();
    let slot = SCALED_INTERVAL.as_secs_f64() / JDCS as f64;
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            let url = url.clone();
            std::thread::spawn(move || {
                let agent = agent();
                let mut sent = 0;
                for n in (c..rounds * JDCS).step_by(connections) {
                    let due = started + Duration::from_secs_f64(n as f64 * slot);
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    post(&agent, &url, n % JDCS);
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("cadence thread"))
        .sum()
}

/// Adds live JDCs up to `total` straight into KV, as the Worker writes them.
fn add_live_jdcs(worker: &Worker, from: usize, total: usize) {
    let now = chrono::Utc::now();
    let at = dmr_shared::rfc3339(now);
    let expires = dmr_shared::rfc3339(now + chrono::Duration::hours(1));
    let entries: Vec<Value> = (from..total)
        .map(|i| {
            let report = Report {
                schema_version: 1,
                jdc_user_identity: identity(i),
                timestamp: at.clone(),
                miners: miners(i),
            };
            let user_agent = dmr_shared::user_agent_for(&report.miners);
            let summary = JdcSummary::of(&report, user_agent.clone(), &at, &expires);
            let stored = StoredReport {
                report,
                received_at: at.clone(),
                expires_at: expires.clone(),
                user_agent,
            };
            json!({
                "key": format!("report:{}", identity(i)),
                "value": serde_json::to_string(&stored).expect("JSON"),
                "metadata": summary,
                "expiration_ttl": 3600,
            })
        })
        .collect();
    let file = worker.state_dir().join("bench-kv.json");
    std::fs::write(&file, serde_json::to_vec(&entries).expect("JSON")).expect("kv file");
    worker.kv_bulk_put(&file);
}

/// Best of three GETs of `path`: milliseconds, items, KV operations.
fn timed_get(worker: &Worker, path: &str, view: &str) -> (f64, usize, u64) {
    let agent = agent();
    let url = worker.url(path);
    let mut best = f64::MAX;
    let mut items = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let body: Vec<Value> = agent
            .get(&url)
            .call()
            .expect("GET")
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_json()
            .expect("GET body");
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
        items = body.len();
    }
    std::thread::sleep(Duration::from_millis(500));
    let ops = read_operations(&worker.log_text(), view).unwrap_or(0);
    (best, items, ops)
}

fn gzip_size(path: &std::path::Path) -> Option<u64> {
    let out = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .ok()?;
    Some(out.stdout.len() as u64)
}

/// The benchmark's command line.
#[derive(clap::Parser)]
#[command(about = "What a report and a read cost at pool scale (see docs/performance.md)")]
struct Args {
    /// Seconds of the capacity run.
    #[arg(default_value_t = 30)]
    capacity_secs: u64,
    /// Concurrent connections of the capacity and side-by-side runs, and
    /// threads of the cadence run.
    #[arg(default_value_t = 16)]
    connections: usize,
    /// Scaled report intervals of the cadence run.
    #[arg(default_value_t = 6)]
    cadence_rounds: usize,
    /// Rounds of the side-by-side run (each Worker once per round).
    #[arg(long, default_value_t = 5)]
    side_rounds: usize,
    /// Seconds each Worker is loaded per side-by-side round.
    #[arg(long, default_value_t = 12)]
    side_secs: u64,
    /// Only seed D1 and run the side-by-side rounds.
    #[arg(long)]
    side_by_side_only: bool,
    /// Only seed D1 and measure a pool's writes with and without the
    /// naming triggers.
    #[arg(long)]
    pool_writes_only: bool,
    /// Instead of the benchmark, profile one of the side-by-side Workers
    /// (`dmr-bench-rust`, `dmr-bench-rust-limited`, `baseline-js`) with V8's
    /// CPU profiler for `--side-secs` under the side-by-side load.
    #[arg(long, value_name = "WORKER")]
    profile: Option<String>,
}

fn main() {
    let args = <Args as clap::Parser>::parse();
    let (capacity_secs, connections, rounds) =
        (args.capacity_secs, args.connections, args.cadence_rounds);

    let seed_dir = tempfile::tempdir().expect("temp dir");
    eprintln!("bench: seeding {CLIENT_ROWS} client rows and starting wrangler dev...");
    let worker = Worker::start_with(Options {
        vars: vec![("REPORT_TTL_SECONDS".into(), SCALED_TTL_SECS.to_string())],
        seed_file: Some(seed_file(seed_dir.path())),
        without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
        extra_configs: side_by_side::configs(seed_dir.path())
            .into_iter()
            .chain([dmr_bench::pool_writes::config()])
            .collect(),
        ..Options::default()
    });
    let rows = worker.d1("SELECT count(*) AS n FROM clients")[0]["n"]
        .as_u64()
        .unwrap_or(0);

    if let Some(name) = &args.profile {
        side_by_side::profile(
            &worker,
            JDCS,
            changing_report_body,
            connections,
            args.side_secs,
            name,
        );
        return;
    }

    if args.pool_writes_only {
        let writes = dmr_bench::pool_writes::measure(&worker).print();
        println!("{}", json!({ "clientRows": rows, "poolWrites": writes }));
        return;
    }

    if args.side_by_side_only {
        let side = side_by_side(&worker, &args);
        println!("client rows in D1:                 {rows}");
        let side = side_by_side::print(&side, connections, args.side_secs);
        println!("{}", json!({ "clientRows": rows, "sideBySide": side }));
        return;
    }

    eprintln!("bench: capacity, {connections} connections for {capacity_secs} s...");
    let cap = capacity(&worker, capacity_secs, connections);
    let report_url = worker.url(REPORTS_PATH);
    side_by_side::flush(&report_url, None);
    let first = settled_log(&worker, cap.reports);
    let renamed = worker.d1("SELECT count(*) AS n FROM clients WHERE address LIKE 'bc1qbench%' AND userAgent <> 'jd-client/sv2'")[0]["n"].as_u64().unwrap_or(0);

    eprintln!("bench: cadence, {rounds} rounds of {SCALED_INTERVAL:?} (scaled 1:5)...");
    let sent = cadence(&worker, rounds, connections);
    side_by_side::flush(&report_url, None);
    let all = settled_log(&worker, first.reports + sent);
    let steady = all.since(&first);
    let cadence_writes = steady.kv_writes as f64 / steady.reports.max(1) as f64;
    let cadence_d1_calls = steady.d1_calls as f64 / steady.reports.max(1) as f64;

    eprintln!("bench: reads at {JDCS} and {MANY_JDCS} live JDCs...");
    let (jdcs_1k_ms, jdcs_1k, jdcs_1k_ops) = timed_get(&worker, JDCS_PATH, "jdcs");
    let (full_1k_ms, full_1k, full_1k_ops) = timed_get(&worker, REPORTS_PATH, "reports");
    add_live_jdcs(&worker, 0, MANY_JDCS);
    let (jdcs_10k_ms, jdcs_10k, jdcs_10k_ops) = timed_get(&worker, JDCS_PATH, "jdcs");
    dmr_bench::agents::run(&worker);
    // Last but one: its rounds outlast the scaled TTL of the reports read
    // above.
    let side = side_by_side(&worker, &args);
    // Last: it drops the triggers for a while.
    eprintln!("bench: a pool's writes with and without the naming triggers...");
    let writes = dmr_bench::pool_writes::measure(&worker);
    drop(worker);

    let root = repo_root();
    let worker_gz = gzip_size(&root.join("worker/build/index_bg.wasm"));
    let inspector_gz = gzip_size(&root.join("inspector/dist/pkg/inspector_bg.wasm"));

    let per = |n: u64, d: usize| n as f64 / d.max(1) as f64;
    println!("client rows in D1:                 {rows}");
    println!(
        "capacity ({connections} connections, {capacity_secs} s): {} reports, {} errors, {:.1} reports/s, latency p50 {:.1} ms, p99 {:.1} ms",
        cap.reports, cap.errors, cap.per_sec, cap.p50_ms, cap.p99_ms
    );
    println!(
        "  workerd CPU per report:          {:.2} ms",
        cap.cpu_ms_per_report
    );
    println!(
        "  per report: D1 calls {:.3}, D1 rows read {:.2}, rows written {:.2}, KV operations {:.2}, KV writes {:.3}",
        per(first.d1_calls, first.reports),
        per(first.rows_read, first.reports),
        per(first.rows_written, first.reports),
        per(first.kv_operations, first.reports),
        per(first.kv_writes, first.reports)
    );
    println!("  JDC addresses renamed:           {renamed} of {JDCS}");
    println!(
        "cadence (unchanged miners, a report per interval, {} reports): KV writes per report {:.3}; D1 calls per report {:.3}, D1 rows read {:.2}, rows written {:.2}; KV operations {:.2}",
        steady.reports,
        cadence_writes,
        cadence_d1_calls,
        per(steady.rows_read, steady.reports),
        per(steady.rows_written, steady.reports),
        per(steady.kv_operations, steady.reports)
    );
    println!(
        "GET /api/jdcs at {jdcs_1k} JDCs:        {jdcs_1k_ms:.0} ms, {jdcs_1k_ops} KV operations"
    );
    println!(
        "GET /api/downstream-report at {full_1k}: {full_1k_ms:.0} ms, {full_1k_ops} KV operations"
    );
    println!(
        "GET /api/jdcs at {jdcs_10k} JDCs:      {jdcs_10k_ms:.0} ms, {jdcs_10k_ops} KV operations"
    );
    println!(
        "wasm gzip: worker {} bytes, inspector {} bytes",
        worker_gz.map_or("?".into(), |n| n.to_string()),
        inspector_gz.map_or("?".into(), |n| n.to_string())
    );
    let side = side_by_side::print(&side, connections, args.side_secs);
    let writes = writes.print();
    dmr_tests::memory::print_growth();
    println!(
        "{}",
        json!({
            "clientRows": rows,
            "capacity": {
                "connections": connections, "seconds": capacity_secs, "reports": cap.reports,
                "errors": cap.errors, "reportsPerSec": cap.per_sec, "p50Ms": cap.p50_ms, "p99Ms": cap.p99_ms,
                "cpuMsPerReport": cap.cpu_ms_per_report,
                "d1RowsReadPerReport": per(first.rows_read, first.reports),
                "d1RowsWrittenPerReport": per(first.rows_written, first.reports),
                "kvOperationsPerReport": per(first.kv_operations, first.reports),
                "kvWritesPerReport": per(first.kv_writes, first.reports),
                "d1CallsPerReport": per(first.d1_calls, first.reports),
            },
            "cadence": {
                "reports": steady.reports, "kvWritesPerReport": cadence_writes,
                "d1CallsPerReport": cadence_d1_calls,
                "d1RowsReadPerReport": per(steady.rows_read, steady.reports),
                "d1RowsWrittenPerReport": per(steady.rows_written, steady.reports),
            },
            "getJdcs1k": {"items": jdcs_1k, "ms": jdcs_1k_ms, "kvOperations": jdcs_1k_ops},
            "getReports1k": {"items": full_1k, "ms": full_1k_ms, "kvOperations": full_1k_ops},
            "getJdcs10k": {"items": jdcs_10k, "ms": jdcs_10k_ms, "kvOperations": jdcs_10k_ops},
            "sideBySide": side,
            "poolWrites": writes,
            "workerWasmGzip": worker_gz,
            "inspectorWasmGzip": inspector_gz,
        })
    );
}

/// The side-by-side rounds (see `dmr_bench::side_by_side`).
fn side_by_side(worker: &Worker, args: &Args) -> Vec<side_by_side::Round> {
    eprintln!(
        "bench: side by side with the JavaScript baseline, {} rounds of {} s per Worker...",
        args.side_rounds, args.side_secs
    );
    side_by_side::run(
        worker,
        JDCS,
        changing_report_body,
        args.connections,
        args.side_rounds,
        args.side_secs,
    )
}
