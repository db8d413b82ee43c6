//! What the parser hands out: the [`Event`]s that change who is connected,
//! each with the [`Stamp`] of the line that said it.

use chrono::{DateTime, FixedOffset};

/// The two kinds of mining channel a downstream can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Standard,
    Extended,
}

/// What a device said about itself in `SetupConnection`. Any field may be
/// empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    pub vendor: String,
    pub hardware_version: String,
    pub firmware: String,
    pub device_id: String,
}

/// Why the JDC dropped every downstream at once, without a line per miner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    /// The JDC (re)started its downstream server: downstream ids restart at 0.
    Started,
    /// The pool or JDS connection dropped and the JDC is falling back.
    UpstreamLost,
    /// The JDC is shutting down.
    Shutdown,
}

/// Something that changes who is connected.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `Received: SetupConnection(..)`: a new downstream introduced itself.
    /// It carries no downstream id; the tracker pairs it with the next new
    /// downstream that opens a channel.
    Setup(Device),
    /// `Rejecting ...`: the SetupConnection logged just before was refused.
    SetupRejected,
    /// `Failed to set up downstream connection e=JDCError { kind: K, ..
    /// Disconnect(N) .. }`: downstream N never got past SetupConnection.
    /// `setup_logged` when K is an error raised after its SetupConnection was
    /// logged (a refusal, or the answer could not be sent); not when the
    /// first message was something else or never came.
    SetupFailed {
        downstream_id: Option<u32>,
        setup_logged: bool,
    },
    /// `Received: Open{Standard,Extended}MiningChannel(..) downstream_id=N`.
    ChannelOpened {
        kind: ChannelKind,
        downstream_id: u32,
        user_identity: String,
        /// `None` when the number could not be read at all.
        nominal_hash_rate: Option<f64>,
    },
    /// `Failed to create standard channel` and friends: the channel opened
    /// just before was refused (the downstream stays connected).
    ChannelFailed,
    /// `Received: CloseChannel(channel_id: C, ..)`: a downstream closed one
    /// of its channels (a translator's SV1 device left). The line has no
    /// downstream id; channel ids are counted per downstream.
    ChannelClosed { channel_id: u32 },
    /// Downstream N is gone, in any of the wordings SRI has used.
    Disconnected { downstream_id: u32 },
    /// Every downstream is gone.
    Reset(Reset),
}

/// A log line's own timestamp: the text as printed (it becomes a miner's
/// `connectedAt`) and its value (for the pairing window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub text: String,
    pub time: DateTime<FixedOffset>,
}

impl Stamp {
    /// Reads an RFC 3339 timestamp; `None` for anything else.
    pub fn parse(text: &str) -> Option<Stamp> {
        let time = DateTime::parse_from_rfc3339(text).ok()?;
        Some(Stamp {
            text: text.to_owned(),
            time,
        })
    }
}

/// An event and when the JDC logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub at: Stamp,
    pub event: Event,
}

#[cfg(test)]
mod tests {
    use super::Stamp;

    #[test]
    fn a_stamp_is_an_rfc_3339_timestamp_kept_as_printed() {
        let stamp = Stamp::parse("2026-11-24T18:36:12.581187Z").unwrap();
        assert_eq!(stamp.text, "2026-11-24T18:36:12.581187Z");
        assert_eq!(stamp.time.timestamp(), 1_795_545_372);
        for text in ["2026-13-99T99:99:99.000000Z", "2026-11-24", "garbage", ""] {
            assert_eq!(Stamp::parse(text), None, "{text}");
        }
    }
}
