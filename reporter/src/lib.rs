//! JDC side of Downstream Miner Reporting: follow what a Stratum V2
//! JD-Client (SRI `jd_client_sv2`) logs, keep the table of its connected
//! miners, and POST it to the pool every 60 s as a schema v1 report.
//!
//! The pieces, in the order a line travels:
//!
//! - [`input`]: where lines come from (a log file followed like `tail -F`,
//!   standard input, or the JDC run as a child) and the splitting into whole
//!   lines.
//! - [`parse`]: the JDC's own lines to [`parse::Event`]s, reading a message
//!   that carries miners' strings whole so they cannot forge lines; pure. Its
//!   parts: the line's header and colour codes, where a held message ends,
//!   a message to its event, and the parser that holds and decides.
//! - [`tracker`]: events to the miner table, pairing each `SetupConnection`
//!   with its downstream and expiring orphans; pure.
//! - [`translator`]: the SV1 devices behind an SRI translator, from its log
//!   and its monitoring API, reported by their own make in place of the
//!   translator's bare channels.
//! - [`feed`]: parser and tracker behind the lock the input and the sender
//!   share.
//! - [`monitor`]: the JDC's monitoring API, which can tell that a miner left.
//! - [`send`]: the report, its validation, the POST and the every-interval
//!   loop with its retry and empty-report rules.
//! - [`http`]: the one HTTP client, and answers read up to a cap.
//! - [`jdc_config`]: the jd-client's TOML config, read for the identity and
//!   the pool's URL.
//! - [`cli`] and [`settings`]: the command line, and the one immutable
//!   [`settings::Settings`] made of it and the jd-client's config.
//! - [`app`]: one run, wiring the above together.
//! - [`error`] and [`log`]: errors as sentences with exit codes; the
//!   reporter's own log lines.

pub mod app;
pub mod cli;
pub mod error;
pub mod feed;
pub mod http;
pub mod input;
pub mod jdc_config;
pub mod log;
pub mod monitor;
pub mod parse;
pub mod send;
pub mod settings;
pub mod tracker;
pub mod translator;
