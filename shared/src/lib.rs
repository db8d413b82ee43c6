//! The report schema and the rules that the pool (`worker`), the JDC side
//! (`reporter`) and the `inspector` share. Plain Rust: no `worker` or browser
//! types, so every rule is unit-tested natively, once.
//!
//! - [`api`]: the HTTP contract: paths, the KV key layout, the acceptance
//!   and the RFC 9457 problem body.
//! - [`agents`]: the pool's client rows by `userAgent` and its anonymous
//!   JDCs (`GET /api/agents`): the answer, its two D1 statements, the join
//!   with the live reports.
//! - [`report`]: the schema v1 types, exactly as they travel as JSON.
//! - [`validate`]: turns untrusted JSON into a [`Report`], naming the field
//!   and the problem when it cannot.
//! - [`json`]: strict JSON reading (no repeated keys, bounded nesting).
//! - [`vendor`]: which `userAgent` a report renames `jd-client/sv2` rows to.
//! - [`identity`]: how a `jdcUserIdentity` maps to the pool's `address`.
//! - [`summary`]: one JDC at a glance, small enough for KV metadata.
//! - [`limits`]: the protocol's timings and the size limits, defined once.
//! - [`percent`]: percent-encoding and query strings.
//! - `testing` (tests, or the `testing` feature): valid miners and reports
//!   to build test cases from.

pub mod agents;
pub mod api;
pub mod identity;
pub mod json;
pub mod limits;
pub mod percent;
pub mod report;
pub mod summary;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod validate;
pub mod vendor;

pub use api::{Accepted, Problem};
pub use identity::address_of;
pub use report::{rfc3339, Miner, Report, StoredReport, SCHEMA_VERSION};
pub use summary::{JdcSummary, VendorShare};
pub use validate::{parse_report, validate_identity, validate_report, ReportError};
pub use vendor::{majority_vendor, sanitize_vendor, user_agent_for, JDC_USER_AGENT};
