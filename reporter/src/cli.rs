//! The command line, as clap derives it: each flag's `///` is its `--help`
//! text. Durations and URLs are parsed into typed values here, so a typo is a
//! usage error naming the flag, before anything starts.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use reqwest::Url;

/// Report the miners connected to a Stratum V2 JD-Client to its pool.
///
/// jdc-reporter reads what jd_client_sv2 logs (SetupConnection, channel opens,
/// disconnects), keeps a table of the connected miners, and POSTs it to the
/// pool every 60 s as a Downstream Miner Report (schema v1), so the pool can
/// show `bitaxe/sv2` instead of `jd-client/sv2`.
///
/// Input, one of: a log file (--log), standard input, or the JDC itself,
/// started after `--`.
#[derive(Debug, Parser)]
#[command(name = "jdc-reporter", version, after_long_help = AFTER_HELP)]
pub struct Cli {
    /// Follow this jd_client_sv2 log file like `tail -F`: from its current
    /// end, surviving rotation and truncation.
    #[arg(short, long, value_name = "FILE", conflicts_with = "command")]
    pub log: Option<PathBuf>,

    /// Read --log from its beginning instead of its end (replay a log).
    #[arg(long, requires = "log")]
    pub from_start: bool,

    /// The jd-client TOML config: the first upstream's user_identity and
    /// pool_address/pool_port say who to report as and where. Defaults to the
    /// `-c` of the JDC command after `--`.
    #[arg(short = 'c', long, value_name = "FILE")]
    pub jdc_config: Option<PathBuf>,

    /// Report as this identity (jdcUserIdentity) instead of the config's
    /// user_identity. The pool matches it to its client rows.
    #[arg(long, value_name = "ID")]
    pub identity: Option<String>,

    /// Send reports here instead of
    /// http://{pool_address}:{pool_port}/api/downstream-report, e.g. to the
    /// pool's HTTPS edge.
    #[arg(long, value_name = "URL", value_parser = parse_http_url)]
    pub report_url: Option<Url>,

    /// Send `Authorization: Bearer TOKEN` with every report, for pools that
    /// require it. Prefer the JDC_REPORTER_TOKEN environment variable or
    /// --token-file: a token on the command line is visible to every user
    /// of the machine (ps, /proc).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "JDC_REPORTER_TOKEN",
        hide_env_values = true,
        conflicts_with = "token_file"
    )]
    pub token: Option<String>,

    /// Read the bearer token from this file (its first line; keep the file
    /// readable by the reporter's user only).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Send the token even over plain http:// to a host other than this
    /// machine, where anyone on the path can read it. Without this flag the
    /// reporter refuses to start (exit 3); use an https:// --report-url.
    #[arg(long)]
    pub allow_insecure_token: bool,

    /// Time between reports, e.g. 60s, 2m, 500ms. The first report goes out
    /// 10 s after start (or after one interval, if shorter).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_interval)]
    pub interval: Duration,

    /// The JDC's monitoring API (its `monitoring_address`, e.g.
    /// http://127.0.0.1:9091). Before each report, miners it no longer lists
    /// are dropped: it sees disconnects the log does not print.
    #[arg(long, value_name = "URL", value_parser = parse_http_url)]
    pub monitoring_url: Option<Url>,

    /// The log of the SRI translator (translator_sv2) in front of the JDC,
    /// written with RUST_LOG=debug: each SV1 device behind it is reported
    /// with its own make (from its user agent) and worker name instead of as
    /// a bare translator channel. Read from its start (the devices connected
    /// before now are in its history), then followed like --log.
    #[arg(long, value_name = "FILE")]
    pub translator_log: Option<PathBuf>,

    /// The translator's monitoring API (its monitoring_address, e.g.
    /// http://127.0.0.1:9092), read before each report: worker names,
    /// measured hash rates, departures, and each device's make when the
    /// translator's miner telemetry matched it.
    #[arg(long, value_name = "URL", value_parser = parse_http_url)]
    pub translator_api: Option<Url>,

    /// The translator's TOML config: its monitoring_address gives
    /// --translator-api when that is not set.
    #[arg(long, value_name = "FILE")]
    pub translator_config: Option<PathBuf>,

    /// Read the input once to its end (a --log file from its start), send one
    /// report and exit.
    #[arg(long, conflicts_with = "command")]
    pub once: bool,

    /// Print the report JSON on standard output instead of sending it.
    #[arg(long)]
    pub dry_run: bool,

    /// Log every miner that connects or leaves, not only the reports.
    #[arg(short, long)]
    pub verbose: bool,

    /// Start this JDC command, pass its output through unchanged, forward
    /// signals to it and exit with its status.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

const AFTER_HELP: &str = "\
Examples:
  jdc-reporter -- jd_client_sv2 -c jdc.toml
  jdc-reporter -c jdc.toml --log /var/log/jdc.log
  jdc-reporter -c jdc.toml --log jdc.log --translator-log tproxy.log --translator-config tproxy.toml
  jd_client_sv2 -c jdc.toml | jdc-reporter -c jdc.toml
  jdc-reporter -c jdc.toml --log jdc.log --once --dry-run

Exit status:
  0  done (or stopped by SIGINT/SIGTERM while following)
  1  a --once report could not be delivered, or reading failed
  2  wrong command line
  3  the configuration cannot be used: the jd-client config (unreadable, solo
     mining, no identity or pool), the token file, or a token that would go
     over plain http:// (see --allow-insecure-token)
  4  the log file or the JDC command cannot be opened
  With `-- COMMAND`, the JDC's own exit status once it has started.";

/// Shortest interval accepted: below this a report is a flood, not a report.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// Longest interval accepted: a pool forgets a report after 5 minutes, so a
/// day between reports already means no report at all; beyond it the clock
/// arithmetic of the schedule could overflow.
pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// A duration as humantime reads it (`60s`, `500ms`, `2m`, `1h 30m`); a bare
/// number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bare = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let parsed = if bare {
        humantime::parse_duration(&format!("{text}s"))
    } else {
        humantime::parse_duration(text)
    };
    parsed.map_err(|e| format!("{text:?} is not a duration ({e}); write it like 60s, 500ms or 2m"))
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < MIN_INTERVAL {
        return Err(format!(
            "{text:?} is too short; the shortest interval is {}",
            fmt_duration(MIN_INTERVAL)
        ));
    }
    if d > MAX_INTERVAL {
        return Err(format!(
            "{text:?} is too long; the longest interval is {}",
            fmt_duration(MAX_INTERVAL)
        ));
    }
    Ok(d)
}

/// An absolute http:// or https:// URL with a host.
pub fn parse_http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| {
        format!("{text:?} is not a URL ({e}); write it like https://pool.example.com/api/downstream-report")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?} is not an http:// or https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?} has no host"));
    }
    Ok(url)
}

/// `1m`, `10s`, `500ms`, `1s 500ms`: the way durations are written on the
/// command line.
pub fn fmt_duration(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        for (text, ms) in [
            ("60", 60_000),
            ("60s", 60_000),
            ("1s 500ms", 1_500),
            ("500ms", 500),
            ("2m", 120_000),
            ("1h", 3_600_000),
            (" 90s ", 90_000),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for bad in [
            "",
            "s",
            "ten",
            "5 parsecs",
            "-1s",
            "1e400",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_interval("10ms").unwrap_err().contains("too short"));
        assert!(parse_interval("25h").unwrap_err().contains("too long"));
        assert!(parse_interval("500000000000h")
            .unwrap_err()
            .contains("too long"));
        assert_eq!(parse_interval("24h"), Ok(MAX_INTERVAL));
    }

    #[test]
    fn durations_print_as_written() {
        for (ms, text) in [
            (500, "500ms"),
            (60_000, "1m"),
            (10_000, "10s"),
            (1_500, "1s 500ms"),
        ] {
            assert_eq!(fmt_duration(Duration::from_millis(ms)), text);
            assert_eq!(parse_duration(text), Ok(Duration::from_millis(ms)));
        }
    }

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert!(parse_http_url("https://edge.example.com/api/downstream-report").is_ok());
        assert!(parse_http_url("http://127.0.0.1:3333/api/downstream-report").is_ok());
        for bad in [
            "pool.example.com",
            "ftp://x/y",
            "http://",
            "file:///etc/passwd",
        ] {
            assert!(parse_http_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
