//! Names shared with `wrangler.toml` and the settings read from its `[vars]`
//! and secrets, each defined once.

use std::collections::HashMap;

use dmr_shared::limits::REPORT_TTL_SECS;
use worker::Env;

/// KV namespace binding holding the latest report per JDC identity.
pub const REPORTS_KV: &str = "REPORTS";

/// D1 database binding holding the pool's `clients` table.
pub const CLIENTS_DB: &str = "DB";

/// Rate Limiting binding keyed by the client's IP (`CF-Connecting-IP`, or
/// the gateway's forwarded address: see `client`).
pub const IP_LIMITER: &str = "IP_RATE_LIMITER";

/// Rate Limiting binding keyed by the report's `jdcUserIdentity`.
pub const IDENTITY_LIMITER: &str = "IDENTITY_RATE_LIMITER";

/// `[vars]` entry overriding how long a report is kept, in seconds.
pub const REPORT_TTL_VAR: &str = "REPORT_TTL_SECONDS";

/// Secret: when set, reads need `Authorization: Bearer <it>`.
pub const INSPECTOR_TOKEN: &str = "INSPECTOR_TOKEN";

/// Secret: when set, reports need `Authorization: Bearer <it>`.
pub const REPORT_TOKEN: &str = "REPORT_TOKEN";

/// Secret: a JSON object `{"<identity or address>": "<token>"}`; a report
/// from a listed identity, or else of a listed address, needs that token
/// (and no other).
pub const REPORT_TOKENS: &str = "REPORT_TOKENS";

/// Secret shared with the pool's mining-port gateway: a request carrying it
/// (in `X-Gateway-Token`) is rate-limited and logged by the address the
/// gateway forwards, not by the gateway's own.
pub const GATEWAY_TOKEN: &str = "GATEWAY_TOKEN";

/// Workers KV refuses expirations shorter than this.
pub const KV_MIN_TTL_SECS: u64 = 60;

/// Settings for one request.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Seconds a report stays visible after it was received.
    pub report_ttl_secs: u64,
    /// Bearer token for reads, if reads are protected.
    pub inspector_token: Option<String>,
    /// Bearer token for reports, if reports are protected.
    pub report_token: Option<String>,
    /// Per-address report tokens.
    pub report_tokens: HashMap<String, String>,
    /// The mining-port gateway's token, if a gateway forwards reports.
    pub gateway_token: Option<String>,
}

impl Config {
    /// Reads the settings, falling back to the protocol's defaults. A TTL
    /// below KV's minimum is raised to it rather than failing every write.
    /// Returns an error naming the setting when `REPORT_TOKENS` is not a JSON
    /// object of strings: a half-read token list must not open the door.
    pub fn from_env(env: &Env) -> Result<Self, String> {
        let report_ttl_secs = text(env, REPORT_TTL_VAR)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(REPORT_TTL_SECS)
            .max(KV_MIN_TTL_SECS);
        let report_tokens = match text(env, REPORT_TOKENS) {
            None => HashMap::new(),
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                format!("{REPORT_TOKENS} must be a JSON object of address to token: {e}")
            })?,
        };
        Ok(Config {
            report_ttl_secs,
            inspector_token: text(env, INSPECTOR_TOKEN),
            report_token: text(env, REPORT_TOKEN),
            report_tokens,
            gateway_token: text(env, GATEWAY_TOKEN),
        })
    }
}

/// A secret or a plain variable, trimmed; empty counts as unset.
fn text(env: &Env, name: &str) -> Option<String> {
    let value = env
        .secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()?;
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}
