//! Throughput of the reporter's input path on a large synthetic log, and its
//! peak memory; and the parser's colour stripping next to the
//! `strip-ansi-escapes` and `vte` crates on the same log coloured the way
//! tracing-subscriber colours it. Prints the figures; asserts nothing about
//! time.
//!
//! ```text
//! npm run bench-reporter [-- LINES]
//! cargo bench -p jdc-reporter --bench input [-- LINES]
//! ```
//!
//! The log (default 1,000,000 lines) is built from the real 0.6.0 line
//! formats: per downstream a `New downstream connection`, its
//! `SetupConnection`, a standard channel (every third one a translator with
//! two extended channels instead), and the noise a JDC prints in between
//! (templates, prev hashes, vardiff, IO task lines); downstreams leave again
//! so about a thousand stay connected. It is then read the way `--log FILE
//! --from-start --once` reads it: file, line splitting, parser, tracker.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::time::Instant;

use clap::Parser as _;
use jdc_reporter::feed::{lock, Feed};
use jdc_reporter::input::{follow_file, Follow};
use jdc_reporter::parse::{strip_ansi, Parser};

/// Downstreams connected at once, roughly.
const LIVE: u64 = 1000;

/// Measure jdc-reporter's log input on a synthetic jd_client_sv2 log.
#[derive(clap::Parser)]
struct Args {
    /// Lines in the synthetic log (`1_000_000` is fine).
    #[arg(default_value = "1000000", value_parser = parse_count)]
    lines: u64,

    /// Added by `cargo bench` to every benchmark it runs; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn parse_count(text: &str) -> Result<u64, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("{text:?} is not a number of lines"))
}

fn main() {
    let target = Args::parse().lines;

    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("synthetic-jdc.log");
    let started = Instant::now();
    let (lines, bytes) = write_log(&path, target);
    let built = started.elapsed();
    let rss_before = peak_rss_kib();

    // The pipeline, as `--log FILE --from-start --once` runs it.
    let feed = Feed::shared(false);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let started = Instant::now();
    runtime
        .block_on(follow_file(&path, true, Follow::ToEnd, &feed))
        .expect("the log reads");
    let elapsed = started.elapsed().as_secs_f64();
    let (read, miners) = {
        let feed = lock(&feed);
        (feed.lines(), feed.miners().len())
    };
    assert_eq!(read, lines, "every line was read");

    let peak = peak_rss_kib();

    // The parser alone, line by line from the (now cached) file.
    let mut reader = std::io::BufReader::with_capacity(
        1 << 16,
        std::fs::File::open(&path).expect("the log reads"),
    );
    let mut parser = Parser::new();
    let mut line = String::new();
    let mut events = 0u64;
    let started = Instant::now();
    while std::io::BufRead::read_line(&mut reader, &mut line).expect("the log reads") > 0 {
        parser.push(&line, &mut |_| events += 1);
        line.clear();
    }
    parser.finish(&mut |_| events += 1);
    let parse_only = started.elapsed().as_secs_f64();

    let strip = compare_colour_stripping(&path);

    let rate = lines as f64 / elapsed;
    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!(
        "synthetic log: {lines} lines, {mib:.1} MiB, built in {:.2} s",
        built.as_secs_f64()
    );
    println!(
        "pipeline (file -> lines -> parser -> tracker): {elapsed:.3} s, {rate:.0} lines/s, {:.1} MiB/s",
        mib / elapsed
    );
    println!(
        "parser only: {parse_only:.3} s, {:.0} lines/s ({events} events)",
        lines as f64 / parse_only
    );
    println!("miners connected at the end: {miners}");
    for (name, seconds) in &strip.timings {
        println!(
            "colour stripping, {name}: {seconds:.3} s, {:.0} lines/s ({} coloured lines, {:.1} MiB)",
            strip.lines as f64 / seconds,
            strip.lines,
            strip.bytes as f64 / (1024.0 * 1024.0)
        );
    }
    println!(
        "peak RSS (VmHWM): {} KiB after building the log, {} KiB after reading it",
        fmt_opt(rss_before),
        fmt_opt(peak)
    );
    let strip_json: Vec<String> = strip
        .timings
        .iter()
        .map(|(name, seconds)| format!("\"{name}\":{:.0}", strip.lines as f64 / seconds))
        .collect();
    println!(
        "{{\"bench\":\"colour stripping lines/s\",{}}}",
        strip_json.join(",")
    );
    println!(
        "{{\"bench\":\"jdc-reporter input\",\"lines\":{lines},\"bytes\":{bytes},\"seconds\":{elapsed:.4},\"lines_per_sec\":{rate:.0},\"parser_only_lines_per_sec\":{:.0},\"events\":{events},\"miners_at_end\":{miners},\"peak_rss_kib_before_read\":{},\"peak_rss_kib\":{}}}",
        lines as f64 / parse_only,
        json_opt(rss_before),
        json_opt(peak)
    );
}

/// How fast each way of stripping colour codes goes over the same lines.
struct Stripping {
    lines: u64,
    bytes: u64,
    timings: Vec<(&'static str, f64)>,
}

/// The log, coloured as tracing-subscriber colours a terminal's output, and
/// stripped three ways; the three must agree on every line.
fn compare_colour_stripping(path: &std::path::Path) -> Stripping {
    let text = std::fs::read_to_string(path).expect("the log reads");
    let coloured: Vec<String> = text.lines().map(colour).collect();
    let bytes = coloured.iter().map(|l| l.len() as u64 + 1).sum();
    let mut timings = Vec::new();

    let mut ours = Vec::with_capacity(coloured.len());
    let mut out = String::new();
    let started = Instant::now();
    for line in &coloured {
        strip_ansi(line, &mut out);
        ours.push(out.len());
    }
    timings.push(("jdc-reporter's own", started.elapsed().as_secs_f64()));

    let started = Instant::now();
    for (line, want) in coloured.iter().zip(&ours) {
        let stripped = strip_ansi_escapes::strip_str(line);
        assert_eq!(
            stripped.len(),
            *want,
            "strip-ansi-escapes disagrees on {line:?}"
        );
    }
    timings.push(("strip-ansi-escapes 0.2", started.elapsed().as_secs_f64()));

    let started = Instant::now();
    let mut parser = vte::Parser::new();
    let mut printed = Printed(String::new());
    for (line, want) in coloured.iter().zip(&ours) {
        printed.0.clear();
        parser.advance(&mut printed, line.as_bytes());
        assert_eq!(printed.0.len(), *want, "vte disagrees on {line:?}");
    }
    timings.push(("vte 0.14", started.elapsed().as_secs_f64()));

    Stripping {
        lines: coloured.len() as u64,
        bytes,
        timings,
    }
}

/// What vte hands out as printable text, collected.
struct Printed(String);

impl vte::Perform for Printed {
    fn print(&mut self, c: char) {
        self.0.push(c);
    }
}

/// One line as tracing-subscriber writes it to a terminal: dimmed time,
/// coloured level, dimmed target and `:`, italic field names and dimmed `=`.
fn colour(line: &str) -> String {
    let Some((ts, rest)) = line.split_once("  ").or_else(|| line.split_once(' ')) else {
        return line.to_owned();
    };
    let Some((level, rest)) = rest.trim_start().split_once(' ') else {
        return line.to_owned();
    };
    let Some((target, msg)) = rest.split_once(": ") else {
        return line.to_owned();
    };
    let code = match level {
        "ERROR" => 31,
        "WARN" => 33,
        _ => 32,
    };
    let msg = msg.replace(
        " downstream_id=",
        " \x1b[3mdownstream_id\x1b[0m\x1b[2m=\x1b[0m",
    );
    format!("\x1b[2m{ts}\x1b[0m \x1b[{code}m{level:>5}\x1b[0m \x1b[2m{target}\x1b[0m\x1b[2m:\x1b[0m {msg}")
}

/// Writes at least `target` lines; returns (lines, bytes).
fn write_log(path: &std::path::Path, target: u64) -> (u64, u64) {
    let file = std::fs::File::create(path).expect("the log can be created");
    let mut log = Log {
        out: BufWriter::with_capacity(1 << 20, file),
        lines: 0,
        bytes: 0,
    };
    let mut line = String::with_capacity(2048);
    let vendors = ["bitaxe", "NerdQAxe++", "Antminer, Inc. (S19 XP)", ""];
    let mut clock_us: u64 = 0;
    let mut id: u64 = 0;
    while log.lines < target {
        // Ten milliseconds apart, from 2026-11-24T18:36:04Z.
        let mut ts = || {
            clock_us += 10_000;
            stamp(clock_us)
        };
        let t = ts();
        let _ = write!(line, "{t}  INFO jd_client_sv2::channel_manager: New downstream connection socket_address=10.0.{}.{}:{}", id % 200, id % 250, 30000 + id % 30000);
        log.emit(&mut line);
        let translator = id % 3 == 2;
        let (vendor, hw, flags) = if translator {
            ("SRI", "Translator Proxy", "0x00000004")
        } else {
            (vendors[(id % 4) as usize], "BM1370", "0x00000001")
        };
        let t = ts();
        let _ = write!(line, "{t}  INFO jd_client_sv2::downstream::common_message_handler: Received: SetupConnection(protocol: 0, min_version: 2, max_version: 2, flags: {flags}, endpoint_host: 127.0.0.1, endpoint_port: 34265, vendor: {vendor}, hardware_version: {hw}, firmware: v2.4.1, device_id: dev-{id})");
        log.emit(&mut line);
        if translator {
            for n in 0..2 {
                let t = ts();
                let _ = write!(line, "{t}  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenExtendedMiningChannel(request_id: {n}, user_identity: bc1qexampleaddr.sv1-{id}-{n}, nominal_hash_rate: 13500000000000, max_target: U256(ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff), min_extranonce_size: 4) downstream_id={id}");
                log.emit(&mut line);
            }
        } else {
            let t = ts();
            let _ = write!(line, "{t}  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenStandardMiningChannel(request_id: 1, user_identity: bc1qexampleaddr.rig{id}, nominal_hash_rate: 1000000000000, max_target: U256(ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)) downstream_id={id}");
            log.emit(&mut line);
        }
        // The noise between events.
        for k in 0..4 {
            let t = ts();
            match (id + k) % 4 {
                0 => {
                    let _ = write!(line, "{t}  INFO jd_client_sv2::channel_manager::template_message_handler: Received: NewTemplate(template_id: {id}, future_template: true, version: 0x20000000, coinbase_tx_version: 0x00000002, coinbase_prefix: B0255(5200), coinbase_tx_input_sequence: 0xffffffff, coinbase_tx_value_remaining: 5000000000, coinbase_tx_outputs_count: 1, coinbase_tx_outputs: B064K(0000000000000000266a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9), coinbase_tx_locktime: 0, merkle_path: Seq0255([]))");
                }
                1 => {
                    let _ = write!(line, "{t}  INFO jd_client_sv2::channel_manager::template_message_handler: Received: SetNewPrevHash {{ template_id: {id}, prev_hash: U256(1111111111111111111111111111111111111111111111111111111111111111), header_timestamp: 1700000000, n_bits: 0x1d00ffff, target: U256(ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff) }}");
                }
                2 => {
                    let _ = write!(
                        line,
                        "{t}  INFO jd_client_sv2::channel_manager: Vardiff update cycle complete"
                    );
                }
                _ => {
                    let _ = write!(
                        line,
                        "{t}  WARN jd_client_sv2::io_task: Reader task exited."
                    );
                }
            }
            log.emit(&mut line);
        }
        if id >= LIVE {
            let gone = id - LIVE;
            let t = ts();
            let _ = write!(line, "{t}  WARN jd_client_sv2::downstream: Downstream::handle_downstream_message requested disconnect; cancelling downstream token downstream_id={gone} error_kind=ChannelErrorReceiver(RecvError)");
            log.emit(&mut line);
        }
        id += 1;
    }
    log.out.flush().expect("the log can be written");
    (log.lines, log.bytes)
}

/// The log being written, and how much of it there is.
struct Log {
    out: BufWriter<std::fs::File>,
    lines: u64,
    bytes: u64,
}

impl Log {
    fn emit(&mut self, line: &mut String) {
        line.push('\n');
        self.out
            .write_all(line.as_bytes())
            .expect("the log can be written");
        self.lines += 1;
        self.bytes += line.len() as u64;
        line.clear();
    }
}

/// An RFC 3339 UTC timestamp with microseconds, `us` after 18:36:04.
fn stamp(us: u64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-24T18:36:04Z").unwrap();
    let t = base + chrono::TimeDelta::microseconds(us as i64);
    t.to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Peak resident set size (VmHWM) in KiB, where /proc says it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn fmt_opt(v: Option<u64>) -> String {
    v.map_or_else(|| "unknown".into(), |v| v.to_string())
}

fn json_opt(v: Option<u64>) -> String {
    v.map_or_else(|| "null".into(), |v| v.to_string())
}
