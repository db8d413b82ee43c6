//! The gateway's settings, one immutable value built from the command line
//! (or directly, by tests and embedders) before anything starts.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::Url;

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
/// once a minute, so this serves thousands of JDCs.
pub const DEFAULT_MAX_FORWARDS: usize = 64;

/// How long the pool's listener may take to accept a relayed connection.
pub const BACKEND_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One serving thread per CPU this process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
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
            worker_timeout: DEFAULT_WORKER_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            threads: default_threads(),
        }
    }
}
