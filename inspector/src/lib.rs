//! The inspector page: every JDC that reported in the last five minutes, its
//! miners, and what they add up to. A Leptos client-side app; the Worker
//! serves it as static assets next to the API it reads.
//!
//! Pure logic, compiled and tested natively (the view only renders it):
//! - [`format`]: hash rates, durations and times as people read them.
//! - [`timing`]: a JDC's age, countdown and health against the browser
//!   clock, and the lines that say them.
//! - [`roster`]: the JDCs seen across refreshes, including gone ones.
//! - [`totals`]: JDCs, miners and hash rate, stale and gone counts.
//! - [`breakdown`]: miners and hash rate by vendor, top vendors and "other".
//! - [`filter`]: which JDCs and miners the filter box lets through.
//! - [`detail`]: an open card's full report: which version it reads, which
//!   answer it may show, its note and its row keys.
//! - [`agents`]: the pool's live client rows by `userAgent` (`/api/agents`)
//!   and the JDC addresses among them that do not report, as the "Agents"
//!   panel shows them.
//! - [`api`]: the requests (JDC summaries, one JDC's report) and how their
//!   answers or errors are read.
//! - [`decode`]: the API's JSON into the shared types, without serde (the
//!   reports' answers in `decode/mod.rs`, `/api/agents` in `decode/agents.rs`).
//! - [`token`]: the read token, when the pool requires one.
//!
//! The page, built only for `wasm32`:
//! - `view`: the Leptos components (one file per panel) and `view::mount`,
//!   which `main` calls.

// clippy.toml's disallowed methods and types keep size out of the page's
// wasm; the native tests may use them (they check `decode` against what
// serde_json writes).
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::disallowed_types))]

pub mod agents;
pub mod api;
pub mod breakdown;
pub mod decode;
pub mod detail;
pub mod filter;
pub mod format;
pub mod roster;
pub mod timing;
pub mod token;
pub mod totals;

#[cfg(test)]
mod test_support;

#[cfg(target_arch = "wasm32")]
pub mod view;
