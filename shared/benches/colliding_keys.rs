//! What reading a body of many-member objects costs when the members' keys
//! are crafted so that their hashes fall into one bucket of a hash table,
//! next to the same body with ordinary keys. The strict JSON reader keeps
//! each object's keys as SipHash values with fixed keys (`json::SeenKeys`),
//! so anyone can search for such keys offline; this finds 1,000 of them
//! (a few seconds: 18 bits of each hash must match, the bits the standard
//! library's hash table takes on 64-bit targets) and parses a 4 MiB body of
//! objects with those keys. Prints figures; asserts nothing.
//!
//! `cargo bench -p dmr-shared --bench colliding_keys`

use std::hash::Hasher;
use std::time::{Duration, Instant};

use dmr_shared::limits::MAX_OBJECT_MEMBERS;
use dmr_shared::parse_report;

/// The hash `SeenKeys` keeps of a key.
fn hash(key: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    hasher.write(key.as_bytes());
    hasher.finish()
}

/// A report whose unknown member `x` is an array of objects with `keys`,
/// about 4 MB in all.
fn body(keys: &[String]) -> Vec<u8> {
    let members: Vec<String> = keys.iter().map(|k| format!("\"{k}\":0")).collect();
    let object = format!("{{{}}}", members.join(","));
    let objects = vec![object.as_str(); 4_000_000 / object.len()].join(",");
    format!(
        r#"{{"schemaVersion":1,"jdcUserIdentity":"bc1q.jdc","timestamp":"2026-02-15T12:00:00Z","miners":[],"x":[{objects}]}}"#
    )
    .into_bytes()
}

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

/// Median CPU time of parsing `body`, over about a second.
fn time(body: &[u8]) -> Duration {
    let mut runs = Vec::new();
    let started = Instant::now();
    while runs.len() < 3 || (started.elapsed() < Duration::from_secs(1) && runs.len() < 50) {
        let cpu = cpu_ns();
        assert!(parse_report(body).is_ok());
        runs.push(Duration::from_nanos((cpu_ns() - cpu) as u64));
    }
    runs.sort();
    runs[runs.len() / 2]
}

fn main() {
    let n = MAX_OBJECT_MEMBERS;
    let searching = Instant::now();
    let colliding: Vec<String> = (0u64..)
        .map(|i| format!("{i:x}"))
        .filter(|k| {
            let h = hash(k);
            // The bucket (low bits of a 2,048-bucket table) and the tag
            // (top 7 bits) of hashbrown on a 64-bit target.
            h & 0x7ff == 0 && h >> 57 == 0
        })
        .take(n)
        .collect();
    println!(
        "found {n} colliding keys in {:.1} s",
        searching.elapsed().as_secs_f64()
    );
    let ordinary: Vec<String> = (0..n).map(|k| format!("k{k}")).collect();
    for (name, keys) in [("ordinary keys", &ordinary), ("colliding keys", &colliding)] {
        let body = body(keys);
        println!(
            "{name:<16} {} bytes, objects of {n} members: median {:.1} ms of CPU",
            body.len(),
            time(&body).as_secs_f64() * 1e3
        );
    }
}
