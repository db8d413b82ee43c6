//! The translator's monitoring API (`monitoring_address` in its TOML):
//! `GET /api/v1/sv1/clients`, paged (`offset`, `limit` up to 100; the answer
//! has `total` and `items`), one item per SV1 connection with its
//! `client_id` (the log's downstream id), `channel_id` on the JDC,
//! `sv1_username`, `hashrate` and, when the translator's miner telemetry is
//! configured and matched the connection, `miner_telemetry { make, model,
//! firmware_version }`.
//!
//! The API is read before each report. It refreshes its snapshot
//! periodically, so a device it has never listed is left to the log; one it
//! listed and no longer lists has left. If it cannot be reached, the log
//! alone decides and the operator is told once. What is read goes into the
//! devices table ([`super::Devices::apply_listing`]) by the sender, which
//! holds the table.

use reqwest::{Client, Url};
use serde::Deserialize;

use super::agent::Make;
use super::devices::ApiClient;
use crate::http;
use crate::log;

/// Connections asked for per page: small enough that a page of items, each
/// with its telemetry, stays well within the answer cap
/// ([`http::MAX_BODY`]). The API's own largest page is 100.
const PAGE: usize = 50;

/// Pages read at most (10,000 connections): a broken API that always claims
/// more must not keep the reporter asking.
const MAX_PAGES: usize = 200;

#[derive(Debug, Deserialize)]
struct Page {
    total: usize,
    items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
struct Item {
    client_id: u64,
    #[serde(default)]
    channel_id: Option<u32>,
    #[serde(default)]
    sv1_username: Option<String>,
    #[serde(default)]
    hashrate: Option<f64>,
    #[serde(default)]
    miner_telemetry: Option<Telemetry>,
    #[serde(default)]
    miner_telemetry_status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Telemetry {
    #[serde(default)]
    make: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    firmware_version: Option<String>,
}

impl Item {
    fn into_client(self) -> Option<ApiClient> {
        let believable = |s: &String| {
            s.len() <= dmr_shared::limits::MAX_FIELD_LEN && !s.chars().any(char::is_control)
        };
        let telemetry = match (self.miner_telemetry, self.miner_telemetry_status.as_deref()) {
            (Some(t), Some("matched")) => {
                let text = |s: Option<String>| s.filter(believable).unwrap_or_default();
                Some(Make {
                    vendor: text(t.make),
                    hardware_version: text(t.model),
                    firmware: text(t.firmware_version),
                })
                .filter(Make::is_known)
            }
            _ => None,
        };
        Some(ApiClient {
            client_id: u32::try_from(self.client_id).ok()?,
            channel_id: self.channel_id,
            username: self.sv1_username.filter(|u| !u.is_empty() && believable(u)),
            hashrate: self.hashrate.filter(|h| h.is_finite() && *h >= 0.0),
            telemetry,
        })
    }
}

/// A client of the translator's monitoring API.
pub struct Api {
    base: String,
    client: Client,
    failing: bool,
}

impl Api {
    /// `url` is the API's base (`http://127.0.0.1:9092`); a trailing
    /// `/api/v1` is accepted too.
    pub fn new(url: &Url, client: Client) -> Self {
        let base = url.as_str().trim_end_matches('/');
        let base = base.strip_suffix("/api/v1").unwrap_or(base).to_owned();
        Self {
            base,
            client,
            failing: false,
        }
    }

    /// Reads the API: every SV1 connection it lists, or `None` when it
    /// cannot be read. Never fails: problems are logged, once per outage.
    pub async fn read(&mut self) -> Option<Vec<ApiClient>> {
        match self.clients().await {
            Ok(clients) => {
                if self.failing {
                    log::info(format_args!(
                        "translator API at {} answers again",
                        self.base
                    ));
                    self.failing = false;
                }
                Some(clients)
            }
            Err(reason) => {
                if !self.failing {
                    log::warn(format_args!(
                        "translator API at {} is not answering ({reason}): relying on the translator's log alone",
                        self.base
                    ));
                    self.failing = true;
                }
                None
            }
        }
    }

    async fn clients(&self) -> Result<Vec<ApiClient>, String> {
        let mut all = Vec::new();
        let mut offset = 0;
        for _ in 0..MAX_PAGES {
            let url = format!(
                "{}/api/v1/sv1/clients?offset={offset}&limit={PAGE}",
                self.base
            );
            let page = self.get(&url).await?;
            let got = page.items.len();
            offset += got;
            all.extend(page.items.into_iter().filter_map(Item::into_client));
            if got == 0 || offset >= page.total {
                return Ok(all);
            }
        }
        Err(format!(
            "it lists more than {} SV1 clients",
            MAX_PAGES * PAGE
        ))
    }

    async fn get(&self, url: &str) -> Result<Page, String> {
        http::get_json(&self.client, url)
            .await?
            .ok_or_else(|| format!("HTTP 404 for {url}: is this a translator's monitoring API?"))
    }
}

/// Reads one page of the API's answer, for tests and replays of captured
/// answers.
pub fn parse_page(body: &[u8]) -> Result<Vec<ApiClient>, String> {
    let page: Page = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(page
        .items
        .into_iter()
        .filter_map(Item::into_client)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_read_with_telemetry_only_when_matched() {
        let body = br#"{"offset":0,"limit":100,"total":3,"items":[
          {"client_id":1,"channel_id":2,"connection_ip":"127.0.0.1","sv1_username":"acct.bitaxe1","sv1_worker_name":"bitaxe1","target_hex":"00","hashrate":1.2e12,"stable_hashrate":true,"extranonce1_hex":"00","extranonce2_len":4,"version_rolling_mask":null,"version_rolling_min_bit":null},
          {"client_id":2,"channel_id":3,"connection_ip":"127.0.0.1","sv1_username":"acct.s19","sv1_worker_name":"s19","hashrate":null,"miner_telemetry":{"make":"AntMiner","model":"S19 Pro","firmware_version":"2024-01-01"},"miner_telemetry_status":"matched"},
          {"client_id":3,"channel_id":null,"connection_ip":"127.0.0.1","sv1_username":"a\nb","sv1_worker_name":"b","hashrate":-1,"miner_telemetry":{"make":"Other"},"miner_telemetry_status":"duplicate_worker_name"}
        ]}"#;
        let clients = parse_page(body).unwrap();
        assert_eq!(clients.len(), 3);
        assert_eq!(clients[0].username.as_deref(), Some("acct.bitaxe1"));
        assert_eq!(clients[0].hashrate, Some(1.2e12));
        assert_eq!(clients[0].telemetry, None);
        let t = clients[1].telemetry.as_ref().unwrap();
        assert_eq!(
            (
                t.vendor.as_str(),
                t.hardware_version.as_str(),
                t.firmware.as_str()
            ),
            ("AntMiner", "S19 Pro", "2024-01-01")
        );
        assert_eq!(clients[2].telemetry, None);
        assert_eq!(clients[2].username, None);
        assert_eq!(clients[2].hashrate, None);
        assert_eq!(clients[2].channel_id, None);
    }
}
