//! The pool's device view in the cost benchmark: D1 rows read (from the
//! Worker's own log line, D1's billed figure), KV operations and wall time
//! of `GET /api/agents` on the benchmark's table, cold (this data centre has
//! no cached answer) and then cached. Prints figures; asserts nothing.

use std::time::{Duration, Instant};

use dmr_shared::agents::AGENTS_CACHE_SECS;
use dmr_shared::api::AGENTS_PATH;
use serde_json::{json, Value};

use dmr_tests::{reads_of, Worker, LOG_WAIT};

/// Cached reads measured after the cold one.
const CACHED_READS: usize = 3;

/// One read: the answer's `Age`, wall time, and the Worker's log line for it.
struct Read {
    age: Option<String>,
    ms: f64,
    log: Value,
}

fn read(worker: &Worker, agent: &ureq::Agent) -> Read {
    let before = reads_of(&worker.log_text(), "agents").len();
    let started = Instant::now();
    let mut response = agent
        .get(worker.url(AGENTS_PATH))
        .call()
        .expect("GET /api/agents");
    let age = response
        .headers()
        .get("age")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .expect("body");
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(status, 200, "GET /api/agents: {body}");
    let reads = worker.await_log(
        LOG_WAIT,
        |log| reads_of(log, "agents"),
        |reads| reads.len() > before,
    );
    let log = reads.last().cloned().unwrap_or(Value::Null);
    Read { age, ms, log }
}

/// Measures `GET /api/agents` on `worker`'s current table and prints it.
pub fn run(worker: &Worker) {
    eprintln!("bench: GET {AGENTS_PATH}, cold then cached...");
    let table = worker.d1(
        "SELECT count(*) AS rows, total(deletedAt IS NULL) AS live, \
         total(deletedAt IS NULL AND userAgent = 'jd-client/sv2') AS jdc FROM clients",
    );
    let count = |name: &str| table[0][name].as_f64().unwrap_or(0.0) as u64;
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent();
    let cold = read(worker, &agent);
    let cached: Vec<Read> = (0..CACHED_READS).map(|_| read(worker, &agent)).collect();
    let rows_read = |r: &Read| r.log["rowsRead"].as_u64().unwrap_or(0);
    let kv = |r: &Read| r.log["kvOperations"].as_u64().unwrap_or(0);
    let best_cached = cached.iter().map(|r| r.ms).fold(f64::MAX, f64::min);
    let cached_rows: u64 = cached.iter().map(rows_read).sum();
    let all_cached = cached.iter().all(|r| r.log["cached"] == true);
    // A dozen operators in one data centre share one fresh read per cache
    // lifetime; 43,200 minutes in a 30-day month.
    let month = rows_read(&cold) as f64 * 43_200.0 * 60.0 / AGENTS_CACHE_SECS as f64;

    println!(
        "GET /api/agents at {} client rows ({} live, {} jd-client/sv2):",
        count("rows"),
        count("live"),
        count("jdc")
    );
    println!(
        "  cold:   D1 rows read {}, KV operations {}, {:.0} ms",
        rows_read(&cold),
        kv(&cold),
        cold.ms
    );
    println!(
        "  cached: D1 rows read {} per read, KV operations {}, {:.0} ms (Age {}; {} of {} reads from the cache)",
        cached_rows / CACHED_READS as u64,
        cached.iter().map(kv).sum::<u64>(),
        best_cached,
        cached
            .last()
            .and_then(|r| r.age.clone())
            .unwrap_or_else(|| "?".into()),
        cached.iter().filter(|r| r.log["cached"] == true).count(),
        CACHED_READS
    );
    println!(
        "  one fresh read per {AGENTS_CACHE_SECS} s in one data centre: {:.2} G D1 rows read per month",
        month / 1e9
    );
    println!(
        "{}",
        json!({
            "getAgents": {
                "clientRows": count("rows"), "liveRows": count("live"), "jdcRows": count("jdc"),
                "cold": {"d1RowsRead": rows_read(&cold), "kvOperations": kv(&cold), "ms": cold.ms},
                "cached": {"d1RowsRead": cached_rows, "reads": CACHED_READS, "allFromCache": all_cached, "ms": best_cached},
                "d1RowsReadPerMonthPerDataCentre": month,
            }
        })
    );
}
