//! Events in, in log order; the table of connected miners out.
//!
//! A miner is one open channel: a bitaxe on a standard channel is one miner,
//! an SRI translator with three extended channels is three. Its vendor,
//! hardware version, firmware and device id come from the downstream's
//! `SetupConnection`, which is logged *without* a downstream id, so the
//! tracker has to pair them:
//!
//! - A `SetupConnection` waits in a queue until a downstream id the table has
//!   not seen opens its first channel; the oldest waiting one is taken. That
//!   is the order SRI logs them in (the setup, then, shortly after, the
//!   channel of the same connection).
//! - A waiting `SetupConnection` that is rejected (`Rejecting ...`, or a
//!   failed setup without that line), whose
//!   connection goes away without a channel, or that is older than
//!   [`PAIRING_WINDOW`] when the next channel opens, is dropped. So an orphan
//!   is never glued onto another device: the worst case is a miner reported
//!   with an empty vendor, which the pool ignores in its vote, never a miner
//!   reported with someone else's vendor.
//!
//! When the JDC restarts or loses its upstream it drops every downstream
//! without a line per miner, and ids restart at 0: those lines empty the
//! table.
//!
//! A translator's SV1 device that leaves closes its channel without the
//! translator disconnecting: the JDC logs `CloseChannel(channel_id: C)`
//! without a downstream id. Channel ids are counted per downstream (the
//! group channel takes 1, each channel open the next), so the tracker counts
//! them too, and closes channel C of the one downstream that has it,
//! preferring a proxy (only proxies close channels one by one) when an SV2
//! device's channel has the same number. When that still leaves more than
//! one, nothing is closed by guess: the translator's own log or API, or the
//! JDC's, settles it.
//!
//! [`Tracker::miners_with`] reports each channel of a translator as the SV1
//! device behind it ([`crate::translator`]); a channel whose device is not
//! known (yet) is reported with its make unknown, never as `SRI`.
//!
//! Time here is the log's own (the pairing window, `connectedAt`), so a
//! replayed log gives the log's times. Wall-clock time (`seen`) only decides
//! when the monitoring API may overrule the log, in [`Tracker::reconcile`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Instant;

use chrono::TimeDelta;
use dmr_shared::Miner;

use crate::parse::{ChannelKind, Device, Event, Parsed, Reset, Stamp};
use crate::translator::{self, Devices, Sv1Device};

/// How long a `SetupConnection` may wait for its channel. SRI logs the
/// channel open shortly after the setup; a device that has not opened a
/// channel within this window is not going to be told apart from the next
/// one.
pub const PAIRING_WINDOW: TimeDelta = TimeDelta::seconds(10);

/// The connected downstreams, keyed by the JDC's downstream id (assigned in
/// connection order, so iteration order is connection order).
#[derive(Debug, Default)]
pub struct Tracker {
    downstreams: BTreeMap<u32, Downstream>,
    pending: VecDeque<PendingSetup>,
    /// Ids whose setup failed: their SetupConnection, if one was logged, was
    /// already dropped by the `Rejecting` line, so their disconnect must not
    /// take another waiting setup with it.
    settled: BTreeSet<u32>,
    /// The downstream whose latest channel a `Failed to create ...` line
    /// refers to (the channel manager logs the failure right after the open).
    last_open: Option<u32>,
    /// The newest SetupConnection was already dropped by a `Rejecting` line,
    /// so the `Failed to set up` line that follows must not drop another.
    last_setup_rejected: bool,
}

#[derive(Debug, Clone)]
struct PendingSetup {
    device: Device,
    at: Stamp,
}

#[derive(Debug, Clone)]
struct Downstream {
    device: Device,
    /// When the downstream connected: its SetupConnection, or its first
    /// channel when the setup could not be paired.
    connected_at: String,
    channels: Vec<Channel>,
    /// The id the JDC gives this downstream's next channel.
    next_channel_id: u32,
}

/// The JDC numbers each downstream's channels from here (1 is the group
/// channel it opens for every downstream).
const FIRST_CHANNEL_ID: u32 = 2;

#[derive(Debug, Clone)]
struct Channel {
    kind: ChannelKind,
    /// The id the JDC gave it, as counted from the opens (see the module
    /// doc).
    id: u32,
    user_identity: String,
    nominal_hash_rate: f64,
    connected_at: String,
    seen: Instant,
}

/// What an event changed, for `--verbose` and the tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A channel opened: one more miner.
    MinerAdded {
        downstream_id: u32,
        vendor: String,
        user_identity: String,
    },
    /// A channel open was refused or unreadable: no miner.
    ChannelRefused { downstream_id: u32 },
    /// A downstream went away with its miners.
    Gone { downstream_id: u32, miners: usize },
    /// The JDC dropped everyone.
    Cleared { reset: Reset, miners: usize },
}

/// One downstream as the monitoring API lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientView {
    pub downstream_id: u32,
    pub channels: usize,
    /// The channels' user identities, when they were fetched.
    pub identities: Option<Vec<String>>,
}

impl Downstream {
    /// Whether this downstream is the SRI translator (a proxy for SV1
    /// devices), by its SetupConnection.
    fn is_proxy(&self) -> bool {
        translator::is_translator(&self.device.vendor, &self.device.hardware_version)
    }
}

/// A channel of a device connected to the JDC itself, as the miner to
/// report: the device's own `SetupConnection` strings.
fn direct(d: &Downstream, c: &Channel) -> Miner {
    Miner {
        vendor: d.device.vendor.clone(),
        hardware_version: d.device.hardware_version.clone(),
        firmware: d.device.firmware.clone(),
        device_id: d.device.device_id.clone(),
        nominal_hash_rate: c.nominal_hash_rate,
        user_identity: c.user_identity.clone(),
        connected_at: c.connected_at.clone(),
        via: None,
    }
}

/// A translator's channel as the miner to report: the SV1 device behind it
/// when known, else the channel with its make unknown.
fn behind_translator(d: &Downstream, c: &Channel, sv1: Option<&Sv1Device>) -> Miner {
    let make = sv1.and_then(Sv1Device::make).cloned().unwrap_or_default();
    Miner {
        vendor: make.vendor,
        hardware_version: make.hardware_version,
        firmware: make.firmware,
        device_id: String::new(),
        nominal_hash_rate: sv1.and_then(|s| s.hashrate).unwrap_or(c.nominal_hash_rate),
        user_identity: sv1
            .and_then(|s| s.username.clone())
            .unwrap_or_else(|| c.user_identity.clone()),
        connected_at: sv1
            .and_then(|s| s.connected_at.clone())
            .unwrap_or_else(|| c.connected_at.clone()),
        via: Some(format!(
            "{} {}",
            d.device.vendor.trim(),
            d.device.hardware_version.trim()
        )),
    }
}

impl Tracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one parsed line. `seen` is when the reporter read it.
    pub fn apply(&mut self, parsed: Parsed, seen: Instant) -> Option<Change> {
        let at = parsed.at;
        self.expire_pending(&at);
        match parsed.event {
            Event::Setup(device) => {
                self.pending.push_back(PendingSetup { device, at });
                self.last_setup_rejected = false;
                None
            }
            Event::SetupRejected => {
                // Logged by the same handler right after its SetupConnection.
                self.pending.pop_back();
                self.last_setup_rejected = true;
                None
            }
            Event::SetupFailed {
                downstream_id,
                setup_logged,
            } => {
                // Logged right after the refusal, by the same task. A refusal
                // in a wording this parser does not know still ends here.
                if setup_logged && !self.last_setup_rejected {
                    self.pending.pop_back();
                }
                self.last_setup_rejected = false;
                if let Some(id) = downstream_id {
                    self.settled.insert(id);
                }
                None
            }
            Event::ChannelOpened {
                kind,
                downstream_id,
                user_identity,
                nominal_hash_rate,
            } => self.open(
                kind,
                downstream_id,
                user_identity,
                nominal_hash_rate,
                at,
                seen,
            ),
            Event::ChannelFailed => {
                let id = self.last_open.take()?;
                let downstream = self.downstreams.get_mut(&id)?;
                downstream.channels.pop()?;
                Some(Change::ChannelRefused { downstream_id: id })
            }
            Event::ChannelClosed { channel_id } => self.close(channel_id),
            Event::Disconnected { downstream_id } => self.disconnect(downstream_id),
            Event::Reset(reset) => {
                let miners = self.miner_count();
                *self = Tracker::new();
                Some(Change::Cleared { reset, miners })
            }
        }
    }

    fn expire_pending(&mut self, now: &Stamp) {
        while let Some(front) = self.pending.front() {
            if now.time - front.at.time > PAIRING_WINDOW {
                self.pending.pop_front();
            } else {
                break;
            }
        }
    }

    fn open(
        &mut self,
        kind: ChannelKind,
        downstream_id: u32,
        user_identity: String,
        rate: Option<f64>,
        at: Stamp,
        seen: Instant,
    ) -> Option<Change> {
        let downstream = self.downstreams.entry(downstream_id).or_insert_with(|| {
            // A downstream id seen for the first time: its SetupConnection
            // is the oldest one still waiting.
            let (device, connected_at) = match self.pending.pop_front() {
                Some(setup) => (setup.device, setup.at.text),
                None => (Device::default(), at.text.clone()),
            };
            Downstream {
                device,
                connected_at,
                channels: Vec::new(),
                next_channel_id: FIRST_CHANNEL_ID,
            }
        });
        // The JDC takes the next id for every open it handles, refused or
        // not.
        let id = downstream.next_channel_id;
        downstream.next_channel_id = id.saturating_add(1);
        // The JDC refuses negative hash rates, and a report carrying NaN or
        // infinity would be refused whole by the pool: such a channel is no
        // miner. A rate that could not be read at all is still a miner.
        let nominal_hash_rate = match rate {
            None => 0.0,
            Some(r) if r.is_finite() && r >= 0.0 => r,
            Some(_) => {
                self.last_open = None;
                return Some(Change::ChannelRefused { downstream_id });
            }
        };
        // The first channel connected when the device did; a translator's
        // later channels are SV1 miners arriving one by one.
        let connected_at = if downstream.channels.is_empty() {
            downstream.connected_at.clone()
        } else {
            at.text
        };
        downstream.channels.push(Channel {
            kind,
            id,
            user_identity: user_identity.clone(),
            nominal_hash_rate,
            connected_at,
            seen,
        });
        self.last_open = Some(downstream_id);
        Some(Change::MinerAdded {
            downstream_id,
            vendor: downstream.device.vendor.clone(),
            user_identity,
        })
    }

    /// Closes channel `channel_id` of the one downstream it can be (see the
    /// module doc).
    fn close(&mut self, channel_id: u32) -> Option<Change> {
        let has = |d: &Downstream| d.channels.iter().any(|c| c.id == channel_id);
        let mut candidates: Vec<u32> = self
            .downstreams
            .iter()
            .filter(|(_, d)| has(d))
            .map(|(id, _)| *id)
            .collect();
        if candidates.len() > 1 {
            candidates.retain(|id| self.downstreams[id].is_proxy());
        }
        let [downstream_id] = candidates[..] else {
            return None;
        };
        let downstream = self.downstreams.get_mut(&downstream_id)?;
        downstream.channels.retain(|c| c.id != channel_id);
        if self.last_open == Some(downstream_id) {
            self.last_open = None;
        }
        Some(Change::Gone {
            downstream_id,
            miners: 1,
        })
    }

    fn disconnect(&mut self, downstream_id: u32) -> Option<Change> {
        if self.last_open == Some(downstream_id) {
            self.last_open = None;
        }
        if let Some(gone) = self.downstreams.remove(&downstream_id) {
            return Some(Change::Gone {
                downstream_id,
                miners: gone.channels.len(),
            });
        }
        // A connection that never opened a channel: if it sent a
        // SetupConnection, that setup is waiting and must leave with it. The
        // oldest waiting one is the likeliest.
        if !self.settled.remove(&downstream_id) {
            self.pending.pop_front();
        }
        None
    }

    /// Drops what the monitoring API says is gone: downstreams it does not
    /// list, and channels of a listed downstream whose identity it no longer
    /// lists. Only entries read before `settled_before` are touched: the API
    /// serves a snapshot refreshed every 15 s by default, so a miner that just
    /// connected may not be in it yet. Returns how many miners were dropped.
    pub fn reconcile(&mut self, clients: &[ClientView], settled_before: Instant) -> usize {
        let mut dropped = 0;
        self.downstreams.retain(|id, downstream| {
            let old = |c: &Channel| c.seen < settled_before;
            match clients.iter().find(|c| c.downstream_id == *id) {
                None => {
                    let before = downstream.channels.len();
                    downstream.channels.retain(|c| !old(c));
                    dropped += before - downstream.channels.len();
                    !downstream.channels.is_empty()
                }
                Some(view) => {
                    if let Some(identities) = &view.identities {
                        let mut listed: Vec<&str> = identities.iter().map(String::as_str).collect();
                        let before = downstream.channels.len();
                        downstream.channels.retain(|c| {
                            if let Some(i) = listed.iter().position(|u| *u == c.user_identity) {
                                listed.swap_remove(i);
                                true
                            } else {
                                !old(c)
                            }
                        });
                        dropped += before - downstream.channels.len();
                    }
                    true
                }
            }
        });
        dropped
    }

    /// Channel counts per downstream id, to compare with the monitoring API.
    pub fn channel_counts(&self) -> Vec<(u32, usize)> {
        self.downstreams
            .iter()
            .map(|(id, d)| (*id, d.channels.len()))
            .collect()
    }

    /// How many miners (open channels) the table holds.
    pub fn miner_count(&self) -> usize {
        self.downstreams.values().map(|d| d.channels.len()).sum()
    }

    /// The miners to report, in connection order, with no translator
    /// known: see [`Tracker::miners_with`].
    pub fn miners(&self) -> Vec<Miner> {
        self.miners_with(&Devices::new())
    }

    /// The miners to report, in connection order. A translator's channel is
    /// reported as the SV1 device behind it when `devices` knows it: its
    /// make, worker name, measured hash rate and connection time; else with
    /// its make unknown. Either way `via` names the translator, and the
    /// translator's own `SRI` is never a miner's vendor. A channel whose
    /// device the translator says has left is not reported, even before the
    /// JDC logs its close.
    pub fn miners_with(&self, devices: &Devices) -> Vec<Miner> {
        // Channel ids are per downstream: matching by id alone is safe only
        // while a single translator is connected.
        let proxies = self.downstreams.values().filter(|d| d.is_proxy()).count();
        let index = devices.index();
        let index = &index;
        self.downstreams
            .values()
            .flat_map(|d| {
                let proxy = d.is_proxy();
                d.channels.iter().filter_map(move |c| {
                    if !proxy {
                        return Some(direct(d, c));
                    }
                    if devices.departed(&c.user_identity) {
                        return None;
                    }
                    let sv1 = index
                        .by_upstream_identity(&c.user_identity)
                        .or_else(|| (proxies == 1).then(|| index.by_channel_id(c.id)).flatten());
                    Some(behind_translator(d, c, sv1))
                })
            })
            .collect()
    }

    /// How many channels of each kind are open (standard, extended).
    pub fn kinds(&self) -> (usize, usize) {
        let mut counts = (0, 0);
        for c in self.downstreams.values().flat_map(|d| &d.channels) {
            match c.kind {
                ChannelKind::Standard => counts.0 += 1,
                ChannelKind::Extended => counts.1 += 1,
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_text;
    use std::time::Duration;

    /// Lines in, table out; unparsed lines are skipped like the real input.
    fn replay(lines: &[String]) -> Tracker {
        let mut t = Tracker::new();
        let now = Instant::now();
        for p in parse_text(&lines.join("\n")) {
            t.apply(p, now);
        }
        t
    }

    fn at(secs: u32) -> String {
        format!(
            "2026-11-24T18:{:02}:{:02}.000000Z",
            36 + secs / 60,
            secs % 60
        )
    }

    fn setup(t: u32, vendor: &str) -> String {
        format!("{}  INFO jd_client_sv2::downstream::common_message_handler: Received: SetupConnection(protocol: 0, min_version: 2, max_version: 2, flags: 0x00000001, endpoint_host: 127.0.0.1, endpoint_port: 34265, vendor: {vendor}, hardware_version: HW, firmware: , device_id: )", at(t))
    }

    fn open(t: u32, kind: &str, id: u32, who: &str) -> String {
        format!("{}  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: Open{kind}MiningChannel(request_id: 1, user_identity: {who}, nominal_hash_rate: 1000, max_target: U256({})) downstream_id={id}", at(t), "f".repeat(64))
    }

    fn gone(t: u32, id: u32) -> String {
        format!("{}  WARN jd_client_sv2::downstream: Downstream::handle_downstream_message requested disconnect; cancelling downstream token downstream_id={id} error_kind=X", at(t))
    }

    fn vendors(t: &Tracker) -> Vec<(String, String)> {
        t.miners()
            .into_iter()
            .map(|m| (m.vendor, m.user_identity))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn setup_pairs_with_the_next_new_downstream() {
        let t = replay(&[setup(0, "bitaxe"), open(0, "Standard", 0, "a.1")]);
        assert_eq!(vendors(&t), pairs(&[("bitaxe", "a.1")]));
        assert_eq!(t.miners()[0].connected_at, at(0));
    }

    #[test]
    fn a_rejected_setup_is_not_glued_onto_the_next_device() {
        let reject = format!("{}  INFO jd_client_sv2::downstream::common_message_handler: Rejecting: work selection not allowed.", at(1));
        let failed = format!("{} ERROR jd_client_sv2::downstream: Failed to set up downstream connection e=JDCError {{ kind: SetupConnectionError, action: Disconnect(3), _owner: PhantomData }}", at(1));
        let t = replay(&[
            setup(1, "Acme"),
            reject,
            failed,
            // The next device connects before the rejected one's disconnect
            // line (logged a second later).
            setup(2, "nerdqaxe"),
            open(2, "Standard", 4, "a.n"),
            gone(2, 3),
        ]);
        assert_eq!(vendors(&t), pairs(&[("nerdqaxe", "a.n")]));
    }

    #[test]
    fn a_setup_never_followed_by_a_channel_expires() {
        let t = replay(&[setup(0, "ghost"), open(30, "Standard", 0, "a.1")]);
        assert_eq!(vendors(&t), pairs(&[("", "a.1")]));
        // Unpaired: connectedAt is the channel's own time.
        assert_eq!(t.miners()[0].connected_at, at(30));
    }

    #[test]
    fn a_setup_whose_connection_left_without_a_channel_leaves_with_it() {
        let t = replay(&[
            setup(0, "ghost"),
            gone(1, 5),
            setup(2, "bitaxe"),
            open(2, "Standard", 6, "a.1"),
        ]);
        assert_eq!(vendors(&t), pairs(&[("bitaxe", "a.1")]));
    }

    #[test]
    fn a_translator_with_several_extended_channels_is_several_miners() {
        let t = replay(&[
            setup(0, "SRI"),
            open(0, "Extended", 1, "a.m1"),
            open(1, "Extended", 1, "a.m2"),
            open(9, "Extended", 1, "a.m3"),
        ]);
        assert_eq!(
            vendors(&t),
            pairs(&[("SRI", "a.m1"), ("SRI", "a.m2"), ("SRI", "a.m3")])
        );
        let times: Vec<_> = t.miners().into_iter().map(|m| m.connected_at).collect();
        assert_eq!(times, [at(0), at(1), at(9)]);
        assert_eq!(t.kinds(), (0, 3));
        let t = replay(&[
            setup(0, "SRI"),
            open(0, "Extended", 1, "a.m1"),
            open(1, "Extended", 1, "a.m2"),
            gone(5, 1),
        ]);
        assert!(t.miners().is_empty());
    }

    #[test]
    fn a_refused_channel_is_no_miner_but_the_device_keeps_its_vendor() {
        let refused = format!("{} ERROR jd_client_sv2::channel_manager::downstream_message_handler: Failed to create standard channel e=OpenChannelInvalidNominalHashrate(\"invalid-nominal-hashrate\")", at(1));
        let bad = open(1, "Standard", 4, "a.bad")
            .replace("nominal_hash_rate: 1000", "nominal_hash_rate: -1");
        let t = replay(&[setup(0, "nerdqaxe"), bad.clone(), refused.clone()]);
        assert!(t.miners().is_empty());
        let t = replay(&[
            setup(0, "nerdqaxe"),
            bad,
            refused.clone(),
            open(20, "Standard", 4, "a.good"),
        ]);
        assert_eq!(vendors(&t), pairs(&[("nerdqaxe", "a.good")]));
        assert_eq!(t.miners()[0].connected_at, at(0));
        // A refusal of a channel the tracker accepted removes it.
        let refused = refused.replace(&at(1), &at(3));
        let t = replay(&[
            setup(0, "bitaxe"),
            open(0, "Standard", 0, "a.1"),
            setup(2, "x"),
            open(2, "Standard", 1, "a.2"),
            refused,
        ]);
        assert_eq!(vendors(&t), pairs(&[("bitaxe", "a.1")]));
    }

    #[test]
    fn restarts_and_fallbacks_clear_the_table() {
        let restart = format!(
            "{}  INFO jd_client_sv2::channel_manager: Starting downstream server at 0.0.0.0:34265",
            at(10)
        );
        let fallback = format!("{}  WARN jd_client_sv2::jdc_runtime: Upstream/Job Declarator connection dropped — attempting reconnection...", at(10));
        for reset in [restart, fallback] {
            let t = replay(&[
                setup(0, "bitaxe"),
                open(0, "Standard", 0, "a.1"),
                setup(1, "bitaxe"),
                open(1, "Standard", 1, "a.2"),
                reset,
                // ids restart at 0: the new downstream 0 is another device.
                setup(12, "nerdqaxe"),
                open(12, "Standard", 0, "a.3"),
            ]);
            assert_eq!(vendors(&t), pairs(&[("nerdqaxe", "a.3")]));
        }
    }

    fn translator_setup(t: u32) -> String {
        setup(t, "SRI").replace("hardware_version: HW", "hardware_version: Translator Proxy")
    }

    fn close(t: u32, channel_id: u32) -> String {
        format!("{}  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: CloseChannel(channel_id: {channel_id}, reason_code: downstream disconnected)", at(t))
    }

    #[test]
    fn a_closed_channel_leaves_the_translator_not_the_device_with_the_same_id() {
        let t = replay(&[
            setup(0, "NerdQAxe++"),
            open(0, "Standard", 0, "a.nerd"),
            translator_setup(1),
            open(1, "Extended", 1, "a.miner1"),
            open(2, "Extended", 1, "a.miner2"),
            // Channel 2 of both downstreams: the translator's first.
            close(3, 2),
        ]);
        assert_eq!(
            vendors(&t),
            pairs(&[("NerdQAxe++", "a.nerd"), ("", "a.miner2")])
        );
        // The translator's next channel is 3.
        let t = replay(&[
            translator_setup(1),
            open(1, "Extended", 1, "a.miner1"),
            open(2, "Extended", 1, "a.miner2"),
            close(3, 3),
        ]);
        assert_eq!(vendors(&t), pairs(&[("", "a.miner1")]));
        // Two translators with a channel 2: no guess.
        let t = replay(&[
            translator_setup(1),
            open(1, "Extended", 1, "a.miner1"),
            translator_setup(2),
            open(2, "Extended", 2, "b.miner1"),
            close(3, 2),
        ]);
        assert_eq!(t.miner_count(), 2);
    }

    #[test]
    fn a_translators_channels_are_reported_as_the_devices_behind_them() {
        use crate::translator::log::parse_text as translator_log;
        let t = replay(&[
            setup(0, "NerdQAxe++"),
            open(0, "Standard", 0, "a.nerd"),
            translator_setup(1),
            open(1, "Extended", 1, "acct.miner1"),
            open(2, "Extended", 1, "acct.miner2"),
            open(3, "Extended", 1, "acct.miner3"),
        ]);
        let target = "translator_sv2::sv1::sv1_server";
        let l = |s: u32, m: &str| format!("{}  INFO {target}: {m}", at(s));
        let mut log = vec![l(0, "Starting SV1 server on 127.0.0.1:34255")];
        for (d, agent) in [(1, "bitaxe/BM1370/v2.14.0"), (2, "cgminer/4.11.1")] {
            log.push(l(1, &format!("Downstream {d} registered successfully (channel will be opened after first message)")));
            log.push(l(1, &format!("SV1 server: opening extended mining channel for downstream {d} after first message")));
            log.push(l(1, &format!("Received: OpenExtendedMiningChannelSuccess {{ request_id: {d}, channel_id: {}, group_channel_id: 1 }}, user_identity: acct.miner{d}, nominal_hashrate: 1000", d + 1)));
            log.push(l(1, &format!("Down: Handling mining.subscribe: Subscribe {{ id: 1, agent_signature: {agent}, extranonce1: None }}")));
            log.push(l(
                1,
                "Down: Sending Sv1 message to downstream: { id: 1, result: [",
            ));
            log.push(format!("  [[\"mining.set_difficulty\", \"{d}\"]]] }}"));
            log.push(l(1, &format!("Down: Set sv1_username 'acct.rig{d}' and sv1_worker_name 'rig{d}' for downstream {d}")));
        }
        let mut devices = Devices::new();
        for p in translator_log(&log.join("\n")) {
            devices.apply(p);
        }
        let miners = t.miners_with(&devices);
        let got: Vec<(&str, &str, &str, Option<&str>)> = miners
            .iter()
            .map(|m| {
                (
                    m.vendor.as_str(),
                    m.hardware_version.as_str(),
                    m.user_identity.as_str(),
                    m.via.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("NerdQAxe++", "HW", "a.nerd", None),
                (
                    "bitaxe",
                    "BM1370",
                    "acct.rig1",
                    Some("SRI Translator Proxy")
                ),
                ("cgminer", "", "acct.rig2", Some("SRI Translator Proxy")),
                // Not known to the translator's log: make unknown, never SRI.
                ("", "", "acct.miner3", Some("SRI Translator Proxy")),
            ]
        );
        // The device's own connection time, from the translator's log.
        assert_eq!(miners[1].connected_at, at(1));
        // The cgminer leaves the translator: gone from the report before the
        // JDC logs its channel's close.
        for p in translator_log(&l(
            5,
            "🔌 Downstream: 2 disconnected and removed from sv1 server downstreams",
        )) {
            devices.apply(p);
        }
        let left: Vec<String> = t
            .miners_with(&devices)
            .into_iter()
            .map(|m| m.user_identity)
            .collect();
        assert_eq!(left, ["a.nerd", "acct.rig1", "acct.miner3"]);
    }

    #[test]
    fn the_monitoring_api_overrules_the_log_for_old_entries_only() {
        let mut t = replay(&[
            setup(0, "bitaxe"),
            open(0, "Standard", 0, "a.1"),
            setup(1, "SRI"),
            open(1, "Extended", 1, "a.m1"),
            open(1, "Extended", 1, "a.m2"),
        ]);
        let later = Instant::now() + Duration::from_secs(60);
        let clients = [ClientView {
            downstream_id: 1,
            channels: 1,
            identities: Some(vec!["a.m2".into()]),
        }];
        // Too recent to judge: nothing dropped.
        assert_eq!(
            t.reconcile(&clients, Instant::now() - Duration::from_secs(60)),
            0
        );
        assert_eq!(t.miner_count(), 3);
        assert_eq!(t.reconcile(&clients, later), 2);
        assert_eq!(vendors(&t), pairs(&[("SRI", "a.m2")]));
        assert_eq!(t.channel_counts(), [(1, 1)]);
    }
}
