//! `mining-gateway`: a pool's public mining port that speaks Stratum V2,
//! Stratum V1 and HTTP at once, so JD-Clients can send their downstream
//! reports to `http://{pool_address}:{pool_port}/api/downstream-report`
//! while miners connect to the same port as before.
//!
//! A connection's life: the listener accepts it within the connection
//! limit ([`server`]); its first bytes are read, with a deadline, until
//! they say HTTP, SV1 or SV2 ([`detect`], by the rules in [`classify`]);
//! SV2 and SV1 are relayed to the pool's listeners byte for byte, those
//! bytes first ([`relay`]); HTTP is served by hyper on the same connection,
//! one request within its address's share ([`share`]), and reports are
//! forwarded to the Worker ([`http`], [`forward`]).
//!
//! - [`classify`]: which protocol, from a bounded prefix (pure).
//! - [`detect`]: reads that prefix from a new connection.
//! - [`relay`]: the byte relay (TCP_NODELAY, half-close, PROXY v2 header).
//! - [`http`]: the HTTP routes, one request per connection.
//! - [`answer`]: the answers the gateway writes itself, built in one place.
//! - [`share`]: each client address's share of open HTTP requests.
//! - [`forward`]: the client that takes reports to the Worker.
//! - [`rewind`]: puts the prefix back in front of the HTTP connection.
//! - [`server`]: listener loop, connection limit, each connection's task,
//!   and the drain.
//! - [`shutdown`]: the signal that tells every task shutdown has begun.
//! - [`fd_limit`]: the open-file limit, raised at start.
//! - [`metrics`]: Prometheus counters, and the endpoint that serves them
//!   ([`metrics::endpoint`]).
//! - [`config`], [`cli`]: the settings and the command line.
//! - [`error`]: the one error type, for what stops the gateway starting.

pub mod answer;
pub mod classify;
pub mod cli;
pub mod config;
pub mod detect;
pub mod error;
pub mod fd_limit;
pub mod forward;
pub mod http;
pub mod metrics;
pub mod relay;
pub mod rewind;
pub mod server;
pub mod share;
pub mod shutdown;

pub use config::Config;
pub use server::Gateway;
