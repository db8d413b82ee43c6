//! Names shared with `wrangler.toml` and the settings read from its `[vars]`
//! and secrets, each defined once.
//!
//! Secrets fail closed: every secret is read through [`secret`], and one
//! that is set but blank (empty, spaces, invisible characters) or not a
//! string is a bad setting, answered 500 and logged, never taken for
//! "unset" (which would leave the endpoint open).

use std::collections::HashMap;

use dmr_shared::agents::AGENTS_CACHE_SECS;
use dmr_shared::identity::is_invisible;
use dmr_shared::json::check_strict;
use dmr_shared::limits::{MAX_JSON_DEPTH, REPORT_TTL_SECS};
use dmr_shared::validate_identity;
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

/// `[vars]` entry: seconds a data centre serves one `GET /api/agents`
/// answer from its cache, at most [`AGENTS_CACHE_SECS`] (the default); `0`
/// turns the cache off.
pub const AGENTS_CACHE_VAR: &str = "AGENTS_CACHE_SECONDS";

/// Secret: when set, reads need `Authorization: Bearer <it>`.
pub const INSPECTOR_TOKEN: &str = "INSPECTOR_TOKEN";

/// Secret: when set, reports need `Authorization: Bearer <it>`.
pub const REPORT_TOKEN: &str = "REPORT_TOKEN";

/// Secret: a JSON object `{"<identity or address>": "<token>"}`. A report
/// from a listed identity needs that identity's token; a report from any
/// other identity of an address with listed tokens needs one of them (see
/// `auth`).
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
    /// How long `GET /api/agents` answers are cached per data centre.
    pub agents_cache_secs: u64,
    /// Bearer token for reads, if reads are protected.
    pub inspector_token: Option<String>,
    /// Bearer token for reports, if reports are protected.
    pub report_token: Option<String>,
    /// Report tokens per identity or address, keys validated as identities.
    pub report_tokens: HashMap<String, String>,
    /// The mining-port gateway's token, if a gateway forwards reports.
    pub gateway_token: Option<String>,
}

impl Config {
    /// Reads the settings, falling back to the protocol's defaults. A TTL
    /// below KV's minimum is raised to it rather than failing every write.
    /// Returns an error naming the setting when a secret is blank or
    /// `REPORT_TOKENS` is not what it must be: a half-read setting must not
    /// open the door.
    pub fn from_env(env: &Env) -> Result<Self, String> {
        let report_ttl_secs = text(env, REPORT_TTL_VAR)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(REPORT_TTL_SECS)
            .max(KV_MIN_TTL_SECS);
        let agents_cache_secs = text(env, AGENTS_CACHE_VAR)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(AGENTS_CACHE_SECS)
            .min(AGENTS_CACHE_SECS);
        let report_tokens = match secret(env, REPORT_TOKENS)? {
            None => HashMap::new(),
            Some(json) => report_tokens(&json)?,
        };
        Ok(Config {
            report_ttl_secs,
            agents_cache_secs,
            inspector_token: secret(env, INSPECTOR_TOKEN)?,
            report_token: secret(env, REPORT_TOKEN)?,
            report_tokens,
            gateway_token: secret(env, GATEWAY_TOKEN)?,
        })
    }
}

/// A plain variable (not a secret: see [`secret`]), trimmed; empty counts
/// as unset.
fn text(env: &Env, name: &str) -> Option<String> {
    let value = env.var(name).ok()?.to_string();
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Reads the secret `name` (a secret, or a `[vars]` entry of that name, as
/// `wrangler dev` passes them): `None` when it is not set at all, else its
/// value by [`secret_value`]. Every secret goes through here.
pub fn secret(env: &Env, name: &str) -> Result<Option<String>, String> {
    let value = worker::js_sys::Reflect::get(env, &name.into())
        .map_err(|_| format!("{name} cannot be read"))?;
    if value.is_undefined() || value.is_null() {
        return secret_value(name, None);
    }
    match value.as_string() {
        Some(text) => secret_value(name, Some(text)),
        None => Err(format!("{name} must be a string")),
    }
}

/// A set secret's value, trimmed of surrounding whitespace (a trailing
/// newline from `echo ... | wrangler secret put` is common). Blank (nothing
/// but whitespace, control or invisible characters) is an error naming the
/// secret.
pub fn secret_value(name: &str, value: Option<String>) -> Result<Option<String>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let blank = value
        .chars()
        .all(|c| c.is_whitespace() || c.is_control() || is_invisible(c));
    if blank {
        return Err(format!(
            "{name} is set but blank; set it to a token, or remove it to leave the endpoint open"
        ));
    }
    Ok(Some(value.trim().to_owned()))
}

/// `REPORT_TOKENS`: a strict JSON object (no repeated key) of identity or
/// address to token. Every key must be an identity a report could come from
/// (a key with a stray space would protect nothing), every token must pass
/// the blank rule.
pub fn report_tokens(json: &str) -> Result<HashMap<String, String>, String> {
    let malformed = |e: &dyn std::fmt::Display| {
        format!("{REPORT_TOKENS} must be a JSON object of identity or address to token: {e}")
    };
    check_strict(json.as_bytes(), MAX_JSON_DEPTH).map_err(|e| malformed(&e))?;
    let tokens: HashMap<String, String> = serde_json::from_str(json).map_err(|e| malformed(&e))?;
    let mut checked = HashMap::with_capacity(tokens.len());
    for (key, token) in tokens {
        validate_identity(&key)
            .map_err(|e| format!("{REPORT_TOKENS} key {key:?} {}", e.problem()))?;
        let token =
            secret_value(&format!("{REPORT_TOKENS}[{key:?}]"), Some(token))?.unwrap_or_default();
        checked.insert(key, token);
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_secret_must_hold_something() {
        assert_eq!(secret_value("T", None), Ok(None));
        assert_eq!(
            secret_value("T", Some("s3cret".into())),
            Ok(Some("s3cret".into()))
        );
        assert_eq!(
            secret_value("T", Some(" s3cret\n".into())),
            Ok(Some("s3cret".into()))
        );
        for blank in [
            "",
            " ",
            "   ",
            "\t",
            "\n",
            "\r\n",
            "\u{a0}",
            "\u{3000}",
            "\u{2028}",
            "\u{200b}",
            "\u{feff}",
            "\u{200b}\u{2060} \u{feff}",
            "\0",
            "\u{7f}",
            "\u{202e}",
        ] {
            let err = secret_value("INSPECTOR_TOKEN", Some(blank.into())).unwrap_err();
            assert!(
                err.starts_with("INSPECTOR_TOKEN is set but blank"),
                "{blank:?}: {err}"
            );
        }
    }

    #[test]
    fn a_token_list_is_strict() {
        let ok = report_tokens(r#"{"bc1qa": "t1", "bc1qb.rig1": "t2"}"#).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok["bc1qb.rig1"], "t2");
        assert!(report_tokens("{}").unwrap().is_empty());
        let refused = [
            ("not json", "must be a JSON object"),
            ("[]", "must be a JSON object"),
            (r#"{"a": 1}"#, "must be a JSON object"),
            (r#"{"a": "t", "a": "u"}"#, "duplicate key"),
            (r#"{"a": "   "}"#, "is set but blank"),
            (r#"{"a": ""}"#, "is set but blank"),
            (r#"{"a": "\u200b"}"#, "is set but blank"),
            (r#"{" a": "t"}"#, "whitespace"),
            (r#"{"": "t"}"#, "empty"),
            (r#"{".rig1": "t"}"#, "no address"),
            (r#"{"a\u200b": "t"}"#, "U+200B"),
        ];
        for (json, want) in refused {
            let err = report_tokens(json).unwrap_err();
            assert!(
                err.starts_with(REPORT_TOKENS) && err.contains(want),
                "{json}: {err}"
            );
        }
    }
}
