//! [`JdcSummary`]: what an overview of many JDCs needs from each, small
//! enough to ride along as Workers KV metadata (at most 1 KiB per key), so a
//! list of 10,000 JDCs costs 10 KV `list` calls and no reads.
//!
//! The vendor shares count miners by their sanitized vendor
//! ([`sanitize_vendor`]), in n log n whatever the report holds (see
//! [`crate::vendor`]). Two labels stand for miners without a make:
//! [`UNKNOWN_VENDOR`] for those with no vendor, and [`VIA_TRANSLATOR`] for
//! the channels of the SRI translator ([`is_translator`]): those are SV1
//! devices whose make the report does not give, so they are never counted
//! as a vendor `SRI`, just as they never vote for the `userAgent`.

use serde::{Deserialize, Serialize};

use crate::report::{Miner, Report};
#[cfg(doc)]
use crate::vendor::is_translator;
use crate::vendor::{sanitize_vendor, translator_channel, FirstSeen};

/// Workers KV's limit on one key's metadata, in bytes.
pub const MAX_METADATA_BYTES: usize = 1024;

/// Vendors listed per JDC before the rest are folded into one entry.
const MAX_VENDORS: usize = 8;

/// The name of the folded entry, and of miners without a vendor.
pub const OTHER_VENDOR: &str = "(other)";
pub const UNKNOWN_VENDOR: &str = "(unknown)";
/// The entry of the SRI translator's channels ([`is_translator`]).
pub const VIA_TRANSLATOR: &str = "(via translator)";

/// Miners and hash rate of one vendor within a JDC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VendorShare {
    /// The vendor as it reaches the database ([`sanitize_vendor`]), or
    /// [`UNKNOWN_VENDOR`] / [`VIA_TRANSLATOR`] / [`OTHER_VENDOR`].
    pub vendor: String,
    pub miners: usize,
    /// Sum of nominal hash rates, H/s.
    pub hash_rate: f64,
}

/// One live JDC at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct JdcSummary {
    /// The `jdcUserIdentity`. Not kept in the metadata: the key holds it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identity: String,
    /// What the report renames `jd-client/sv2` rows to.
    pub user_agent: Option<String>,
    pub miners: usize,
    /// Sum of nominal hash rates, H/s.
    pub hash_rate: f64,
    /// When the pool last stored this JDC's report (see docs/api.md, What
    /// "last seen" means: an unchanged report is stored again only after
    /// half the TTL).
    pub received_at: String,
    /// When the stored report expires unless the JDC reports again.
    pub expires_at: String,
    /// Miners and hash rate by vendor, most miners first.
    pub vendors: Vec<VendorShare>,
    /// Fingerprint of what the JDC reported (identity and miners, not the
    /// timestamp): an unchanged report need not be stored again.
    pub content: String,
}

impl JdcSummary {
    /// Summarises `report`, stored at `received_at` until `expires_at`.
    pub fn of(
        report: &Report,
        user_agent: Option<String>,
        received_at: &str,
        expires_at: &str,
    ) -> Self {
        let mut vendors: Vec<VendorShare> = tally(
            report
                .miners
                .iter()
                .map(|m| (label(m), m.nominal_hash_rate)),
        )
        .into_iter()
        .map(|(vendor, miners, hash_rate)| VendorShare {
            vendor,
            miners,
            hash_rate,
        })
        .collect();
        // Stable sort: equal counts keep their order of first appearance.
        vendors.sort_by_key(|v| std::cmp::Reverse(v.miners));
        if vendors.len() > MAX_VENDORS {
            let rest = vendors.split_off(MAX_VENDORS - 1);
            vendors.push(VendorShare {
                vendor: OTHER_VENDOR.into(),
                miners: rest.iter().map(|v| v.miners).sum(),
                hash_rate: rest.iter().map(|v| v.hash_rate).sum(),
            });
        }
        JdcSummary {
            identity: String::new(),
            user_agent,
            miners: report.miners.len(),
            hash_rate: report.total_hash_rate(),
            received_at: received_at.into(),
            expires_at: expires_at.into(),
            vendors,
            content: fingerprint(report),
        }
    }
}

/// What a miner is counted under: its sanitized vendor, or a label.
fn label(miner: &Miner) -> String {
    match sanitize_vendor(&miner.vendor) {
        None => UNKNOWN_VENDOR.into(),
        Some(vendor) if translator_channel(&vendor, &miner.hardware_version) => {
            VIA_TRANSLATOR.into()
        }
        Some(vendor) => vendor,
    }
}

/// Miners and summed hash rate by key, in order of first appearance (each
/// sum in the miners' order). Generic so that tests can count its
/// comparisons.
fn tally<K: Ord>(miners: impl IntoIterator<Item = (K, f64)>) -> Vec<(K, usize, f64)> {
    let mut seen = FirstSeen::default();
    let mut sums: Vec<(usize, f64)> = Vec::new();
    for (key, rate) in miners {
        let place = seen.place(key);
        if place == sums.len() {
            sums.push((0, 0.0));
        }
        sums[place].0 += 1;
        sums[place].1 += rate;
    }
    seen.into_keys()
        .into_iter()
        .zip(sums)
        .map(|(key, (miners, rate))| (key, miners, rate))
        .collect()
}

/// FNV-1a (64 bit) over the identity, a zero byte and the miners as JSON,
/// in hex. Stable across builds and platforms, which a stored fingerprint
/// needs; collisions only cost a skipped rewrite of a report that changed,
/// fixed at the next refresh. The JSON is hashed as it is written, never
/// held: for the largest report it would be another 4 MiB.
pub fn fingerprint(report: &Report) -> String {
    let mut fnv = Fnv(0xcbf2_9ce4_8422_2325);
    fnv.add(report.jdc_user_identity.as_bytes());
    fnv.add(&[0]);
    // Writing to a hash cannot fail, and miners always serialise.
    let _ = serde_json::to_writer(&mut fnv, &report.miners);
    format!("{:016x}", fnv.0)
}

/// An FNV-1a hash that JSON can be written into.
struct Fnv(u64);

impl Fnv {
    fn add(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl std::io::Write for Fnv {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.add(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use crate::vendor::counting::{comparisons, keys, n_log_n};

    /// A miner with every string at its longest, for the size bound.
    fn miner(vendor: &str, rate: f64) -> Miner {
        Miner {
            hardware_version: "h".repeat(255),
            firmware: "f".repeat(255),
            device_id: "d".repeat(255),
            ..testing::miner(vendor, rate, &"u".repeat(255))
        }
    }

    fn report(miners: Vec<Miner>) -> Report {
        testing::report("bc1q.jdc", miners)
    }

    #[test]
    fn vendors_are_counted_and_summed_most_miners_first() {
        let r = report(vec![
            miner("NerdQAxe++", 5e12),
            miner("bitaxe", 1e12),
            miner("", 2e12),
            miner("bitaxe", 1.5e12),
        ]);
        let s = JdcSummary::of(&r, Some("bitaxe/sv2".into()), "a", "b");
        assert_eq!((s.miners, s.hash_rate), (4, 9.5e12));
        let shares: Vec<(&str, usize, f64)> = s
            .vendors
            .iter()
            .map(|v| (v.vendor.as_str(), v.miners, v.hash_rate))
            .collect();
        assert_eq!(
            shares,
            [
                ("bitaxe", 2, 2.5e12),
                ("NerdQAxe++", 1, 5e12),
                ("(unknown)", 1, 2e12)
            ]
        );
    }

    #[test]
    fn the_largest_summary_fits_in_kv_metadata() {
        // Twenty distinct vendors of the longest allowed length, and the
        // longest timestamps and user agent.
        let miners = (0..2000)
            .map(|i| miner(&format!("{:0>32}", i % 20), 1.234_567_890_123e15))
            .collect();
        let ua = Some(format!("{}/sv2", "V".repeat(32)));
        let long_time = "2026-02-15T12:00:00.123456789+05:30";
        let s = JdcSummary::of(&report(miners), ua, long_time, long_time);
        assert_eq!(s.vendors.len(), MAX_VENDORS);
        assert_eq!(s.vendors.last().unwrap().vendor, OTHER_VENDOR);
        assert_eq!(s.vendors.iter().map(|v| v.miners).sum::<usize>(), 2000);
        let bytes = serde_json::to_vec(&s).unwrap().len();
        assert!(bytes <= MAX_METADATA_BYTES, "{bytes} bytes");
    }

    #[test]
    fn the_fingerprint_ignores_the_timestamp_and_sees_any_miner_change() {
        let a = report(vec![miner("bitaxe", 1e12)]);
        let mut later = a.clone();
        later.timestamp = "2026-02-15T12:01:00Z".into();
        assert_eq!(fingerprint(&a), fingerprint(&later));
        let mut faster = a.clone();
        faster.miners[0].nominal_hash_rate = 1.1e12;
        assert_ne!(fingerprint(&a), fingerprint(&faster));
        let mut other = a.clone();
        other.jdc_user_identity = "bc1q.jdc2".into();
        assert_ne!(fingerprint(&a), fingerprint(&other));
        assert_eq!(fingerprint(&a).len(), 16);
    }

    #[test]
    fn the_fingerprint_is_stable_across_versions() {
        // Stored summaries carry it: a new build must compute the same one
        // for the same report, or every JDC is written again once. (It
        // changed once, when integral hash rates began to be written as
        // JSON integers, as the spec's example has them.)
        let a = report(vec![testing::miner("bitaxe", 1e12, "bc1q.w")]);
        assert_eq!(fingerprint(&a), "6156901fca5c2c2c");
    }

    #[test]
    fn translator_channels_are_counted_apart_never_as_sri() {
        let translator = |rate| Miner {
            hardware_version: "Translator Proxy".into(),
            ..miner("SRI", rate)
        };
        let sri_device = Miner {
            hardware_version: "BM1370".into(),
            ..miner("SRI", 4e12)
        };
        let r = report(vec![
            translator(1e12),
            miner("bitaxe", 2e12),
            translator(3e12),
            sri_device,
        ]);
        let s = JdcSummary::of(&r, crate::user_agent_for(&r.miners), "a", "b");
        assert_eq!(s.user_agent.as_deref(), Some("bitaxe/sv2"));
        let shares: Vec<(&str, usize, f64)> = s
            .vendors
            .iter()
            .map(|v| (v.vendor.as_str(), v.miners, v.hash_rate))
            .collect();
        assert_eq!(
            shares,
            [
                (VIA_TRANSLATOR, 2, 4e12),
                ("bitaxe", 1, 2e12),
                ("SRI", 1, 4e12)
            ]
        );
        // No sanitized vendor can be taken for a label.
        for name in [UNKNOWN_VENDOR, VIA_TRANSLATOR, OTHER_VENDOR] {
            assert_ne!(sanitize_vendor(name).as_deref(), Some(name));
        }
    }

    #[test]
    fn many_distinct_vendors_cost_n_log_n_comparisons() {
        let n = crate::limits::MAX_MINERS;
        let (shares, one) = comparisons(|| tally(keys(n, false).map(|k| (k, 1.0))));
        assert_eq!(shares.len(), 1);
        assert_eq!((shares[0].1, shares[0].2), (n, n as f64));
        let (shares, distinct) = comparisons(|| tally(keys(n, true).map(|k| (k, 1.0))));
        assert_eq!(shares.len(), n);
        // In order of first appearance.
        assert!(shares
            .iter()
            .enumerate()
            .all(|(i, s)| s.0 .0 == format!("v{i:04}")));
        // A scan of the vendors seen so far would make n²/2 = 2,000,000.
        assert!(one <= 2 * n, "one vendor: {one} comparisons");
        assert!(distinct <= n_log_n(n), "distinct: {distinct} comparisons");
        assert!(distinct <= 32 * one, "distinct {distinct}, one {one}");
        let (_, quarter) = comparisons(|| tally(keys(n / 4, true).map(|k| (k, 1.0))));
        assert!(distinct <= 6 * quarter, "{quarter} then {distinct}");
    }

    #[test]
    fn shares_are_what_a_scan_of_the_miners_gives() {
        // The rule as first written, without the map: a scan of the shares
        // so far, then a stable sort by miners; the same shares and order.
        let vendors = [
            "b", "", "a", "b", "c", "a", "", "b", "d", "e", "f", "g", "h", "i",
        ];
        let miners: Vec<Miner> = vendors
            .iter()
            .enumerate()
            .map(|(i, v)| miner(v, 1e12 + i as f64))
            .collect();
        let mut scanned: Vec<VendorShare> = Vec::new();
        for m in &miners {
            let vendor = sanitize_vendor(&m.vendor).unwrap_or_else(|| UNKNOWN_VENDOR.into());
            match scanned.iter_mut().find(|v| v.vendor == vendor) {
                Some(share) => {
                    share.miners += 1;
                    share.hash_rate += m.nominal_hash_rate;
                }
                None => scanned.push(VendorShare {
                    vendor,
                    miners: 1,
                    hash_rate: m.nominal_hash_rate,
                }),
            }
        }
        scanned.sort_by_key(|v| std::cmp::Reverse(v.miners));
        let rest = scanned.split_off(MAX_VENDORS - 1);
        scanned.push(VendorShare {
            vendor: OTHER_VENDOR.into(),
            miners: rest.iter().map(|v| v.miners).sum(),
            hash_rate: rest.iter().map(|v| v.hash_rate).sum(),
        });
        let s = JdcSummary::of(&report(miners), None, "a", "b");
        assert_eq!(s.vendors, scanned);
    }
}
