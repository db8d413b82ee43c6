//! What a large report costs on the Worker's path, natively, with one
//! vendor and with every miner's vendor different: parse and validate the
//! body, derive the user agent, summarise (vendor shares and fingerprint),
//! write the stored JSON and its metadata. For 500 and 2,000 miners, side
//! by side, and how the extra cost of distinct vendors grows per miner from
//! one size to the other (about 1.2 times when the work grows as n log n,
//! 4 times when it grows as the square). Prints figures; asserts nothing.
//!
//! `cargo bench -p dmr-shared --bench report_size`
//! Times are the thread's CPU time, the cheapest of five rounds per step
//! (the release profile optimises for size, as the Worker's wasm is built;
//! wasm in V8 runs these slower: see docs/performance.md).

use std::hint::black_box;
use std::time::{Duration, Instant};

use dmr_shared::limits::MAX_VENDOR_LEN;
use dmr_shared::{parse_report, user_agent_for, JdcSummary, Miner, Report, StoredReport};

/// This thread's CPU time so far, in nanoseconds: the machine may be
/// shared, and a bench that runs beside other work should count only its
/// own. (Wall time where there is no thread CPU clock.)
fn cpu_ns() -> u128 {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        #[repr(C)]
        struct Timespec {
            secs: i64,
            nanos: i64,
        }
        extern "C" {
            fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
        }
        const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
        let mut t = Timespec { secs: 0, nanos: 0 };
        // SAFETY: libc's clock_gettime writes one timespec, which `t` is.
        if unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return t.secs as u128 * 1_000_000_000 + t.nanos as u128;
        }
    }
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos()
}

/// Runs `f` for about `budget` in five rounds and returns the CPU
/// microseconds per call of the cheapest round (the one least disturbed).
fn time<T>(budget: Duration, mut f: impl FnMut() -> T) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let (mut calls, started, cpu) = (0u32, Instant::now(), cpu_ns());
        while calls == 0 || started.elapsed() < budget / 5 {
            black_box(f());
            calls += 1;
        }
        best = best.min((cpu_ns() - cpu) as f64 / 1e3 / f64::from(calls));
    }
    best
}

/// `count` miners whose vendors are all the same, or all different. Every
/// vendor is as long as a vendor can be and they share all but their last
/// digits, so each comparison of two reads most of both: the costliest
/// vendors to tell apart.
fn miners(count: usize, distinct: bool) -> Vec<Miner> {
    (0..count)
        .map(|m| {
            let n = if distinct { m } else { 0 };
            Miner {
                vendor: format!("{n:A>width$}", width = MAX_VENDOR_LEN),
                hardware_version: "BM1370".into(),
                firmware: "v2.4.1".into(),
                device_id: format!("dev{m}"),
                nominal_hash_rate: 1.2e12 * (1 + m) as f64,
                user_identity: format!("bc1qbench000042.w{m}"),
                connected_at: "2026-11-26T00:00:00Z".into(),
                via: None,
            }
        })
        .collect()
}

/// Microseconds per report, by step.
struct Steps {
    parse: f64,
    vendor: f64,
    summary: f64,
    stored: f64,
}

impl Steps {
    fn total(&self) -> f64 {
        self.parse + self.vendor + self.summary + self.stored
    }
}

fn measure(count: usize, distinct: bool, budget: Duration) -> Steps {
    let report = Report {
        schema_version: 1,
        jdc_user_identity: "bc1qbench000042.jdc".into(),
        timestamp: "2026-11-26T00:00:00.000Z".into(),
        miners: miners(count, distinct),
    };
    let body = serde_json::to_vec(&report).expect("JSON");
    let now = "2026-11-26T00:00:01.000Z";
    let parse = time(budget, || parse_report(&body).expect("valid"));
    let vendor = time(budget, || user_agent_for(&report.miners));
    let ua = user_agent_for(&report.miners);
    let summary = time(budget, || JdcSummary::of(&report, ua.clone(), now, now));
    let stored = StoredReport {
        received_at: now.into(),
        expires_at: now.into(),
        user_agent: ua.clone(),
        report: report.clone(),
    };
    let s = JdcSummary::of(&report, ua, now, now);
    let mut buffer = Vec::with_capacity(body.len() + 64 * 1024);
    let stored = time(budget, || {
        buffer.clear();
        serde_json::to_writer(&mut buffer, &stored).expect("JSON");
        serde_json::to_string(&s).expect("JSON").len() + buffer.len()
    });
    Steps {
        parse,
        vendor,
        summary,
        stored,
    }
}

fn main() {
    let budget = Duration::from_millis(400);
    println!(
        "{:<8} {:<10} {:>9} {:>9} {:>9} {:>9} {:>9}   (CPU µs per report)",
        "miners", "vendors", "parse", "vendor", "summary", "stored", "total"
    );
    let mut extra_per_miner = Vec::new();
    for count in [500, 2000] {
        let mut totals = [0.0; 2];
        for (i, distinct) in [false, true].into_iter().enumerate() {
            let s = measure(count, distinct, budget);
            let vendors = if distinct { "distinct" } else { "one" };
            println!(
                "{count:<8} {vendors:<10} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                s.parse,
                s.vendor,
                s.summary,
                s.stored,
                s.total()
            );
            totals[i] = s.total();
        }
        println!("{count:<8} distinct / one: {:.2}x", totals[1] / totals[0]);
        extra_per_miner.push((totals[1] - totals[0]) / count as f64);
    }
    println!(
        "extra µs per miner of distinct vendors: {:.3} at 500, {:.3} at 2000 ({:.2}x; n log n ~1.2x, a square 4x)",
        extra_per_miner[0],
        extra_per_miner[1],
        extra_per_miner[1] / extra_per_miner[0]
    );
}
