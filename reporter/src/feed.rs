//! Whole lines in, the miner table updated: the one piece of state the input
//! side writes and the sending side reads.
//!
//! Why a plain mutex: reading lines must never wait for the network (a JDC
//! writing into our pipe would block on a full pipe), and the sender only
//! needs a snapshot once a minute. The lock is held for a batch of lines or
//! for one snapshot, never across an `.await`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use dmr_shared::Miner;

use crate::log;
use crate::parse::{Parser, Reset};
use crate::tracker::{Change, Tracker};
use crate::translator::{self, Devices};

/// Whose output a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The JD-Client's.
    Jdc,
    /// The SRI translator's in front of it (`--translator-log`).
    Translator,
}

/// The parsers and the tables, fed line by line.
#[derive(Debug, Default)]
pub struct Feed {
    parser: Parser,
    tracker: Tracker,
    translator: translator::log::Parser,
    devices: Devices,
    /// Log every change of the table (`--verbose`).
    verbose: bool,
    lines: u64,
}

/// A [`Feed`] shared between the input task and the sender.
pub type SharedFeed = Arc<Mutex<Feed>>;

impl Feed {
    pub fn new(verbose: bool) -> Self {
        Self {
            verbose,
            ..Self::default()
        }
    }

    pub fn shared(verbose: bool) -> SharedFeed {
        Arc::new(Mutex::new(Self::new(verbose)))
    }

    /// Reads one whole line. Its event may wait for the lines after it (see
    /// [`crate::parse`]): call [`Feed::flush`] once the input has caught up.
    pub fn line(&mut self, line: &str) {
        self.lines += 1;
        let Feed {
            parser,
            tracker,
            verbose,
            ..
        } = self;
        parser.push(line, &mut |parsed| apply(tracker, *verbose, parsed));
    }

    /// Reads one whole line of `source`; see [`Feed::line`].
    pub fn line_of(&mut self, source: Source, line: &str) {
        match source {
            Source::Jdc => self.line(line),
            Source::Translator => {
                self.lines += 1;
                let Feed {
                    translator,
                    devices,
                    ..
                } = self;
                translator.push(line, &mut |parsed| devices.apply(parsed));
            }
        }
    }

    /// `source` has caught up: apply what can be decided.
    pub fn flush_of(&mut self, source: Source) {
        match source {
            Source::Jdc => self.flush(),
            Source::Translator => {
                let Feed {
                    translator,
                    devices,
                    ..
                } = self;
                translator.flush(&mut |parsed| devices.apply(parsed));
            }
        }
    }

    /// `source` has ended: apply everything.
    pub fn finish_of(&mut self, source: Source) {
        match source {
            Source::Jdc => self.finish(),
            Source::Translator => {
                let Feed {
                    translator,
                    devices,
                    ..
                } = self;
                translator.finish(&mut |parsed| devices.apply(parsed));
            }
        }
    }

    /// The input has caught up with the JDC: apply what can be decided.
    pub fn flush(&mut self) {
        let Feed {
            parser,
            tracker,
            verbose,
            ..
        } = self;
        parser.flush(&mut |parsed| apply(tracker, *verbose, parsed));
    }

    /// The input has ended: apply everything.
    pub fn finish(&mut self) {
        let Feed {
            parser,
            tracker,
            verbose,
            ..
        } = self;
        parser.finish(&mut |parsed| apply(tracker, *verbose, parsed));
    }

    /// Reads whole lines and applies them at once, as a caught-up input does.
    pub fn lines_now<'a>(&mut self, lines: impl IntoIterator<Item = &'a str>) {
        for line in lines {
            self.line(line);
        }
        self.flush();
    }

    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    pub fn tracker_mut(&mut self) -> &mut Tracker {
        &mut self.tracker
    }

    /// The translator's SV1 devices.
    pub fn devices_mut(&mut self) -> &mut Devices {
        &mut self.devices
    }

    /// The miners to report: the JDC's, with a translator's channels named
    /// by the devices behind them.
    pub fn miners(&self) -> Vec<Miner> {
        self.tracker.miners_with(&self.devices)
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }
}

fn apply(tracker: &mut Tracker, verbose: bool, parsed: crate::parse::Parsed) {
    let change = tracker.apply(parsed, Instant::now());
    if verbose {
        match change {
            // A restart or shutdown prints several such lines; only the
            // one that dropped miners is news.
            Some(Change::Cleared { miners: 0, .. }) | None => {}
            Some(change) => log::info(describe(&change)),
        }
    }
}

/// Locks a shared feed. A panic while holding the lock cannot leave the table
/// half-updated in a way that matters (the worst is one line applied twice
/// or not at all), so a poisoned lock is simply taken over.
pub fn lock(feed: &SharedFeed) -> MutexGuard<'_, Feed> {
    feed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn describe(change: &Change) -> String {
    match change {
        Change::MinerAdded {
            downstream_id,
            vendor,
            user_identity,
        } => {
            let vendor = if vendor.is_empty() { "?" } else { vendor };
            format!("miner connected downstream_id={downstream_id} vendor={vendor:?} user_identity={user_identity:?}")
        }
        Change::ChannelRefused { downstream_id } => {
            format!("channel refused by the JDC downstream_id={downstream_id}")
        }
        Change::Gone {
            downstream_id,
            miners,
        } => format!("downstream disconnected downstream_id={downstream_id} miners={miners}"),
        Change::Cleared { reset, miners } => {
            let why = match reset {
                Reset::Started => "the JDC (re)started",
                Reset::UpstreamLost => "the JDC lost its upstream",
                Reset::Shutdown => "the JDC is shutting down",
            };
            format!("all miners dropped: {why} miners={miners}")
        }
    }
}
