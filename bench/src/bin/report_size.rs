//! `report_size`: what a large report costs the built Worker under
//! wrangler dev, in workerd CPU per report: 500 and 2,000 miners, with one
//! vendor and with every miner's vendor different, side by side. Prints
//! figures; asserts nothing about time.
//!
//! Each shape is posted once (stored), then again and again unchanged: the
//! repeats are parsed, validated, voted on and summarised in full, make the
//! one D1 statement (which finds nothing to rename) and no KV call (the
//! instance's note says the copy stands), so what differs between the
//! shapes is the Worker's own work on the report. The shapes take turns,
//! round after round, so a drift of the machine's load falls on all alike;
//! the figure is the median of the rounds. workerd's CPU is read from
//! `/proc` in clock ticks (10 ms), so a round needs many reports. The rate limits are left out of
//! the config (they would measure the limiter).
//!
//! usage: `cargo run --release -p dmr-bench --bin report_size --
//! [--rounds N] [--reports N] [--main ENTRY]...`
//! (defaults: 5 rounds of 20 reports per shape; the built Worker, or each
//! `--main` entry module in turn, e.g. another checkout's
//! `worker/entry.mjs`, to compare builds)

use std::path::PathBuf;

use clap::Parser;
use dmr_shared::limits::MAX_VENDOR_LEN;
use dmr_tests::{report, Options, Worker};
use serde_json::{json, Value};

#[derive(Parser)]
#[command(about = "workerd CPU per report for 500 and 2,000 miners, one vendor or all distinct")]
struct Args {
    /// Rounds; each posts every shape `--reports` times.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Reports per shape and round.
    #[arg(long, default_value_t = 20)]
    reports: usize,
    /// Entry modules to measure in turn (default: the built Worker's).
    #[arg(long)]
    main: Vec<PathBuf>,
}

/// `count` miners whose vendors are all the same or all different, as long
/// as a vendor can be and alike but for their last digits (as in
/// `shared/benches/report_size.rs`).
fn body(count: usize, distinct: bool) -> Vec<u8> {
    let miners: Vec<Value> = (0..count)
        .map(|m| {
            let n = if distinct { m } else { 0 };
            json!({
                "vendor": format!("{n:A>width$}", width = MAX_VENDOR_LEN),
                "hardwareVersion": "BM1370",
                "firmware": "v2.4.1",
                "deviceId": format!("dev{m}"),
                "nominalHashRate": 1.2e12 * (1 + m) as f64,
                "userIdentity": format!("bc1qsize.w{m}"),
                "connectedAt": "2026-11-26T00:00:00Z",
            })
        })
        .collect();
    let kind = if distinct { "distinct" } else { "one" };
    report(&format!("bc1qsize{count}{kind}.jdc"), miners)
        .to_string()
        .into_bytes()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let args = Args::parse();
    let shapes: Vec<(usize, bool, Vec<u8>)> =
        [(500, false), (500, true), (2000, false), (2000, true)]
            .into_iter()
            .map(|(count, distinct)| (count, distinct, body(count, distinct)))
            .collect();
    let mains: Vec<Option<PathBuf>> = if args.main.is_empty() {
        vec![None]
    } else {
        args.main.iter().cloned().map(Some).collect()
    };
    println!(
        "{:<40} {:>7} {:<9} {:>14}   ({} rounds of {} reports; median, min-max)",
        "worker", "miners", "vendors", "CPU ms/report", args.rounds, args.reports
    );
    for main in mains {
        let label = main
            .as_ref()
            .map_or("built Worker".to_owned(), |m| m.display().to_string());
        let worker = Worker::start_with(Options {
            main: main.clone(),
            without_bindings: vec!["IP_RATE_LIMITER", "IDENTITY_RATE_LIMITER"],
            ..Options::default()
        });
        let post = |body: &[u8]| {
            let reply = worker.post_raw(body);
            assert_eq!(reply.status, 200, "{}", reply.body);
        };
        // Stored once; the rounds repeat it unchanged.
        for (_, _, body) in &shapes {
            post(body);
        }
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); shapes.len()];
        for round in 0..args.rounds {
            let order: Vec<usize> = if round % 2 == 0 {
                (0..shapes.len()).collect()
            } else {
                (0..shapes.len()).rev().collect()
            };
            for i in order {
                let before = worker.workerd_cpu_secs();
                for _ in 0..args.reports {
                    post(&shapes[i].2);
                }
                let spent = worker.workerd_cpu_secs() - before;
                cpu[i].push(spent * 1e3 / args.reports as f64);
            }
        }
        for ((count, distinct, _), ms) in shapes.iter().zip(cpu) {
            let (lo, hi) = ms
                .iter()
                .fold((f64::MAX, 0.0f64), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
            let vendors = if *distinct { "distinct" } else { "one" };
            println!(
                "{label:<40} {count:>7} {vendors:<9} {:>14.2}   ({lo:.2}-{hi:.2})",
                median(ms.clone())
            );
        }
    }
}
