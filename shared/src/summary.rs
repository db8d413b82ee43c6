//! [`JdcSummary`]: what an overview of many JDCs needs from each, small
//! enough to ride along as Workers KV metadata (at most 1 KiB per key), so a
//! list of 10,000 JDCs costs 10 KV `list` calls and no reads.

use serde::{Deserialize, Serialize};

use crate::report::Report;
use crate::vendor::sanitize_vendor;

/// Workers KV's limit on one key's metadata, in bytes.
pub const MAX_METADATA_BYTES: usize = 1024;

/// Vendors listed per JDC before the rest are folded into one entry.
const MAX_VENDORS: usize = 8;

/// The name of the folded entry, and of miners without a vendor.
pub const OTHER_VENDOR: &str = "(other)";
pub const UNKNOWN_VENDOR: &str = "(unknown)";

/// Miners and hash rate of one vendor within a JDC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VendorShare {
    /// The vendor as it reaches the database ([`sanitize_vendor`]), or
    /// [`UNKNOWN_VENDOR`] / [`OTHER_VENDOR`].
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
    /// When the pool last stored this JDC's report (see the README's
    /// "last seen" note: an unchanged report is stored again only after
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
        let mut vendors: Vec<VendorShare> = Vec::new();
        for miner in &report.miners {
            let vendor = sanitize_vendor(&miner.vendor).unwrap_or_else(|| UNKNOWN_VENDOR.into());
            match vendors.iter_mut().find(|v| v.vendor == vendor) {
                Some(share) => {
                    share.miners += 1;
                    share.hash_rate += miner.nominal_hash_rate;
                }
                None => vendors.push(VendorShare {
                    vendor,
                    miners: 1,
                    hash_rate: miner.nominal_hash_rate,
                }),
            }
        }
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

/// FNV-1a (64 bit) over the identity and the miners as JSON, in hex. Stable
/// across builds and platforms, which a stored fingerprint needs; collisions
/// only cost a skipped rewrite of a report that changed, fixed at the next
/// refresh.
pub fn fingerprint(report: &Report) -> String {
    let miners = serde_json::to_vec(&report.miners).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in report
        .jdc_user_identity
        .as_bytes()
        .iter()
        .chain([0u8].iter())
        .chain(miners.iter())
    {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Miner;
    use crate::testing;

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
}
