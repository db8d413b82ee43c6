//! Each client address's share of the HTTP side: at most
//! `--max-requests-per-address` requests open at once per address.
//!
//! Why per address, and why counted from the first byte: forwarding places
//! (`--max-forwards`) are taken only once a body has arrived, so a client
//! that sends a head and then nothing holds no place; but it still holds a
//! connection, a task and, for a body on its way, up to 4 MiB. Counting
//! every open request against its address bounds what one address can hold
//! while its requests are unfinished, and leaves every other address its
//! own share. A request is one connection (the gateway closes after each
//! answer), so the count is the address's open HTTP connections.
//!
//! An IPv6 client counts by its /64: one host commonly has a whole /64 to
//! choose source addresses from. An IPv4-mapped IPv6 address is its IPv4.
//!
//! A refusal is counted in a metric and logged, at most one line per
//! [`LOG_EVERY`] for the whole gateway, so a client that retries in a loop
//! cannot flood the log.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::metrics::Metrics;

/// The least time between two log lines about refusals.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// The key an address is counted under: itself (IPv4), or its /64 (IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressKey(IpAddr);

impl AddressKey {
    pub fn of(ip: IpAddr) -> AddressKey {
        match ip.to_canonical() {
            IpAddr::V4(v4) => AddressKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                AddressKey(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
        }
    }
}

impl std::fmt::Display for AddressKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// Open requests per address, and the share each may hold.
#[derive(Debug)]
pub struct Shares {
    limit: usize,
    open: Mutex<HashMap<AddressKey, usize>>,
    log: Mutex<LogState>,
    metrics: Arc<Metrics>,
}

#[derive(Debug, Default)]
struct LogState {
    last: Option<Instant>,
    /// Refusals since the last line.
    unlogged: u64,
}

/// A request's place in its address's share, given back on drop.
#[derive(Debug)]
pub struct Place {
    shares: Arc<Shares>,
    key: AddressKey,
}

/// An address already holds its share.
#[derive(Debug, Clone, Copy)]
pub struct Refused {
    /// The share, which the address holds.
    pub limit: usize,
}

impl Shares {
    pub fn new(limit: usize, metrics: Arc<Metrics>) -> Shares {
        Shares {
            limit: limit.max(1),
            open: Mutex::default(),
            log: Mutex::default(),
            metrics,
        }
    }

    /// A place for one more request from `ip`, unless its address already
    /// holds its share; a refusal is counted and (rate-limited) logged.
    pub fn take(self: &Arc<Self>, ip: IpAddr) -> Result<Place, Refused> {
        let key = AddressKey::of(ip);
        {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let held = open.entry(key).or_insert(0);
            if *held < self.limit {
                *held += 1;
                let addresses = open.len();
                drop(open);
                self.metrics.http_addresses.set(addresses as i64);
                return Ok(Place {
                    shares: self.clone(),
                    key,
                });
            }
        }
        self.metrics.share_refusals.inc();
        self.log_refusal(key);
        Err(Refused { limit: self.limit })
    }

    /// Requests open now from `ip`'s address.
    pub fn held(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&AddressKey::of(ip)).copied().unwrap_or(0)
    }

    fn give_back(&self, key: AddressKey) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(held) = open.get_mut(&key) {
            *held -= 1;
            if *held == 0 {
                // No entry outlives its address's last request.
                open.remove(&key);
            }
        }
        let addresses = open.len();
        drop(open);
        self.metrics.http_addresses.set(addresses as i64);
    }

    fn log_refusal(&self, key: AddressKey) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.unlogged += 1;
        let now = Instant::now();
        if log
            .last
            .is_some_and(|last| now.duration_since(last) < LOG_EVERY)
        {
            return;
        }
        let refused = std::mem::take(&mut log.unlogged);
        log.last = Some(now);
        drop(log);
        tracing::warn!(
            peer = %key, share = self.limit, refused,
            "an address holds its share of open HTTP requests (--max-requests-per-address); \
             more from it get 429 (at most one such line every {} s)",
            LOG_EVERY.as_secs()
        );
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.shares.give_back(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_holds_at_most_its_share_and_gives_it_back() {
        let metrics = Arc::new(Metrics::new());
        let shares = Arc::new(Shares::new(2, metrics.clone()));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = shares.take(a).unwrap();
        let second = shares.take(a).unwrap();
        assert_eq!(shares.take(a).unwrap_err().limit, 2);
        // Another address has its own share.
        let other = shares.take(b).unwrap();
        assert_eq!(metrics.http_addresses.get(), 2);
        assert_eq!(metrics.share_refusals.get(), 1);
        drop(first);
        let third = shares.take(a).unwrap();
        drop((second, third, other));
        assert_eq!(shares.held(a), 0);
        assert_eq!(metrics.http_addresses.get(), 0);
        assert!(shares.open.lock().unwrap().is_empty());
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let key = |s: &str| AddressKey::of(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_eq!(key("2001:db8:1:2::1").to_string(), "2001:db8:1:2::/64");
        assert_eq!(key("192.0.2.7").to_string(), "192.0.2.7");
    }
}
