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

/// The parser and the tracker, fed line by line.
#[derive(Debug, Default)]
pub struct Feed {
    parser: Parser,
    tracker: Tracker,
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

    /// Reads one whole line.
    pub fn line(&mut self, line: &str) {
        self.lines += 1;
        let Some(parsed) = self.parser.parse(line) else {
            return;
        };
        let change = self.tracker.apply(parsed, Instant::now());
        if self.verbose {
            match change {
                // A restart or shutdown prints several such lines; only the
                // one that dropped miners is news.
                Some(Change::Cleared { miners: 0, .. }) | None => {}
                Some(change) => log::info(describe(&change)),
            }
        }
    }

    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    pub fn tracker_mut(&mut self) -> &mut Tracker {
        &mut self.tracker
    }

    pub fn miners(&self) -> Vec<Miner> {
        self.tracker.miners()
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.lines
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
