//! The pool side of Downstream Miner Reporting, as a Cloudflare Worker.
//!
//! JDCs `POST /api/downstream-report` every 60 s; the Worker validates the
//! report with the rules in `dmr-shared`, renames the JDC's live
//! `jd-client/sv2` client rows in D1 to `<most common vendor>/sv2` (and
//! leaves D1 the name, so its triggers name the JDC's new rows), and keeps
//! the latest report per identity in KV for five minutes, which
//! `GET /api/downstream-report` serves. Everything else (the inspector page)
//! is static assets that never reach this code.
//!
//! - [`routes`]: path and method dispatch (404, 405), common headers.
//! - [`incoming`]: the request, read only as far as a handler asks.
//! - [`post_report`], [`get_reports`], [`agents`], [`openapi`]: one module
//!   per endpoint.
//! - [`paging`]: the read endpoints' query strings and cursors.
//! - [`auth`]: optional bearer tokens for reads and reports.
//! - [`rate_limit`]: per-IP and per-identity limits (Rate Limiting bindings).
//! - [`client`]: which address a request comes from (the gateway's
//!   forwarded one, when it carries the gateway token).
//! - [`store`]: [`store::ReportStore`], the latest reports in Workers KV.
//! - [`clients`]: [`clients::Clients`], the pool's client table in D1.
//! - [`names`]: when a report writes its JDC's name to D1 (whose triggers
//!   name the JDC's new rows), and when it need not.
//! - [`config`]: binding names, settings and secrets.
//! - [`error`]: the one error type and how it maps to HTTP.
//! - [`report_log`]: the log line of a report, and the reports that get
//!   none.
//! - [`memory`]: the Worker's wasm memory, for the logs.
//! - [`microtasks`]: how the Worker's futures are woken.
//! - `trap` (feature `trap`, test builds only): a report that traps on
//!   request, to test the recovery in `worker/entry.mjs`.

pub mod agents;
pub mod auth;
pub mod client;
pub mod clients;
pub mod config;
pub mod error;
pub mod get_reports;
pub mod incoming;
pub mod memory;
pub mod microtasks;
pub mod names;
pub mod openapi;
pub mod paging;
pub mod post_report;
pub mod rate_limit;
pub mod report_log;
pub mod routes;
pub mod store;
#[cfg(feature = "trap")]
pub mod trap;

use worker::{event, web_sys, Context, Env, Response, Result};

#[event(start)]
fn start() {
    microtasks::wake_futures_with_promises();
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<Response> {
    routes::handle(incoming::Incoming::new(req), &env).await
}
