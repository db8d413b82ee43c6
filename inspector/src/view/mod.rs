//! The page itself, built only for `wasm32`: Leptos components that render
//! the pure logic of the crate's other modules, one file per panel.
//!
//! - `app`: owns the state (clock, roster), the polling loop and the layout.
//! - `status`: loading, "updated N s ago", API error with retry (and the
//!   token form on a 401), empty hint.
//! - `totals_panel`, `vendor_chart` (inline SVG), `jdc_list` (filter box and
//!   cards), `jdc_card` (one JDC, reading its full report when opened),
//!   `miners_table`.
//! - `agents`: the pool's live client rows by `userAgent`, and the JDC
//!   addresses among them that do not report.

mod agents;
mod app;
mod jdc_card;
mod jdc_list;
mod miners_table;
mod status;
mod totals_panel;
mod vendor_chart;

pub use app::App;

/// Starts the page: panics go to the browser console, and [`App`] is
/// mounted on `<body>`.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
