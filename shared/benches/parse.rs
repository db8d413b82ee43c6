//! What parsing a report body costs, natively: time per body and the peak
//! heap it needs, for a typical report and for the largest and most hostile
//! bodies the pool accepts. Prints figures; asserts nothing.
//!
//! `cargo bench -p dmr-shared --bench parse`
//! (the release profile optimises for size, as the Worker's wasm is built).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dmr_shared::limits::{MAX_BODY_BYTES, MAX_FIELD_LEN, MAX_MINERS};
use dmr_shared::parse_report;
use serde_json::{json, Value};

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as the new block before the old one is freed, as a
        // moving realloc needs both at once.
        let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
        PEAK.fetch_max(live, Ordering::Relaxed);
        let moved = System.realloc(ptr, layout, new_size);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn miner(i: usize, long: bool) -> Value {
    let text = |c: char| {
        if long {
            c.to_string().repeat(MAX_FIELD_LEN)
        } else {
            String::new()
        }
    };
    json!({
        "vendor": if long { text('v') } else { "bitaxe".into() },
        "hardwareVersion": if long { text('h') } else { "BM1370".into() },
        "firmware": text('f'),
        "deviceId": text('d'),
        "nominalHashRate": 1.2e12 + i as f64,
        "userIdentity": if long { text('u') } else { format!("bc1qbench.w{i}") },
        "connectedAt": "2026-02-15T11:30:00.123+01:00",
    })
}

fn report(miners: Vec<Value>) -> Value {
    json!({
        "schemaVersion": 1,
        "jdcUserIdentity": "bc1qbenchaddress0000000000000000000000000.jdc1",
        "timestamp": "2026-02-15T12:00:00Z",
        "miners": miners,
    })
}

/// A valid report padded with `extra` (an unknown member) up to just under
/// the body limit, `unit` repeated.
fn padded(unit: &str, separator: &str, open: &str, close: &str) -> Vec<u8> {
    let base = report(vec![miner(0, false)]).to_string();
    let room = MAX_BODY_BYTES - base.len() - open.len() - close.len() - 16;
    let count = room / (unit.len() + separator.len());
    let mut body = base[..base.len() - 1].to_string();
    body.push_str(",\"extra\":");
    body.push_str(open);
    for i in 0..count {
        if i > 0 {
            body.push_str(separator);
        }
        body.push_str(unit);
    }
    body.push_str(close);
    body.push('}');
    body.into_bytes()
}

/// Objects of 1,000 distinct members each, as many as fit.
fn many_members() -> Vec<u8> {
    let object: String = {
        let members: Vec<String> = (0..1000).map(|k| format!("\"k{k}\":{k}")).collect();
        format!("{{{}}}", members.join(","))
    };
    padded(&object, ",", "[", "]")
}

fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "typical (3 miners)",
            report((0..3).map(|i| miner(i, false)).collect())
                .to_string()
                .into_bytes(),
        ),
        (
            "2,000 miners, every string 255 bytes",
            report((0..MAX_MINERS).map(|i| miner(i, true)).collect())
                .to_string()
                .into_bytes(),
        ),
        ("4 MiB unknown array of numbers", padded("0", ",", "[", "]")),
        ("4 MiB unknown array of objects", many_members()),
        ("4 MiB unknown string", padded("x", "", "\"", "\"")),
    ]
}

fn main() {
    println!("parse_report, native, release profile:");
    for (name, body) in bodies() {
        assert!(body.len() <= MAX_BODY_BYTES, "{name}: {} bytes", body.len());
        let accepted = parse_report(&body).is_ok();
        // Peak heap of one parse, over what was live before it.
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let _ = std::hint::black_box(parse_report(std::hint::black_box(&body)));
        let peak = PEAK.load(Ordering::Relaxed) - before;
        // Time: as many runs as fit in about two seconds, at least five.
        let mut runs = Vec::new();
        let started = Instant::now();
        while runs.len() < 5 || (started.elapsed() < Duration::from_secs(2) && runs.len() < 10_000)
        {
            let t = Instant::now();
            let _ = std::hint::black_box(parse_report(std::hint::black_box(&body)));
            runs.push(t.elapsed());
        }
        runs.sort();
        let median = runs[runs.len() / 2];
        let mb_s = body.len() as f64 / median.as_secs_f64() / 1e6;
        println!(
            "  {name:<40} {:>9} bytes  accepted {accepted:<5}  median {:>10.1} µs  {mb_s:>7.1} MB/s  peak heap {:>9} bytes  ({} runs)",
            body.len(),
            median.as_secs_f64() * 1e6,
            peak,
            runs.len()
        );
    }
}
