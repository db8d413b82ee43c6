//! Names shared with `wrangler.toml` and the settings read from its `[vars]`
//! and secrets, each defined once.
//!
//! Every setting is checked before any request is served, and one that
//! cannot be used is a [`BadSetting`] naming it: every request is answered
//! 500 (see `error`) and nothing is stored or renamed. A Worker with a wrong
//! setting is wrong as a whole; answering some requests and not others
//! would hide it until the one that needs it.
//!
//! - Numbers ([`REPORT_TTL_VAR`], [`AGENTS_CACHE_VAR`]) are whole numbers
//!   within their range, written as text or as a TOML integer; unset means
//!   the protocol's default. Nothing is clamped: a value outside the range
//!   is a mistake to be told about, not one to be guessed around.
//! - Secrets fail closed: every secret is read through [`secret`], and one
//!   that is set but blank (empty, spaces, invisible characters), not a
//!   string, or holding characters no request header can carry is a bad
//!   setting, never taken for "unset" (which would leave the endpoint
//!   open) nor kept as a token no request could ever match.

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

/// `[vars]` entry overriding how long a report is kept, in seconds:
/// [`KV_MIN_TTL_SECS`] to [`MAX_REPORT_TTL_SECS`], [`REPORT_TTL_SECS`] when
/// unset.
pub const REPORT_TTL_VAR: &str = "REPORT_TTL_SECONDS";

/// `[vars]` entry: seconds a data centre serves one `GET /api/agents`
/// answer from its cache, `0` (no cache) to [`AGENTS_CACHE_SECS`] (the
/// default).
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

/// Longest report TTL: one day. A report says which miners a JDC serves
/// now; kept longer, a JDC gone since yesterday would still look live, and
/// the inspector's "stale" would be all it shows for a day.
pub const MAX_REPORT_TTL_SECS: u64 = 86_400;

/// A setting that cannot be used: which one, and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSetting {
    /// The variable or secret (`REPORT_TTL_SECONDS`, `REPORT_TOKENS`).
    pub name: String,
    /// What it must be, as a sentence's end (`must be ... from 60 to
    /// 86400`), without the value when the setting is a secret.
    pub problem: String,
    /// What was found, for the log only (never for a secret).
    pub found: Option<String>,
    /// A secret's problem is logged, not sent: it could tell a caller
    /// about the secret's content.
    pub secret: bool,
}

impl BadSetting {
    fn secret(name: &str, problem: String) -> Self {
        BadSetting {
            name: name.to_owned(),
            problem,
            found: None,
            secret: true,
        }
    }
}

impl std::fmt::Display for BadSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.problem)
    }
}

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
    /// Reads the settings, falling back to the protocol's defaults for
    /// those unset. Returns the first that cannot be used (see the module
    /// docs): a half-read setting must neither open the door nor store
    /// reports for a time nobody asked for.
    pub fn from_env(env: &Env) -> Result<Self, BadSetting> {
        let report_ttl_secs = seconds(
            REPORT_TTL_VAR,
            number(env, REPORT_TTL_VAR),
            KV_MIN_TTL_SECS..=MAX_REPORT_TTL_SECS,
            REPORT_TTL_SECS,
        )?;
        let agents_cache_secs = seconds(
            AGENTS_CACHE_VAR,
            number(env, AGENTS_CACHE_VAR),
            0..=AGENTS_CACHE_SECS,
            AGENTS_CACHE_SECS,
        )?;
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

/// A numeric `[vars]` entry as the runtime hands it over: text (`"300"`,
/// and every `--var`), a number (a TOML integer), or something else.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Unset,
    Text(String),
    Number(f64),
    Other,
}

/// Reads the `[vars]` entry `name` without deciding what it means.
fn number(env: &Env, name: &str) -> Number {
    let Ok(value) = worker::js_sys::Reflect::get(env, &name.into()) else {
        return Number::Other;
    };
    if value.is_undefined() || value.is_null() {
        Number::Unset
    } else if let Some(text) = value.as_string() {
        Number::Text(text)
    } else if let Some(number) = value.as_f64() {
        Number::Number(number)
    } else {
        Number::Other
    }
}

/// A whole number of seconds within `range`, `default` when unset; the
/// error names the setting and its range. Text is digits only, spaces
/// around allowed: `+5`, `1e3`, `60.0` and `-1` are refused rather than
/// read as something close.
pub fn seconds(
    name: &str,
    value: Number,
    range: std::ops::RangeInclusive<u64>,
    default: u64,
) -> Result<u64, BadSetting> {
    let parsed = match &value {
        Number::Unset => return Ok(default),
        Number::Text(text) => {
            let digits = text.trim();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                // Too many digits for a u64 is out of range, not malformed.
                Some(digits.parse::<u64>().unwrap_or(u64::MAX))
            }
        }
        // `as` saturates: a number past u64 is out of range, as it should.
        Number::Number(n) if n.fract() == 0.0 && *n >= 0.0 => Some(*n as u64),
        Number::Number(_) | Number::Other => None,
    };
    match parsed {
        Some(secs) if range.contains(&secs) => Ok(secs),
        _ => Err(BadSetting {
            name: name.to_owned(),
            problem: format!(
                "must be a whole number of seconds from {} to {}",
                range.start(),
                range.end()
            ),
            found: Some(match value {
                Number::Text(text) => format!("{:?}", shortened(&text)),
                Number::Number(n) => n.to_string(),
                _ => "a value that is neither text nor a number".into(),
            }),
            secret: false,
        }),
    }
}

/// At most 64 characters of a setting, for the log.
fn shortened(text: &str) -> String {
    text.chars().take(64).collect()
}

/// Reads the secret `name` (a secret, or a `[vars]` entry of that name, as
/// `wrangler dev` passes them): `None` when it is not set at all, else its
/// value by [`secret_value`]. Every secret goes through here.
pub fn secret(env: &Env, name: &str) -> Result<Option<String>, BadSetting> {
    let value = worker::js_sys::Reflect::get(env, &name.into())
        .map_err(|_| BadSetting::secret(name, "cannot be read".into()))?;
    if value.is_undefined() || value.is_null() {
        return secret_value(name, None);
    }
    match value.as_string() {
        Some(text) => secret_value(name, Some(text)),
        None => Err(BadSetting::secret(name, "must be a string".into())),
    }
}

/// A set secret's value, trimmed of surrounding whitespace (a trailing
/// newline from `echo ... | wrangler secret put` is common). Blank (nothing
/// but whitespace, control or invisible characters) is an error naming the
/// secret; so is a character other than printable ASCII inside it: a
/// request header cannot be relied on to carry one, so no request could
/// ever present that token.
pub fn secret_value(name: &str, value: Option<String>) -> Result<Option<String>, BadSetting> {
    let Some(value) = value else {
        return Ok(None);
    };
    let blank = value
        .chars()
        .all(|c| c.is_whitespace() || c.is_control() || is_invisible(c));
    if blank {
        return Err(BadSetting::secret(
            name,
            "is set but blank; set it to a token, or remove it to leave the endpoint open".into(),
        ));
    }
    let value = value.trim();
    if let Some(c) = value.chars().find(|c| !matches!(c, ' '..='~')) {
        return Err(BadSetting::secret(
            name,
            format!(
                "holds U+{:04X}: a token is printable ASCII, which is all a request header carries",
                c as u32
            ),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// `REPORT_TOKENS`: a strict JSON object (no repeated key) of identity or
/// address to token. Every key must be an identity a report could come from
/// (a key with a stray space would protect nothing), every token must pass
/// the blank rule.
pub fn report_tokens(json: &str) -> Result<HashMap<String, String>, BadSetting> {
    let malformed = |e: &dyn std::fmt::Display| {
        BadSetting::secret(
            REPORT_TOKENS,
            format!("must be a JSON object of identity or address to token: {e}"),
        )
    };
    check_strict(json.as_bytes(), MAX_JSON_DEPTH).map_err(|e| malformed(&e))?;
    let tokens: HashMap<String, String> = serde_json::from_str(json).map_err(|e| malformed(&e))?;
    let mut checked = HashMap::with_capacity(tokens.len());
    for (key, token) in tokens {
        validate_identity(&key).map_err(|e| {
            BadSetting::secret(REPORT_TOKENS, format!("key {key:?} {}", e.problem()))
        })?;
        let token = secret_value(REPORT_TOKENS, Some(token))
            .map_err(|e| BadSetting::secret(REPORT_TOKENS, format!("[{key:?}] {}", e.problem)))?
            .unwrap_or_default();
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
            assert!(err.secret && err.found.is_none(), "{err:?}");
            assert!(
                err.to_string()
                    .starts_with("INSPECTOR_TOKEN is set but blank"),
                "{blank:?}: {err}"
            );
        }
    }

    #[test]
    fn a_token_is_what_a_header_can_carry() {
        for fine in ["s3cret", "a b", "!#$%&'*+-.^_`|~", "YWJj/ZGVm+Z2hp=="] {
            assert_eq!(
                secret_value("REPORT_TOKEN", Some(fine.into())),
                Ok(Some(fine.into()))
            );
        }
        for (token, want) in [
            ("pässword", "holds U+00E4"),
            ("s3cret\u{200b}", "holds U+200B"),
            ("s3\tcret", "holds U+0009"),
            ("s3\ncret", "holds U+000A"),
            ("s3cret\u{7f}x", "holds U+007F"),
            ("\u{feff}s3cret", "holds U+FEFF"),
        ] {
            let err = secret_value("REPORT_TOKEN", Some(token.into())).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("REPORT_TOKEN {want}")),
                "{token:?}: {err}"
            );
        }
    }

    #[test]
    fn seconds_are_whole_and_within_their_range() {
        let ttl = |value: Number| {
            seconds(
                REPORT_TTL_VAR,
                value,
                KV_MIN_TTL_SECS..=MAX_REPORT_TTL_SECS,
                REPORT_TTL_SECS,
            )
        };
        let text = |t: &str| Number::Text(t.into());
        assert_eq!(ttl(Number::Unset), Ok(300));
        for (value, want) in [
            (text("60"), 60),
            (text(" 120 "), 120),
            (text("86400"), 86_400),
            (text("0000300"), 300),
            (Number::Number(600.0), 600),
        ] {
            assert_eq!(ttl(value.clone()), Ok(want), "{value:?}");
        }
        for value in [
            text("59"),
            text("0"),
            text("5"),
            text("86401"),
            text("8000000000000"),
            text("99999999999999999999999999"),
            text(""),
            text("  "),
            text("-1"),
            text("+300"),
            text("300s"),
            text("3e2"),
            text("300.0"),
            text("0x12c"),
            text("３００"),
            Number::Number(59.0),
            Number::Number(8e12),
            Number::Number(1e300),
            Number::Number(f64::INFINITY),
            Number::Number(f64::NAN),
            Number::Number(-300.0),
            Number::Number(300.5),
            Number::Other,
        ] {
            let err = ttl(value.clone()).unwrap_err();
            assert_eq!(
                err.to_string(),
                "REPORT_TTL_SECONDS must be a whole number of seconds from 60 to 86400",
                "{value:?}"
            );
            assert!(!err.secret && err.found.is_some(), "{err:?}");
        }
        let cache = |t: &str| {
            seconds(
                AGENTS_CACHE_VAR,
                text(t),
                0..=AGENTS_CACHE_SECS,
                AGENTS_CACHE_SECS,
            )
        };
        assert_eq!(cache("0"), Ok(0));
        assert_eq!(cache("60"), Ok(60));
        let err = cache("61").unwrap_err();
        assert_eq!(
            err.to_string(),
            "AGENTS_CACHE_SECONDS must be a whole number of seconds from 0 to 60"
        );
        assert_eq!(err.found.as_deref(), Some("\"61\""));
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
            let err = report_tokens(json).unwrap_err().to_string();
            assert!(
                err.starts_with(REPORT_TOKENS) && err.contains(want),
                "{json}: {err}"
            );
        }
    }
}
