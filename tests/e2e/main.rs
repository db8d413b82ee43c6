//! The end-to-end suite: the built Worker in its real runtime (workerd,
//! through `wrangler dev`, with local KV and D1), the inspector in a headless
//! Chromium, and the reporter and gateway binaries, driven as their users
//! drive them. One test binary: one link, and its tests share one pool of
//! threads. The harness (starting servers, the browser's page objects) is
//! the `dmr_tests` library in `tests/src/`.
//!
//! Run one behaviour: `cargo test -p dmr-tests --test e2e -- rename::`.

/// `GET /api/agents`: the pool's live client rows by `userAgent`, and the inspector's Agents panel.
mod agents;
/// Optional bearer tokens for reads and reports.
mod auth;
/// Bodies of every size and encoding, read as a stream and refused past the limit.
mod bodies;
/// The build's wasm size check fails a build over its budget.
mod budgets;
/// `worker/openapi.json` matches the shared wire types field by field.
mod contract;
/// Bad requests get a documented 4xx problem+json naming the field, and change nothing.
mod errors;
/// Storage faults answer 503 with nothing half-applied.
mod faults;
/// The mining-port gateway in front of the real Worker.
mod gateway;
/// `HEAD` on every GET route answers as `GET` would.
mod head;
/// Identities that cannot be told apart, or have no address, are refused.
mod identities;
/// No crate's source files import each other in a loop.
mod imports;
/// The inspector page in a real headless Chromium.
mod inspector;
/// Many concurrent reporters: no 5xx, no lost report (short version of `npm run load`).
mod load;
/// The Worker's wasm memory after the worst accepted reports.
mod memory;
/// The served OpenAPI document describes what the Worker answers.
mod openapi;
/// Reads never fail because of size: a store of maximum-size reports reads in pages.
mod paging;
/// Bursts are refused with 429 and Retry-After.
mod rate_limit;
/// A report no configured token could accept is refused before its body is read.
mod refuse_early;
/// A report renames exactly its JDC's live `jd-client/sv2` rows.
mod rename;
/// The JDC side end to end: `jdc-reporter` replaying real JD-Client sessions.
mod reporter;
/// schemathesis's generated requests against the served OpenAPI document.
mod schemathesis;
/// A setting out of its range is a named error, not a guess.
mod settings;
/// The latest report per JDC, kept in KV with a TTL and served by GET.
mod store;
/// After a wasm trap mid-report, the next request is served by a fresh instance.
mod trap;
/// D1's triggers name a JDC's rows as the pool writes them.
mod triggers;
