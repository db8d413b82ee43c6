//! The JDC's monitoring API (`monitoring_address`), used for one thing: who
//! is still connected.
//!
//! The log says who connected and with what device, but some departures
//! leave no line per miner (an SV1 miner leaving a translator closes one
//! extended channel; SRI logs `CloseChannel` without the downstream id).
//! `GET /api/v1/clients` lists the connected downstreams by the same id the
//! log uses, with channel counts; `/api/v1/clients/{id}/channels` gives the
//! channels' `user_identity`. It has no vendor and no connection time, so it
//! can only remove miners, never add them.
//!
//! The API serves a snapshot refreshed every `monitoring_cache_refresh_secs`
//! (15 s by default): a miner read from the log less than two refreshes ago
//! ([`grace`]) is left alone even when the snapshot does not list it yet. If
//! the API cannot be reached the log alone decides, and the operator is told
//! once.

use std::time::{Duration, Instant};

use reqwest::{Client, Url};
use serde::Deserialize;

use crate::feed::{lock, SharedFeed};
use crate::http;
use crate::log;
use crate::tracker::ClientView;

/// The JDC's default `monitoring_cache_refresh_secs`.
pub const DEFAULT_REFRESH_SECS: u64 = 15;

/// How long a miner read from the log is trusted over the API: two cache
/// refreshes, so the snapshot has certainly been taken after it connected.
pub fn grace(refresh_secs: Option<u64>) -> Duration {
    Duration::from_secs(2 * refresh_secs.unwrap_or(DEFAULT_REFRESH_SECS).max(1))
}

/// The API's largest page.
const PAGE: usize = 100;

/// Pages read per list at most (10,000 clients, or channels of one client):
/// a broken API that always claims more must not keep the reporter asking.
const MAX_PAGES: usize = 100;

/// A client of the monitoring API.
pub struct Monitor {
    base: String,
    client: Client,
    grace: Duration,
    /// Whether the last attempt failed (to warn once per outage).
    failing: bool,
}

#[derive(Debug, Deserialize)]
struct ClientsPage {
    total: usize,
    items: Vec<ClientItem>,
}

#[derive(Debug, Deserialize)]
struct ClientItem {
    client_id: u64,
    #[serde(default)]
    extended_channels_count: usize,
    #[serde(default)]
    standard_channels_count: usize,
}

#[derive(Debug, Deserialize)]
struct ChannelsPage {
    #[serde(default)]
    total_extended: usize,
    #[serde(default)]
    total_standard: usize,
    #[serde(default)]
    extended_channels: Vec<ChannelItem>,
    #[serde(default)]
    standard_channels: Vec<ChannelItem>,
}

#[derive(Debug, Deserialize)]
struct ChannelItem {
    user_identity: String,
}

impl Monitor {
    /// `url` is the API's base (`http://127.0.0.1:9091`); a trailing
    /// `/api/v1` is accepted too. `grace`: see [`grace`].
    pub fn new(url: &Url, client: Client, grace: Duration) -> Self {
        let base = url.as_str().trim_end_matches('/');
        let base = base.strip_suffix("/api/v1").unwrap_or(base).to_owned();
        Self {
            base,
            client,
            grace,
            failing: false,
        }
    }

    /// Asks the API who is connected and drops from the table what it no
    /// longer lists. Never fails: problems are logged.
    pub async fn refresh(&mut self, feed: &SharedFeed) {
        let views = match self.views(feed).await {
            Ok(views) => views,
            Err(reason) => {
                if !self.failing {
                    log::warn(format_args!(
                        "monitoring API at {} is not answering ({reason}): relying on the log alone",
                        self.base
                    ));
                    self.failing = true;
                }
                return;
            }
        };
        if self.failing {
            log::info(format_args!(
                "monitoring API at {} answers again",
                self.base
            ));
            self.failing = false;
        }
        let Some(settled_before) = Instant::now().checked_sub(self.grace) else {
            return;
        };
        let dropped = lock(feed).tracker_mut().reconcile(&views, settled_before);
        if dropped > 0 {
            log::info(format_args!(
                "monitoring API: {dropped} miner(s) no longer connected, dropped"
            ));
        }
    }

    /// The API's view of the downstreams; channel identities are fetched
    /// only where the API counts fewer channels than the table.
    async fn views(&self, feed: &SharedFeed) -> Result<Vec<ClientView>, String> {
        let clients = self.clients().await?;
        let ours = lock(feed).tracker().channel_counts();
        let mut views = Vec::with_capacity(clients.len());
        for client in clients {
            let Ok(id) = u32::try_from(client.client_id) else {
                continue;
            };
            let channels = client.extended_channels_count + client.standard_channels_count;
            let fewer = ours.iter().any(|&(i, n)| i == id && n > channels);
            let identities = if fewer {
                Some(self.identities(id).await?)
            } else {
                None
            };
            views.push(ClientView {
                downstream_id: id,
                channels,
                identities,
            });
        }
        Ok(views)
    }

    async fn clients(&self) -> Result<Vec<ClientItem>, String> {
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let url = format!(
                "{}/api/v1/clients?offset={}&limit={PAGE}",
                self.base,
                all.len()
            );
            let page: ClientsPage = self
                .get(&url)
                .await?
                .ok_or_else(|| format!("HTTP 404 for {url}: is this the JDC's monitoring API?"))?;
            let got = page.items.len();
            all.extend(page.items);
            if got == 0 || all.len() >= page.total {
                return Ok(all);
            }
        }
        Err(format!("it lists more than {} clients", MAX_PAGES * PAGE))
    }

    async fn identities(&self, id: u32) -> Result<Vec<String>, String> {
        let mut all = Vec::new();
        let mut offset = 0;
        for _ in 0..MAX_PAGES {
            let url = format!(
                "{}/api/v1/clients/{id}/channels?offset={offset}&limit={PAGE}",
                self.base
            );
            // 404: the client left between the two requests.
            let Some(page): Option<ChannelsPage> = self.get(&url).await? else {
                return Ok(all);
            };
            let got = page
                .extended_channels
                .len()
                .max(page.standard_channels.len());
            all.extend(
                page.extended_channels
                    .into_iter()
                    .chain(page.standard_channels)
                    .map(|c| c.user_identity),
            );
            offset += PAGE;
            if got == 0 || offset >= page.total_extended.max(page.total_standard) {
                return Ok(all);
            }
        }
        Err(format!(
            "it lists more than {} channels for client {id}",
            MAX_PAGES * PAGE
        ))
    }

    /// GETs JSON; `None` for 404.
    async fn get<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<Option<T>, String> {
        http::get_json(&self.client, url).await
    }
}
