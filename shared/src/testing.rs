//! Builders for tests, in this crate and in every crate that depends on it
//! (as a dev-dependency with the `testing` feature), so a valid miner or
//! report is written once. Adjust one with struct update syntax:
//! `Miner { firmware: "x".repeat(255), ..miner("bitaxe", 1e12, "w") }`.

use crate::report::{Miner, Report, SCHEMA_VERSION};

/// A valid miner of `vendor` claiming `nominal_hash_rate` H/s, working as
/// `user_identity`, connected at a fixed time.
pub fn miner(vendor: &str, nominal_hash_rate: f64, user_identity: &str) -> Miner {
    Miner {
        vendor: vendor.into(),
        hardware_version: "BM1370".into(),
        firmware: "v2.4.1".into(),
        device_id: String::new(),
        nominal_hash_rate,
        user_identity: user_identity.into(),
        connected_at: "2026-02-15T11:30:00Z".into(),
        via: None,
    }
}

/// A valid report from `identity` listing `miners`, at a fixed time.
pub fn report(identity: &str, miners: Vec<Miner>) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        jdc_user_identity: identity.into(),
        timestamp: "2026-02-15T12:00:00Z".into(),
        miners,
    }
}
