//! The SV1 devices behind one SRI translator, as its log and its monitoring
//! API tell them: who is connected, their make, worker name and hash rate,
//! and which channel on the JDC each one mines through.
//!
//! Keyed by the translator's downstream id (from 1, restarting when the
//! translator restarts). A device is tied to its JDC channel two ways: by
//! the identity the translator opened the channel with
//! (`<user_identity>.miner<k>`, from the log) and by the channel id the JDC
//! granted (from the log or the API). `miner<k>` counts channels opened since
//! the translator started, so it names a channel, not a device: it is only
//! ever matched within one run of the translator.
//!
//! Which source wins when both speak: the API's `miner_telemetry` (read from
//! the device itself) over the user agent for the make; the log's user name
//! over the API's (they are the same text); the API's measured hash rate over
//! the JDC's nominal one.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::agent::{make_of, Make};
use super::log::{Event, Parsed};

/// How long a device the API listed may be missing from its snapshot before
/// it counts as gone: two of the translator's default cache refreshes.
pub const GRACE: Duration = Duration::from_secs(30);

/// One SV1 connection of the translator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sv1Device {
    /// When the translator accepted it (its log's time); `None` when it is
    /// known from the API only.
    pub connected_at: Option<String>,
    /// What its user agent says; `None` until its subscribe is read, or when
    /// the agent was not believed.
    pub agent: Option<Make>,
    /// What the device itself reports through the API's miner telemetry.
    pub telemetry: Option<Make>,
    /// Its SV1 user name (`account.worker`).
    pub username: Option<String>,
    /// The identity its channel on the JDC was opened with.
    pub upstream_identity: Option<String>,
    /// Its channel's id on the JDC.
    pub channel_id: Option<u32>,
    /// The translator's measured hash rate of it, H/s (API).
    pub hashrate: Option<f64>,
    /// When the API last listed it (wall clock), to tell a departure the API
    /// shows from a device the API has not listed yet.
    pub listed: Option<Instant>,
}

impl Sv1Device {
    /// The device's make: telemetry first, then the user agent.
    pub fn make(&self) -> Option<&Make> {
        self.telemetry
            .as_ref()
            .filter(|m| m.is_known())
            .or(self.agent.as_ref().filter(|m| m.is_known()))
    }
}

/// One SV1 connection as the translator's monitoring API lists it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiClient {
    pub client_id: u32,
    pub channel_id: Option<u32>,
    pub username: Option<String>,
    pub hashrate: Option<f64>,
    /// Set only when the API matched the telemetry to this connection.
    pub telemetry: Option<Make>,
}

/// The devices of a [`Devices`] by their channel on the JDC.
#[derive(Debug, Default)]
pub struct Index<'a> {
    by_identity: BTreeMap<&'a str, &'a Sv1Device>,
    by_channel: BTreeMap<u32, &'a Sv1Device>,
}

impl<'a> Index<'a> {
    /// The device mining through the JDC channel opened as `identity`.
    pub fn by_upstream_identity(&self, identity: &str) -> Option<&'a Sv1Device> {
        self.by_identity.get(identity).copied()
    }

    /// The device mining through JDC channel `channel_id`.
    pub fn by_channel_id(&self, channel_id: u32) -> Option<&'a Sv1Device> {
        self.by_channel.get(&channel_id).copied()
    }
}

/// The translator's devices.
#[derive(Debug, Default)]
pub struct Devices {
    by_id: BTreeMap<u32, Sv1Device>,
    /// Channel requests sent and not answered yet: request id to downstream.
    opening: BTreeMap<u32, u32>,
    /// The request id the translator gives its next channel request.
    next_request: u32,
    /// Whether the translator's start was read, so request ids are known.
    started: bool,
    /// The identities of channels whose device has left since the
    /// translator started (`miner<k>` is never reused within a run): the
    /// JDC may not have logged their close yet, or not in a way that names
    /// the downstream.
    departed: BTreeSet<String>,
}

impl Devices {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one event of the translator's log.
    pub fn apply(&mut self, parsed: Parsed) {
        let at = parsed.at.text;
        match parsed.event {
            Event::Reset => {
                *self = Devices {
                    next_request: 1,
                    started: true,
                    ..Devices::default()
                };
            }
            Event::Registered { downstream_id } => {
                self.by_id.insert(
                    downstream_id,
                    Sv1Device {
                        connected_at: Some(at),
                        ..Sv1Device::default()
                    },
                );
            }
            Event::Opening { downstream_id } => {
                if self.started {
                    self.opening.insert(self.next_request, downstream_id);
                    self.next_request += 1;
                }
            }
            Event::OpenAbandoned { downstream_id } => {
                // The request was given up before it took an id.
                let last = self.next_request.wrapping_sub(1);
                if self.opening.get(&last) == Some(&downstream_id) {
                    self.opening.remove(&last);
                    self.next_request = last;
                }
            }
            Event::ChannelOpened {
                request_id,
                channel_id,
                upstream_identity,
            } => {
                if let Some(id) = self.opening.remove(&request_id) {
                    if let Some(device) = self.by_id.get_mut(&id) {
                        device.channel_id = Some(channel_id);
                        device.upstream_identity = Some(upstream_identity);
                    }
                }
            }
            Event::Agent {
                downstream_id,
                agent,
            } => {
                let device = self.by_id.entry(downstream_id).or_default();
                device.agent = agent.as_deref().map(make_of);
            }
            Event::Worker {
                downstream_id,
                username,
            } => {
                self.by_id.entry(downstream_id).or_default().username = Some(username);
            }
            Event::Gone { downstream_id } => {
                if let Some(gone) = self.by_id.remove(&downstream_id) {
                    self.departed.extend(gone.upstream_identity);
                }
                self.opening.retain(|_, d| *d != downstream_id);
            }
        }
    }

    /// Applies a listing the API gave just now: [`Self::reconcile`], with
    /// devices missing from its snapshots for [`GRACE`] gone.
    pub fn apply_listing(&mut self, clients: &[ApiClient]) {
        let now = Instant::now();
        let settled = now.checked_sub(GRACE).unwrap_or(now);
        self.reconcile(clients, now, settled);
    }

    /// Applies a whole listing of the API, read at `now`: listed devices are
    /// updated (and added if the log has not named them), and a device the
    /// API listed before `settled_before` and lists no more is dropped. (The
    /// API serves a snapshot refreshed periodically: a device it has never
    /// listed may have connected after the snapshot, and is left to the log.)
    pub fn reconcile(&mut self, clients: &[ApiClient], now: Instant, settled_before: Instant) {
        let listed: BTreeMap<u32, &ApiClient> = clients.iter().map(|c| (c.client_id, c)).collect();
        let departed = &mut self.departed;
        self.by_id.retain(|id, device| {
            let kept =
                listed.contains_key(id) || device.listed.is_none_or(|seen| seen >= settled_before);
            if !kept {
                departed.extend(device.upstream_identity.clone());
            }
            kept
        });
        for client in clients {
            let device = self.by_id.entry(client.client_id).or_default();
            device.listed = Some(now);
            if client.channel_id.is_some() {
                device.channel_id = client.channel_id;
            }
            if device.username.is_none() {
                device.username.clone_from(&client.username);
            }
            if client.hashrate.is_some() {
                device.hashrate = client.hashrate;
            }
            device.telemetry.clone_from(&client.telemetry);
        }
    }

    /// The devices by the JDC channel each mines through, for finding many
    /// at once (one report): built in n log n, searched in log n.
    pub fn index(&self) -> Index<'_> {
        let mut index = Index::default();
        for device in self.by_id.values() {
            if let Some(identity) = &device.upstream_identity {
                index.by_identity.entry(identity.as_str()).or_insert(device);
            }
            if let Some(channel_id) = device.channel_id {
                index.by_channel.entry(channel_id).or_insert(device);
            }
        }
        index
    }

    /// Whether the device whose channel was opened as `identity` has left
    /// the translator.
    pub fn departed(&self, identity: &str) -> bool {
        self.departed.contains(identity)
    }

    /// How many devices are known.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Stamp;
    use std::time::Duration;

    fn at(s: u32) -> Stamp {
        Stamp::parse(&format!("2026-12-07T10:00:{s:02}.000000Z")).unwrap()
    }

    fn apply(devices: &mut Devices, s: u32, event: Event) {
        devices.apply(Parsed { at: at(s), event });
    }

    fn connect(devices: &mut Devices, s: u32, d: u32, agent: &str) {
        apply(devices, s, Event::Registered { downstream_id: d });
        apply(devices, s, Event::Opening { downstream_id: d });
        let request_id = devices.next_request - 1;
        apply(
            devices,
            s,
            Event::ChannelOpened {
                request_id,
                channel_id: request_id + 1,
                upstream_identity: format!("acct.miner{request_id}"),
            },
        );
        apply(
            devices,
            s,
            Event::Agent {
                downstream_id: d,
                agent: Some(agent.into()),
            },
        );
    }

    #[test]
    fn a_device_is_found_by_its_channel_and_leaves_with_its_connection() {
        let mut devices = Devices::new();
        apply(&mut devices, 0, Event::Reset);
        connect(&mut devices, 1, 1, "bitaxe/BM1370/v2.14.0");
        connect(&mut devices, 2, 2, "cgminer/4.11.1");
        let bitaxe = devices.index().by_upstream_identity("acct.miner1").unwrap();
        assert_eq!(bitaxe.make().unwrap().vendor, "bitaxe");
        assert_eq!(bitaxe.connected_at.as_deref(), Some(at(1).text.as_str()));
        assert_eq!(
            devices
                .index()
                .by_channel_id(3)
                .unwrap()
                .make()
                .unwrap()
                .vendor,
            "cgminer"
        );
        apply(&mut devices, 3, Event::Gone { downstream_id: 1 });
        assert!(devices
            .index()
            .by_upstream_identity("acct.miner1")
            .is_none());
        assert!(devices.departed("acct.miner1"));
        assert!(!devices.departed("acct.miner2"));
        // A restart forgets everyone; miner<k> counts again from 1.
        apply(&mut devices, 4, Event::Reset);
        assert!(devices.is_empty());
        assert!(!devices.departed("acct.miner1"), "a new run reuses miner1");
        connect(&mut devices, 5, 1, "whatsminer/v1.0");
        assert_eq!(
            devices
                .index()
                .by_upstream_identity("acct.miner1")
                .unwrap()
                .make()
                .unwrap()
                .vendor,
            "whatsminer"
        );
    }

    #[test]
    fn an_abandoned_request_gives_its_id_back() {
        let mut devices = Devices::new();
        apply(&mut devices, 0, Event::Reset);
        apply(&mut devices, 1, Event::Registered { downstream_id: 1 });
        apply(&mut devices, 1, Event::Opening { downstream_id: 1 });
        apply(&mut devices, 1, Event::OpenAbandoned { downstream_id: 1 });
        connect(&mut devices, 2, 2, "bitaxe/BM1370/v2.14.0");
        let d = devices.index().by_upstream_identity("acct.miner1").unwrap();
        assert_eq!(d.make().unwrap().vendor, "bitaxe");
    }

    #[test]
    fn telemetry_wins_over_the_agent_and_the_api_drops_departures_once_settled() {
        let mut devices = Devices::new();
        apply(&mut devices, 0, Event::Reset);
        connect(&mut devices, 1, 1, "cgminer/4.11.1");
        connect(&mut devices, 1, 2, "bitaxe/BM1370/v2.14.0");
        let t0 = Instant::now();
        let telemetry = Make {
            vendor: "Bitmain".into(),
            hardware_version: "Antminer S19".into(),
            firmware: "2024".into(),
        };
        let listing = [ApiClient {
            client_id: 1,
            channel_id: Some(2),
            username: Some("acct.s19".into()),
            hashrate: Some(9e13),
            telemetry: Some(telemetry.clone()),
        }];
        // Device 2 is not listed yet, but it was never listed and is new.
        devices.reconcile(&listing, t0, t0 - Duration::from_secs(30));
        assert_eq!(devices.len(), 2);
        let d1 = devices.index().by_channel_id(2).unwrap();
        assert_eq!(d1.make(), Some(&telemetry));
        assert_eq!(d1.hashrate, Some(9e13));
        assert_eq!(d1.username.as_deref(), Some("acct.s19"));
        // Listed once, then missing from a later snapshot: gone.
        let both = [
            listing[0].clone(),
            ApiClient {
                client_id: 2,
                ..ApiClient::default()
            },
        ];
        devices.reconcile(&both, t0, t0 - Duration::from_secs(30));
        let later = t0 + Duration::from_secs(60);
        devices.reconcile(&listing, later, later - Duration::from_secs(30));
        assert_eq!(devices.len(), 1);
    }
}
