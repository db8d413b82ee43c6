//! The jd-client TOML, read for the three things the reporter needs: who the
//! JDC is to the pool (`user_identity`), where the pool is (the first
//! upstream's `pool_address`/`pool_port`) and whether there is a pool at all
//! (`mode`). Everything else in the file is the JDC's business and ignored.
//!
//! Two layouts exist:
//! - 0.3.0+: `[[upstreams]]` entries, each with `pool_address` (a host),
//!   `pool_port` and its own `user_identity`;
//! - older: a top-level `user_identity`, and `pool_address = "host:port"`
//!   (in `[[upstreams]]` or at the top level).
//!
//! The report URL is the one the JDC GUI derives:
//! `http://{pool host}:{pool port}/api/downstream-report`.

use std::fmt;
use std::path::Path;

use dmr_shared::api::REPORTS_PATH;
use reqwest::Url;
use serde::Deserialize;

/// What the reporter takes from a jd-client config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JdcConfig {
    /// `mode = "SOLOMINING"`: no pool to report to.
    pub solo: bool,
    /// The identity the JDC connects to the pool with.
    pub user_identity: Option<String>,
    /// The first upstream pool, as host and port.
    pub pool: Option<(String, u16)>,
    /// `monitoring_address`, when the JDC serves its monitoring API.
    pub monitoring_address: Option<String>,
    /// `monitoring_cache_refresh_secs`: how stale the API's snapshot can be.
    pub monitoring_refresh_secs: Option<u64>,
}

/// Why a config could not be used, as a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The keys that matter, in either layout. Unknown keys are ignored: this is
/// the JDC's file, not ours.
#[derive(Debug, Deserialize)]
struct Raw {
    mode: Option<String>,
    user_identity: Option<String>,
    pool_address: Option<String>,
    pool_port: Option<Port>,
    #[serde(default)]
    upstreams: Vec<RawUpstream>,
    monitoring_address: Option<String>,
    monitoring_cache_refresh_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct RawUpstream {
    pool_address: Option<String>,
    pool_port: Option<Port>,
    user_identity: Option<String>,
}

/// SRI's own examples write the port as a number and, in places, as a
/// string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Port {
    Number(i64),
    Text(String),
}

impl Port {
    fn get(&self) -> Result<u16, ConfigError> {
        let n = match self {
            Port::Number(n) => u16::try_from(*n).ok(),
            Port::Text(s) => s.trim().parse().ok(),
        };
        n.filter(|&p| p != 0).ok_or_else(|| {
            ConfigError(format!(
                "pool_port {} is not a port number (1-65535)",
                match self {
                    Port::Number(n) => n.to_string(),
                    Port::Text(s) => format!("{s:?}"),
                }
            ))
        })
    }
}

impl JdcConfig {
    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<JdcConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(format!(
                "cannot read the jd-client config {}: {}",
                path.display(),
                crate::error::io_reason(&e)
            ))
        })?;
        Self::parse(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
    }

    /// Parses a config's text.
    pub fn parse(text: &str) -> Result<JdcConfig, ConfigError> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            ConfigError(format!(
                "not a valid TOML file ({})",
                e.message().trim_end_matches('.')
            ))
        })?;
        let solo = raw
            .mode
            .as_deref()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("SOLOMINING"));
        let first = raw.upstreams.first();
        let user_identity = first
            .and_then(|u| u.user_identity.clone())
            .or(raw.user_identity)
            .filter(|id| !id.trim().is_empty());
        let pool = match first {
            Some(u) => match &u.pool_address {
                Some(address) => Some(pool_endpoint(address, u.pool_port.as_ref())?),
                None => None,
            },
            None => match &raw.pool_address {
                Some(address) => Some(pool_endpoint(address, raw.pool_port.as_ref())?),
                None => None,
            },
        };
        Ok(JdcConfig {
            solo,
            user_identity,
            pool,
            monitoring_address: raw.monitoring_address,
            monitoring_refresh_secs: raw.monitoring_cache_refresh_secs,
        })
    }

    /// `http://{pool host}:{pool port}/api/downstream-report`, when the config
    /// names a pool.
    pub fn report_url(&self) -> Option<Url> {
        let (host, port) = self.pool.as_ref()?;
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        Url::parse(&format!("http://{host}:{port}{REPORTS_PATH}")).ok()
    }
}

/// Host and port from `pool_address` and `pool_port`. The older layout puts
/// the port in the address (`"host:port"`, `"[v6]:port"`).
fn pool_endpoint(address: &str, port: Option<&Port>) -> Result<(String, u16), ConfigError> {
    let address = address.trim();
    if address.is_empty() {
        return Err(ConfigError("pool_address is empty".into()));
    }
    if let Some(port) = port {
        let host = address.trim_start_matches('[').trim_end_matches(']');
        // Some examples also carry the port in the address; the explicit
        // pool_port wins.
        let host = match split_host_port(host) {
            Some((h, _)) if !host.starts_with('[') && host.matches(':').count() == 1 => h,
            _ => host,
        };
        return Ok((host.to_owned(), port.get()?));
    }
    split_host_port(address)
        .map(|(h, p)| {
            (
                h.trim_start_matches('[').trim_end_matches(']').to_owned(),
                p,
            )
        })
        .ok_or_else(|| {
            ConfigError(format!(
                "pool_address {address:?} has no port, and there is no pool_port"
            ))
        })
}

fn split_host_port(address: &str) -> Option<(&str, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    // A bare IPv6 address has colons but no port.
    if host.contains(':') && !host.ends_with(']') {
        return None;
    }
    let port = port.parse::<u16>().ok().filter(|&p| p != 0)?;
    (!host.is_empty()).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEW: &str = r#"
listening_address = "0.0.0.0:34265"
mode = "FULLTEMPLATE"
monitoring_address = "0.0.0.0:9091"
monitoring_cache_refresh_secs = 15

[[upstreams]]
authority_pubkey = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
pool_address = "pool.example.com"
pool_port = 3333
jds_address = "pool.example.com"
jds_port = 3334
user_identity = "bc1qprimary.jdc"

[[upstreams]]
pool_address = "backup.example.com"
pool_port = 4444
user_identity = "bc1qbackup"

[template_provider_type.Sv2Tp]
address = "127.0.0.1:8442"
"#;

    const OLD: &str = r#"
downstream_address = "127.0.0.1"
downstream_port = 34265
user_identity = "bc1qolder.rig"

[[upstreams]]
authority_pubkey = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72"
pool_address = "75.119.150.111:34254"
jd_address = "75.119.150.111:34264"
pool_signature = "Stratum v2 SRI Pool"
"#;

    #[test]
    fn the_per_upstream_layout_uses_the_first_upstream() {
        let c = JdcConfig::parse(NEW).unwrap();
        assert!(!c.solo);
        assert_eq!(c.user_identity.as_deref(), Some("bc1qprimary.jdc"));
        assert_eq!(c.pool, Some(("pool.example.com".into(), 3333)));
        assert_eq!(
            c.report_url().unwrap().as_str(),
            "http://pool.example.com:3333/api/downstream-report"
        );
        assert_eq!(c.monitoring_address.as_deref(), Some("0.0.0.0:9091"));
        assert_eq!(c.monitoring_refresh_secs, Some(15));
    }

    #[test]
    fn the_older_layout_has_a_top_level_identity_and_host_port() {
        let c = JdcConfig::parse(OLD).unwrap();
        assert_eq!(c.user_identity.as_deref(), Some("bc1qolder.rig"));
        assert_eq!(c.pool, Some(("75.119.150.111".into(), 34254)));
        let top = "user_identity = \"x\"\npool_address = \"[2001:db8::1]:3333\"\n";
        let c = JdcConfig::parse(top).unwrap();
        assert_eq!(
            c.report_url().unwrap().as_str(),
            "http://[2001:db8::1]:3333/api/downstream-report"
        );
    }

    #[test]
    fn ports_written_as_text_or_repeated_in_the_address_are_read() {
        let c = JdcConfig::parse("[[upstreams]]\npool_address = \"127.0.0.1:34254\"\npool_port = \"34254\"\nuser_identity = \"u\"\n").unwrap();
        assert_eq!(c.pool, Some(("127.0.0.1".into(), 34254)));
    }

    #[test]
    fn solo_mining_and_missing_pieces_are_reported_as_such() {
        let fixture = include_str!("../tests/fixtures/jd_client_sv2-0.6.0-solo.toml");
        let c = JdcConfig::parse(fixture).unwrap();
        assert!(c.solo);
        assert_eq!(c.pool, None);
        assert_eq!(c.user_identity, None);
        let c = JdcConfig::parse("mode = \"FullTemplate\"\n").unwrap();
        assert!(!c.solo);
        assert_eq!(c.report_url(), None);
    }

    #[test]
    fn bad_files_give_a_reason() {
        for (text, reason) in [
            ("mode = ", "not a valid TOML file"),
            ("[[upstreams]]\npool_address = \"pool\"\n", "has no port"),
            (
                "[[upstreams]]\npool_address = \"pool\"\npool_port = 70000\n",
                "not a port number",
            ),
            (
                "[[upstreams]]\npool_address = \"\"\npool_port = 1\n",
                "pool_address is empty",
            ),
        ] {
            let err = JdcConfig::parse(text).unwrap_err();
            assert!(err.0.contains(reason), "{text:?}: {err}");
        }
    }
}
