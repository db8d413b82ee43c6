//! Names shared with `wrangler.toml` and the settings read from its `[vars]`,
//! each defined once.

use dmr_shared::limits::REPORT_TTL_SECS;
use worker::Env;

/// KV namespace binding holding the latest report per JDC identity.
pub const REPORTS_KV: &str = "REPORTS";

/// D1 database binding holding the pool's `clients` table.
pub const CLIENTS_DB: &str = "DB";

/// `[vars]` entry overriding how long a report is kept, in seconds.
pub const REPORT_TTL_VAR: &str = "REPORT_TTL_SECONDS";

/// Workers KV refuses expirations shorter than this.
pub const KV_MIN_TTL_SECS: u64 = 60;

/// Largest request body accepted, in bytes. A report of the most miners
/// allowed, every string at its longest, stays under it.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Settings for one request.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Seconds a report stays visible after it was received.
    pub report_ttl_secs: u64,
}

impl Config {
    /// Reads the settings, falling back to the protocol's defaults. A TTL
    /// below KV's minimum is raised to it rather than failing every write.
    pub fn from_env(env: &Env) -> Self {
        let report_ttl_secs = env
            .var(REPORT_TTL_VAR)
            .ok()
            .and_then(|v| v.to_string().trim().parse::<u64>().ok())
            .unwrap_or(REPORT_TTL_SECS)
            .max(KV_MIN_TTL_SECS);
        Config { report_ttl_secs }
    }
}
