//! The command line, as clap derives it: each flag's `///` is its `--help`
//! text, written for pool operators. Addresses, URLs and durations are
//! parsed into typed values here, so a typo is a usage error naming the
//! flag before anything starts; [`Cli::into_config`] then checks the flags
//! together and resolves host names once.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use clap::Parser;
use reqwest::Url;

use crate::config::{
    range, Config, CountRange, DurationRange, DEFAULT_BODY_MEMORY_MIB, DEFAULT_MAX_FORWARDS,
    DEFAULT_MAX_REQUESTS_PER_ADDRESS,
};
use crate::error::Error;

/// Put HTTP downstream reports and Stratum on the same mining port.
///
/// JD-Clients that know only their pool (jd-gui, jdc-reporter without
/// --report-url) send their downstream reports to
/// http://{pool_address}:{pool_port}/api/downstream-report: the pool's
/// mining port. mining-gateway listens on that port, in front of the pool's
/// own listeners, and looks at the first bytes of each connection:
///
/// * an HTTP method and a space ("POST ", "GET "): served here, reports
///   forwarded to the Worker (--report-url);
///
/// * the start of a JSON-RPC object ({"id": ...): relayed to --sv1;
///
/// * anything else (Stratum V2's Noise handshake): relayed to --sv2.
///
/// Miners never notice it: relays are byte for byte, with TCP_NODELAY and
/// half-close carried through, and no idle timeout. Move the pool's SV2
/// (and SV1) listener to another port or to 127.0.0.1, and let the gateway
/// take the public one.
#[derive(Debug, Parser)]
#[command(name = "mining-gateway", version, after_long_help = AFTER_HELP)]
pub struct Cli {
    /// The public mining port, e.g. 0.0.0.0:3333 or [::]:3333.
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub listen: SocketAddr,

    /// The pool's Stratum V2 listener, e.g. 127.0.0.1:34254. Connections
    /// that are neither HTTP nor SV1 go here.
    #[arg(long, value_name = "HOST:PORT")]
    pub sv2: String,

    /// The pool's Stratum V1 listener, if it has one. Without it, SV1
    /// connections are closed (and logged).
    #[arg(long, value_name = "HOST:PORT")]
    pub sv1: Option<String>,

    /// Where reports go: the Worker's endpoint, e.g.
    /// https://reports.pool.example/api/downstream-report. GET and POST on
    /// /api/downstream-report are forwarded there; other paths get a 404
    /// from the gateway.
    #[arg(long, value_name = "URL", value_parser = parse_http_url)]
    pub report_url: Url,

    /// Sent to the Worker with every report (X-Gateway-Token). Set the same
    /// value as the Worker's GATEWAY_TOKEN secret, so it rate-limits and
    /// logs each JDC by its own address instead of the gateway's.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MINING_GATEWAY_TOKEN",
        hide_env_values = true
    )]
    pub gateway_token: Option<String>,

    /// Start every relayed connection with a PROXY protocol v2 header, so
    /// the pool's listeners see miners' addresses. Only if they expect it.
    #[arg(long)]
    pub proxy_protocol: bool,

    /// How long a new connection may take to show what it speaks. A client
    /// still undecided then goes to --sv2 with what it sent. From 100ms to
    /// 1m.
    #[arg(long, value_name = "DURATION", default_value = "3s",
          value_parser = |t: &str| duration(range::DETECT_TIMEOUT, t))]
    pub detect_timeout: Duration,

    /// Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9108.
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub metrics: Option<SocketAddr>,

    /// Open connections at most; at the limit new ones wait to be accepted.
    /// Default: what the open-file limit allows (two descriptors each). From
    /// 1 to 1000000.
    #[arg(long, value_name = "N", value_parser = |t: &str| count(range::MAX_CONNECTIONS, t))]
    pub max_connections: Option<u64>,

    /// Reports forwarded to the Worker at once. A report takes a place only
    /// once its body has arrived in full, and holds it until the Worker's
    /// answer; with every place taken, a JDC gets 503 with Retry-After: 5.
    /// From 1 to 10000.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_FORWARDS as u64,
          value_parser = |t: &str| count(range::MAX_FORWARDS, t))]
    pub max_forwards: u64,

    /// HTTP requests one address may have open at once, from the first
    /// byte of the request until its answer (each connection carries one
    /// request). More get 429 with Retry-After: 5 and are closed, so one
    /// address that sends heads or bodies slowly holds at most this many
    /// requests, never the other JDCs' places. An IPv6 address counts by
    /// its /64. From 1 to --max-forwards.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_REQUESTS_PER_ADDRESS as u64,
          value_parser = |t: &str| count(range::MAX_REQUESTS_PER_ADDRESS, t))]
    pub max_requests_per_address: u64,

    /// MiB of request bodies the gateway holds at once, being received or
    /// forwarded. A request whose body would go past it gets 503 with
    /// Retry-After: 5. One address holds at most --max-requests-per-address
    /// bodies of up to 4 MiB each; this bounds what many addresses hold
    /// together. From 8 to 65536.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_BODY_MEMORY_MIB as u64,
          value_parser = |t: &str| count(range::BODY_MEMORY_MIB, t))]
    pub body_memory: u64,

    /// How long the Worker may take to answer; then the JDC gets 504. From
    /// 100ms to 5m.
    #[arg(long, value_name = "DURATION", default_value = "8s",
          value_parser = |t: &str| duration(range::WORKER_TIMEOUT, t))]
    pub worker_timeout: Duration,

    /// How long a JDC may take to send a request's head (then the
    /// connection is closed), and then its body (408). From 100ms to 10m.
    #[arg(long, value_name = "DURATION", default_value = "20s",
          value_parser = |t: &str| duration(range::REQUEST_TIMEOUT, t))]
    pub request_timeout: Duration,

    /// After SIGTERM, how long open connections may go on before they are
    /// closed. From 100ms to 1h.
    #[arg(long, value_name = "DURATION", default_value = "30s",
          value_parser = |t: &str| duration(range::DRAIN_TIMEOUT, t))]
    pub drain_timeout: Duration,

    /// Threads serving connections (each with its own listener on the
    /// port). Default: one per CPU. From 1 to 1024.
    #[arg(long, value_name = "N", value_parser = |t: &str| count(range::THREADS, t))]
    pub threads: Option<u64>,

    /// Log every closed connection too, not only the decisions and reports.
    #[arg(short, long, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Log only warnings and errors.
    #[arg(short, long)]
    pub quiet: bool,
}

const AFTER_HELP: &str = "\
Example (the pool's SV2 listener moved to 127.0.0.1:34254):
  mining-gateway --listen 0.0.0.0:34255 --sv2 127.0.0.1:34254 \\
      --report-url https://reports.pool.example/api/downstream-report \\
      --metrics 127.0.0.1:9108

Each connection is logged once, when its class is decided, and each
forwarded report once, with the Worker's status.

HTTP connections carry one request each. What the gateway answers itself
(400, 404, 405, 408, 413, 429, 431, 502, 503, 504) is application/problem+json
with X-Content-Type-Options: nosniff and Cache-Control: no-store, and repeats
nothing of the request. Fair forwarding: a report takes a --max-forwards
place only once its body has arrived; one address has at most
--max-requests-per-address requests open (429 beyond); bodies hold at most
--body-memory MiB together (503 beyond). An address refused for its share is
counted in mining_gateway_share_refusals_total and logged, at most one line
every 10 s.

Exit status:
  0  stopped by SIGTERM or SIGINT
  1  could not run
  2  wrong command line
  3  a port cannot be listened on";

/// A duration within `range` (clap names the flag before the message).
fn duration(range: DurationRange, text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e}; write it like 3s, 500ms or 1m ({})", range.expected()))?;
    match range.refuse(d) {
        Some(why) => Err(why),
        None => Ok(d),
    }
}

/// A whole number within `range`.
fn count(range: CountRange, text: &str) -> Result<u64, String> {
    let n: u64 = text.trim().parse().map_err(|_| range.expected())?;
    match range.refuse(n) {
        Some(why) => Err(why),
        None => Ok(n),
    }
}

fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        "not an address and a port from 0 to 65535; write it like 0.0.0.0:3333 or [::]:3333".into()
    })
}

fn parse_http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| {
        format!("{e}; write it like https://reports.pool.example/api/downstream-report")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("not an http:// or https:// URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(url)
}

/// `HOST:PORT` of `flag`, resolved now.
fn resolve(flag: &str, text: &str) -> Result<SocketAddr, Error> {
    let hint = format!("write it like --{flag} 127.0.0.1:34254");
    if text.rsplit_once(':').is_some_and(|(_, port)| {
        port.trim()
            .parse::<u64>()
            .is_ok_and(|p| p == 0 || p > 65_535)
    }) {
        return Err(Error::usage(format!(
            "--{flag} {text:?} must name a port from 1 to 65535"
        ))
        .hint(hint));
    }
    let mut addrs = text.trim().to_socket_addrs().map_err(|e| {
        Error::usage(format!(
            "--{flag} {text:?} is not a reachable HOST:PORT ({e})"
        ))
        .hint(hint.clone())
    })?;
    addrs
        .next()
        .ok_or_else(|| Error::usage(format!("--{flag} {text:?} resolves to no address")).hint(hint))
}

impl Cli {
    /// The settings, with the flags checked together. `fd_limit` is the
    /// process's open-file limit, which bounds the default connection limit.
    pub fn into_config(self, fd_limit: u64) -> Result<Config, Error> {
        let sv2 = resolve("sv2", &self.sv2)?;
        let sv1 = self.sv1.as_deref().map(|t| resolve("sv1", t)).transpose()?;
        for (flag, addr) in [("sv2", Some(sv2)), ("sv1", sv1)] {
            if addr == Some(self.listen) && self.listen.port() != 0 {
                return Err(Error::usage(format!(
                    "--{flag} is the gateway's own --listen address {}",
                    self.listen
                ))
                .hint("move the pool's listener to another port (or to 127.0.0.1) and point --sv2/--sv1 there"));
            }
        }
        if let Some(metrics) = self.metrics {
            if metrics == self.listen && metrics.port() != 0 {
                return Err(Error::usage("--metrics and --listen are the same address")
                    .hint("serve metrics on a private address, e.g. 127.0.0.1:9108"));
            }
        }
        // Two descriptors per relayed connection, and a few for listeners,
        // the Worker and logs.
        let affordable = (fd_limit.saturating_sub(64) / 2).clamp(1, range::MAX_CONNECTIONS.max);
        let max_connections = match self.max_connections {
            Some(n) => {
                if n > affordable {
                    tracing::warn!(
                        max_connections = n, open_file_limit = fd_limit,
                        "the open-file limit allows about {affordable} connections; raise LimitNOFILE"
                    );
                }
                n as usize
            }
            None => affordable as usize,
        };
        let mut config = Config::new(self.listen, sv2, self.report_url);
        config.sv1 = sv1;
        config.gateway_token = self.gateway_token.filter(|t| !t.trim().is_empty());
        config.proxy_protocol = self.proxy_protocol;
        config.detect_timeout = self.detect_timeout;
        config.metrics = self.metrics;
        config.max_connections = max_connections;
        config.max_forwards = self.max_forwards as usize;
        config.max_requests_per_address = self.max_requests_per_address as usize;
        config.body_memory_mib = self.body_memory as usize;
        config.worker_timeout = self.worker_timeout;
        config.request_timeout = self.request_timeout;
        config.drain_timeout = self.drain_timeout;
        if let Some(threads) = self.threads {
            config.threads = threads as usize;
        }
        config.check()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let base = [
            "mining-gateway",
            "--listen",
            "127.0.0.1:3333",
            "--sv2",
            "127.0.0.1:34254",
            "--report-url",
            "http://127.0.0.1:8787/api/downstream-report",
        ];
        Cli::try_parse_from(base.iter().chain(args))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = parse(&[]).unwrap().into_config(20_000).unwrap();
        assert_eq!(config.detect_timeout, DEFAULT_DETECT_TIMEOUT);
        assert_eq!(config.worker_timeout, DEFAULT_WORKER_TIMEOUT);
        assert_eq!(config.request_timeout, DEFAULT_REQUEST_TIMEOUT);
        assert_eq!(config.drain_timeout, DEFAULT_DRAIN_TIMEOUT);
        assert_eq!(config.max_forwards, DEFAULT_MAX_FORWARDS);
        assert_eq!(config.max_connections, (20_000 - 64) / 2);
        assert_eq!(config.sv1, None);
        assert!(!config.proxy_protocol);
    }

    #[test]
    fn bad_values_name_the_flag_and_how_to_write_it() {
        for (args, needle) in [
            (&["--detect-timeout", "soon"][..], "write it like 3s"),
            (&["--detect-timeout", "0s"][..], "must be from 100ms to 1m"),
            (
                &["--metrics", "localhost"][..],
                "write it like 0.0.0.0:3333",
            ),
            (&["--max-forwards", "0"][..], "--max-forwards"),
        ] {
            let e = parse(args).unwrap_err().to_string();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
        let e = Cli::try_parse_from([
            "mining-gateway",
            "--listen",
            "127.0.0.1:3333",
            "--sv2",
            "127.0.0.1:1",
            "--report-url",
            "ftp://x/",
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("not an http:// or https:// URL"), "{e}");
    }

    #[test]
    fn flags_are_checked_together() {
        let cli = Cli::try_parse_from([
            "mining-gateway",
            "--listen",
            "127.0.0.1:3333",
            "--sv2",
            "127.0.0.1:3333",
            "--report-url",
            "http://127.0.0.1:8787/api/downstream-report",
        ])
        .unwrap();
        let e = cli.into_config(1024).unwrap_err();
        assert!(
            e.message.contains("--sv2 is the gateway's own --listen"),
            "{e}"
        );
        assert_eq!(e.code, crate::error::exit::USAGE);

        let e = parse(&["--sv1", "no-such-host.invalid:1"])
            .unwrap()
            .into_config(1024)
            .unwrap_err();
        assert!(
            e.message.starts_with("--sv1 \"no-such-host.invalid:1\""),
            "{e}"
        );
    }
}
