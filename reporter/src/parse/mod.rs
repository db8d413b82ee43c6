//! The JDC's output in, [`Event`]s out, in order.
//!
//! Pure: no IO and no clock, so the tracker and the tests can replay any log.
//! Every pattern here is one SRI actually prints (the fixture log, the
//! `sv2-apps` and older `stratum` sources), not a guess:
//!
//! - a line is tracing-subscriber's default format,
//!   `<RFC 3339> <LEVEL> <target>: <message> <key=value ...>`, with ANSI
//!   colour when the JDC's stdout was a terminal (stripped first);
//! - message structs are printed raw: an empty vendor prints as nothing and a
//!   comma or parenthesis inside a string is not escaped, so values are cut at
//!   the *next field name* (the field order is fixed), never at `,` or `)`;
//! - `downstream_id` is a tracing field after the message, not part of it.
//!
//! # Which lines are trusted
//!
//! Only lines that start with the JDC's own header: its timestamp, a level,
//! and a target in the JDC's crate (`jd_client_sv2`, formerly `jd_client`).
//! Lines of other roles, of this reporter, or without a header say nothing.
//!
//! That alone is not enough, because miners choose some of the strings the
//! JDC logs, and a line break in one of them can make what follows look like
//! a line of the JDC's. So a message that carries such strings is read as one
//! unit with the lines that follow it, and ends where its fixed text ends;
//! no line that may be inside a miner's string is ever read on its own.
//!
//! Most lines are noise (templates, shares, vardiff); they are rejected after
//! a few byte comparisons and without allocating.
//!
//! # The parts, in the order a line goes through them
//!
//! - `header`: colour codes stripped, then the header split off: what a log
//!   collector put in front, the timestamp, the level, and the target that
//!   says whose line it is.
//! - `parser`: the [`Parser`], which classifies each message, or holds one
//!   that carries miners' strings with the lines after it until its end is
//!   decided; [`parse_line`] and [`parse_text`] for one line or a whole text.
//! - `framing`: the grammar of those held messages' ends, and how far past
//!   their first line they can reach.
//! - `classify`: one whole message to the event it says, in every wording
//!   SRI has used.
//! - `events`: what comes out, the [`Event`]s with their [`Stamp`]s.

mod classify;
mod events;
mod framing;
mod header;
mod parser;
#[cfg(test)]
mod samples;

pub use events::{ChannelKind, Device, Event, Parsed, Reset, Stamp};
pub use header::strip_ansi;
pub(crate) use header::Header;
pub use parser::{parse_line, parse_text, Parser};
