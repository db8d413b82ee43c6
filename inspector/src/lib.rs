//! The inspector page: every JDC that reported in the last five minutes, its
//! miners, and what they add up to. A Leptos client-side app; the Worker
//! serves it as static assets next to the API it reads.
//!
//! Pure logic, compiled and tested natively:
//! - [`format`]: hash rates, durations and times as people read them.
//! - [`summary`]: timing and health against the browser clock, totals, the
//!   vendor breakdown, the filter.
//! - [`roster`]: the JDCs seen across refreshes, including gone ones.
//! - [`api`]: the requests (JDC summaries, one JDC's report) and how their
//!   answers or errors are read.
//! - [`json`]: the API's JSON into the shared types, without serde.
//! - [`token`]: the read token, when the pool requires one.
//!
//! The page, built only for `wasm32` (one file per panel):
//! - `app`: owns the state (clock, roster) and the polling loop.
//! - `status`: loading, "updated N s ago", API error with retry (and the
//!   token form on a 401), empty hint.
//! - `totals`, `breakdown` (inline SVG chart), `jdc_list` (filter, cards,
//!   each card reading its full report when opened), `miners_table`.

pub mod api;
pub mod format;
pub mod json;
pub mod pool;
pub mod roster;
pub mod summary;
pub mod token;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod breakdown;
#[cfg(target_arch = "wasm32")]
mod jdc_list;
#[cfg(target_arch = "wasm32")]
mod miners_table;
#[cfg(target_arch = "wasm32")]
mod status;
#[cfg(target_arch = "wasm32")]
mod totals;

#[cfg(target_arch = "wasm32")]
pub use app::App;
