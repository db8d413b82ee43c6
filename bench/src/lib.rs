//! What the built Worker costs, measured under `wrangler dev` (workerd, local
//! KV and D1) through the end-to-end harness (`dmr_tests`). Every benchmark
//! prints figures and asserts nothing about time; the figures and when they
//! were measured are in `docs/performance.md`.
//!
//! - [`side_by_side`]: CPU per report of the Rust Worker next to a plain
//!   JavaScript Worker doing the protocol's reference flow (`npm run bench`).
//! - [`pool_writes`]: D1 rows a pool's session write costs with the naming
//!   triggers and without.
//! - [`agents`]: `GET /api/agents` on the benchmark's table, cold and cached.
//!
//! The binaries: `dmr-bench` (`src/main.rs`, all of the above and the
//! capacity, cadence and read rounds), `dmr-load` (`npm run load`: many
//! concurrent reporters, 5xx and lost reports) and `report_size` (what a
//! large report costs).

pub mod agents;
pub mod pool_writes;
pub mod side_by_side;
