//! The gateway's settings, one immutable value built from the command line
//! (or directly, by tests and embedders) before anything starts.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::Url;

use crate::error::Error;

/// How long a new connection may take to show what it speaks.
pub const DEFAULT_DETECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long the Worker may take to answer a forwarded report. Shorter than
/// `jdc-reporter`'s own 10 s, so a slow Worker reaches the JDC as a 504
/// rather than as a timeout of its own.
pub const DEFAULT_WORKER_TIMEOUT: Duration = Duration::from_secs(8);

/// How long a JDC may take to send a request's header, and then its body;
/// also how long an idle keep-alive connection stays open.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// How long relays and requests may go on after SIGTERM.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Reports forwarded to the Worker at once; more get a 503. A JDC reports
/// once a minute, so this serves thousands of JDCs. A report takes a place
/// only once its body has arrived in full, so clients that are slow to send
/// cannot hold places.
pub const DEFAULT_MAX_FORWARDS: usize = 64;

/// HTTP requests one address may have open at once (one per connection);
/// more get a 429. A JDC sends one report a minute and waits for its
/// answer, so even a farm of JDCs behind one address rarely has two open;
/// eight addresses at their share still leave most of `--max-forwards`.
pub const DEFAULT_MAX_REQUESTS_PER_ADDRESS: usize = 8;

/// MiB of request bodies held at once, being received or forwarded; a
/// request whose body would go past it gets a 503. Bodies arrive before
/// they take a forwarding place, so the places do not bound them: one
/// address holds at most 8 bodies (32 MiB), and this bounds what many
/// addresses hold together: it takes 16 of them sending 32 MiB each.
pub const DEFAULT_BODY_MEMORY_MIB: usize = 512;

/// How long the pool's listener may take to accept a relayed connection.
pub const BACKEND_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Pause after a failed `accept` (out of file descriptors, mostly), so a
/// full table is not retried in a busy loop.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The values a duration setting may take, and the flag that sets it.
#[derive(Debug, Clone, Copy)]
pub struct DurationRange {
    pub flag: &'static str,
    pub min: Duration,
    pub max: Duration,
}

/// The values a count setting may take, and the flag that sets it.
#[derive(Debug, Clone, Copy)]
pub struct CountRange {
    pub flag: &'static str,
    pub min: u64,
    pub max: u64,
}

/// Every setting's range, defined once: the command line parses with them
/// and [`Config::check`] checks a config built in code. Outside them a
/// value is a mistake (a minute-long detection, a zero limit), or would
/// overflow the clock's arithmetic.
pub mod range {
    use super::{CountRange, DurationRange};
    use std::time::Duration;

    const fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    pub const DETECT_TIMEOUT: DurationRange = DurationRange {
        flag: "--detect-timeout",
        min: ms(100),
        max: ms(60_000),
    };
    pub const WORKER_TIMEOUT: DurationRange = DurationRange {
        flag: "--worker-timeout",
        min: ms(100),
        max: ms(300_000),
    };
    pub const REQUEST_TIMEOUT: DurationRange = DurationRange {
        flag: "--request-timeout",
        min: ms(100),
        max: ms(600_000),
    };
    pub const DRAIN_TIMEOUT: DurationRange = DurationRange {
        flag: "--drain-timeout",
        min: ms(100),
        max: ms(3_600_000),
    };
    pub const MAX_CONNECTIONS: CountRange = CountRange {
        flag: "--max-connections",
        min: 1,
        max: 1_000_000,
    };
    pub const MAX_FORWARDS: CountRange = CountRange {
        flag: "--max-forwards",
        min: 1,
        max: 10_000,
    };
    /// Its maximum is also at most `--max-forwards` ([`super::Config::check`]).
    pub const MAX_REQUESTS_PER_ADDRESS: CountRange = CountRange {
        flag: "--max-requests-per-address",
        min: 1,
        max: 10_000,
    };
    pub const BODY_MEMORY_MIB: CountRange = CountRange {
        flag: "--body-memory",
        min: 8,
        max: 65_536,
    };
    pub const THREADS: CountRange = CountRange {
        flag: "--threads",
        min: 1,
        max: 1024,
    };
}

impl DurationRange {
    /// Why `value` is out of range, as the end of a sentence naming the flag.
    pub fn refuse(&self, value: Duration) -> Option<String> {
        (value < self.min || value > self.max).then(|| self.expected())
    }

    /// `must be from 100ms to 1m`.
    pub fn expected(&self) -> String {
        format!(
            "must be from {} to {}",
            humantime::format_duration(self.min),
            humantime::format_duration(self.max)
        )
    }
}

impl CountRange {
    /// Why `value` is out of range, as the end of a sentence naming the flag.
    pub fn refuse(&self, value: u64) -> Option<String> {
        (value < self.min || value > self.max).then(|| self.expected())
    }

    /// `must be a whole number from 1 to 10000`.
    pub fn expected(&self) -> String {
        format!("must be a whole number from {} to {}", self.min, self.max)
    }
}

/// One serving thread per CPU this process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(range::THREADS.max as usize)
}

/// Everything the gateway needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The public mining port.
    pub listen: SocketAddr,
    /// The pool's Stratum V2 listener.
    pub sv2: SocketAddr,
    /// The pool's Stratum V1 listener, if it has one.
    pub sv1: Option<SocketAddr>,
    /// The Worker's `/api/downstream-report` URL.
    pub report_url: Url,
    /// Sent as `X-Gateway-Token` with every forwarded request.
    pub gateway_token: Option<String>,
    /// Whether relayed connections start with a PROXY protocol v2 header.
    pub proxy_protocol: bool,
    /// See [`DEFAULT_DETECT_TIMEOUT`].
    pub detect_timeout: Duration,
    /// Where Prometheus metrics are served, if anywhere.
    pub metrics: Option<SocketAddr>,
    /// Open connections at most; accepting pauses at the limit.
    pub max_connections: usize,
    /// See [`DEFAULT_MAX_FORWARDS`].
    pub max_forwards: usize,
    /// See [`DEFAULT_MAX_REQUESTS_PER_ADDRESS`].
    pub max_requests_per_address: usize,
    /// See [`DEFAULT_BODY_MEMORY_MIB`].
    pub body_memory_mib: usize,
    /// See [`DEFAULT_WORKER_TIMEOUT`].
    pub worker_timeout: Duration,
    /// See [`DEFAULT_REQUEST_TIMEOUT`].
    pub request_timeout: Duration,
    /// See [`DEFAULT_DRAIN_TIMEOUT`].
    pub drain_timeout: Duration,
    /// Threads serving connections, each with its own listener.
    pub threads: usize,
}

impl Config {
    /// A gateway on `listen` in front of `sv2`, forwarding reports to
    /// `report_url`, with every other setting at its default.
    pub fn new(listen: SocketAddr, sv2: SocketAddr, report_url: Url) -> Config {
        Config {
            listen,
            sv2,
            sv1: None,
            report_url,
            gateway_token: None,
            proxy_protocol: false,
            detect_timeout: DEFAULT_DETECT_TIMEOUT,
            metrics: None,
            max_connections: 10_000,
            max_forwards: DEFAULT_MAX_FORWARDS,
            max_requests_per_address: DEFAULT_MAX_REQUESTS_PER_ADDRESS,
            body_memory_mib: DEFAULT_BODY_MEMORY_MIB,
            worker_timeout: DEFAULT_WORKER_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            threads: default_threads(),
        }
    }

    /// Every setting within its range (see [`range`]); the error names the
    /// flag. The command line has checked each already; this also covers a
    /// config built in code.
    pub fn check(&self) -> Result<(), Error> {
        let durations = [
            (range::DETECT_TIMEOUT, self.detect_timeout),
            (range::WORKER_TIMEOUT, self.worker_timeout),
            (range::REQUEST_TIMEOUT, self.request_timeout),
            (range::DRAIN_TIMEOUT, self.drain_timeout),
        ];
        for (range, value) in durations {
            if let Some(why) = range.refuse(value) {
                return Err(Error::usage(format!(
                    "{} {why}, not {}",
                    range.flag,
                    humantime::format_duration(value)
                )));
            }
        }
        let counts = [
            (range::MAX_CONNECTIONS, self.max_connections),
            (range::MAX_FORWARDS, self.max_forwards),
            (
                range::MAX_REQUESTS_PER_ADDRESS,
                self.max_requests_per_address,
            ),
            (range::THREADS, self.threads),
        ];
        for (range, value) in counts {
            if let Some(why) = range.refuse(value as u64) {
                return Err(Error::usage(format!("{} {why}, not {value}", range.flag)));
            }
        }
        if self.max_requests_per_address > self.max_forwards {
            return Err(Error::usage(format!(
                "--max-requests-per-address must be at most --max-forwards ({}), not {}",
                self.max_forwards, self.max_requests_per_address
            ))
            .hint("one address may hold at most a share of the forwarding places"));
        }
        for (flag, addr) in [("--sv2", Some(self.sv2)), ("--sv1", self.sv1)] {
            if addr.is_some_and(|a| a.port() == 0) {
                return Err(Error::usage(format!(
                    "{flag} must name a port from 1 to 65535, not 0"
                )));
            }
        }
        Ok(())
    }
}
