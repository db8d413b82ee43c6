//! `dmr-load`: many concurrent reporters against the Worker, then a check
//! that GET holds every identity's last acknowledged report. Starts its own
//! Worker under wrangler dev with fresh state (or loads the one at `--url`),
//! prints figures, and exits non-zero on any 5xx or lost report.
//!
//! usage: dmr-load [REPORTERS] [DURATION_SECS] [INTERVAL_SECS] [--url URL]
//! (defaults: 200 reporters for 180 s, each reporting every 10 s)

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use dmr_tests::load::{run, LoadPlan};
use dmr_tests::Worker;

/// Many concurrent reporters against the Worker, then a check that GET
/// holds every identity's last acknowledged report. Exits 1 on any 5xx,
/// unanswered request or lost report.
#[derive(Debug, Parser)]
#[command(name = "dmr-load")]
struct Args {
    /// Concurrent reporters, each a distinct identity and client IP.
    #[arg(default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    reporters: u64,
    /// How long they keep reporting, in seconds.
    #[arg(default_value_t = 180, value_parser = clap::value_parser!(u64).range(1..))]
    duration_secs: u64,
    /// Seconds between one reporter's reports.
    #[arg(default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    interval_secs: u64,
    /// Load the Worker already running at this base URL instead of starting
    /// one under wrangler dev.
    #[arg(long, env = "DMR_LOAD_URL")]
    url: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Kept alive until the run is over; dropping it stops wrangler dev.
    let (worker, base_url) = match args.url {
        Some(url) => (None, url),
        None => {
            let worker = Worker::start();
            let url = worker.base_url();
            (Some(worker), url)
        }
    };
    let plan = LoadPlan {
        base_url,
        reporters: args.reporters as usize,
        duration: Duration::from_secs(args.duration_secs),
        interval: Duration::from_secs(args.interval_secs),
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn numbers_are_positional_with_defaults() {
        let args = Args::try_parse_from(["dmr-load"]).unwrap();
        assert_eq!(
            (args.reporters, args.duration_secs, args.interval_secs),
            (200, 180, 10)
        );
        let args = Args::try_parse_from(["dmr-load", "20", "30"]).unwrap();
        assert_eq!(
            (args.reporters, args.duration_secs, args.interval_secs),
            (20, 30, 10)
        );
        for bad in ["0", "-3", "ten"] {
            let err = Args::try_parse_from(["dmr-load", bad]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}: {err}");
        }
    }
}
