//! `dmr-load`: many concurrent reporters against the Worker, then a check
//! that GET holds every identity's last acknowledged report. Starts its own
//! Worker under wrangler dev with fresh state (or uses `DMR_LOAD_URL`),
//! prints figures, and exits non-zero on any 5xx or lost report.
//!
//! usage: dmr-load [REPORTERS] [DURATION_SECS] [INTERVAL_SECS]
//! (defaults: 200 reporters for 180 s, each reporting every 10 s)

use std::process::ExitCode;
use std::time::Duration;

use dmr_tests::load::{run, LoadPlan};
use dmr_tests::Worker;

const USAGE: &str = "usage: dmr-load [REPORTERS] [DURATION_SECS] [INTERVAL_SECS]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut numbers = [200u64, 180, 10];
    for (i, slot) in numbers.iter_mut().enumerate() {
        if let Some(arg) = args.get(i) {
            match arg.parse() {
                Ok(n) if n > 0 => *slot = n,
                _ => {
                    eprintln!("{arg:?} is not a positive whole number; {USAGE}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    let [reporters, duration, interval] = numbers;
    // Kept alive until the run is over; dropping it stops wrangler dev.
    let (worker, base_url) = match std::env::var("DMR_LOAD_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let worker = Worker::start();
            let url = worker.base_url();
            (Some(worker), url)
        }
    };
    let plan = LoadPlan {
        base_url,
        reporters: reporters as usize,
        duration: Duration::from_secs(duration),
        interval: Duration::from_secs(interval),
    };
    let result = run(&plan);
    result.print(&plan);
    drop(worker);
    if result.server_errors() == 0 && result.lost.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
