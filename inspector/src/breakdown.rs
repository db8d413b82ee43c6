//! Miners and hash rate by vendor across the served JDCs, as the chart shows
//! them: the largest vendors, then one bar for all the others, so the chart
//! stays readable with fifty vendors. Pure, so the arithmetic and the text
//! are tested natively.

use std::collections::HashMap;

use dmr_shared::summary::OTHER_VENDOR;
use dmr_shared::JdcSummary;

use crate::format;

/// Vendors the chart shows by name when there are too many for a bar each;
/// the rest share one [`OTHER_VENDOR`] bar.
pub const TOP_VENDORS: usize = 8;

/// One bar of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorTotal {
    /// The vendor as the pool names it (sanitized as for `userAgent`), or
    /// `(unknown)` for miners with no vendor, or [`OTHER_VENDOR`] for the
    /// bar that adds up the rest.
    pub vendor: String,
    /// How many miners report it.
    pub miners: usize,
    /// Their nominal hash rate, in H/s.
    pub hash_rate: f64,
}

impl VendorTotal {
    fn empty(vendor: &str) -> Self {
        VendorTotal {
            vendor: vendor.into(),
            miners: 0,
            hash_rate: 0.0,
        }
    }
}

/// Miners and hash rate by vendor, across JDCs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Breakdown {
    /// At most [`TOP_VENDORS`] + 1 bars: largest hash rate first (ties by
    /// miner count, then by name), [`OTHER_VENDOR`] last.
    pub vendors: Vec<VendorTotal>,
    /// All miners counted.
    pub miners: usize,
    /// Their nominal hash rate, in H/s.
    pub hash_rate: f64,
}

impl Breakdown {
    /// Adds up the per-JDC vendor shares of `jdcs`: O(s + v log v) for s
    /// shares (at most 8 per JDC) and v distinct vendors (a hash map finds
    /// each share's vendor).
    ///
    /// Each JDC's summary already folds its ninth vendor on into
    /// [`OTHER_VENDOR`]; those shares go into the chart's own "other" bar,
    /// since they mix vendors that cannot be told apart any more.
    pub fn of<'a>(jdcs: impl IntoIterator<Item = &'a JdcSummary>) -> Self {
        // Vendor -> its place in `vendors`.
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut vendors: Vec<VendorTotal> = Vec::new();
        let mut other: Option<VendorTotal> = None;
        let (mut miners, mut hash_rate) = (0, 0.0);
        for share in jdcs.into_iter().flat_map(|j| &j.vendors) {
            let total = if share.vendor == OTHER_VENDOR {
                other.get_or_insert_with(|| VendorTotal::empty(OTHER_VENDOR))
            } else {
                let i = match index.get(share.vendor.as_str()) {
                    Some(&i) => i,
                    None => {
                        index.insert(share.vendor.clone(), vendors.len());
                        vendors.push(VendorTotal::empty(&share.vendor));
                        vendors.len() - 1
                    }
                };
                &mut vendors[i]
            };
            total.miners += share.miners;
            total.hash_rate += share.hash_rate;
            miners += share.miners;
            hash_rate += share.hash_rate;
        }
        // Names are distinct, so the order is total and need not be stable.
        vendors.sort_unstable_by(|x, y| {
            y.hash_rate
                .total_cmp(&x.hash_rate)
                .then(y.miners.cmp(&x.miners))
                .then_with(|| x.vendor.cmp(&y.vendor))
        });
        // Fold only when it saves a bar: a lone "other" vendor gets its own.
        if vendors.len() + usize::from(other.is_some()) > TOP_VENDORS + 1 {
            let rest = other.get_or_insert_with(|| VendorTotal::empty(OTHER_VENDOR));
            for v in vendors.drain(TOP_VENDORS..) {
                rest.miners += v.miners;
                rest.hash_rate += v.hash_rate;
            }
        }
        vendors.extend(other);
        Breakdown {
            vendors,
            miners,
            hash_rate,
        }
    }

    /// `v`'s share of the hash rate, 0..=1 (0 when there is none at all).
    pub fn hash_share(&self, v: &VendorTotal) -> f64 {
        fraction(v.hash_rate, self.hash_rate)
    }

    /// `v`'s share of the miners, 0..=1 (0 when there are none).
    pub fn miner_share(&self, v: &VendorTotal) -> f64 {
        fraction(v.miners as f64, self.miners as f64)
    }

    /// The numbers under a bar: `5.00 TH/s · 1 miner (25%)`.
    pub fn numbers(&self, v: &VendorTotal) -> String {
        format!(
            "{} · {} ({})",
            format::hash_rate(v.hash_rate),
            format::count(v.miners, "miner", "miners"),
            format::percent(self.miner_share(v))
        )
    }

    /// The whole chart in words, for screen readers.
    pub fn description(&self) -> String {
        let parts: Vec<String> = self
            .vendors
            .iter()
            .map(|v| {
                format!(
                    "{}: {}, {}",
                    v.vendor,
                    format::count(v.miners, "miner", "miners"),
                    format::hash_rate(v.hash_rate)
                )
            })
            .collect();
        format!("Miners and hash rate by vendor. {}", parts.join("; "))
    }
}

/// `part / whole` clamped to 0..=1; 0 when `whole` is not positive.
pub fn fraction(part: f64, whole: f64) -> f64 {
    if whole > 0.0 && part.is_finite() {
        (part / whole).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// A bar's width for a share, as an SVG length; a sliver stays visible for
/// a non-zero share.
pub fn bar_width(share: f64) -> String {
    if share > 0.0 {
        format!("{}%", format::fixed((share * 100.0).clamp(0.5, 100.0), 2))
    } else {
        "0".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{miner, summary};
    use dmr_shared::summary::UNKNOWN_VENDOR;

    const AT: &str = "2026-11-26T02:00:00Z";

    fn bars(b: &Breakdown) -> Vec<(&str, usize, f64)> {
        b.vendors
            .iter()
            .map(|v| (v.vendor.as_str(), v.miners, v.hash_rate))
            .collect()
    }

    #[test]
    fn breakdown_adds_up_vendors_across_jdcs_largest_first() {
        let jdcs = [
            summary(
                "bc1qa",
                AT,
                vec![
                    miner("bitaxe", 1e12, "a.1"),
                    miner(" bitaxe ", 1e12, "a.2"),
                    miner("", 0.5e12, "a.3"),
                ],
            ),
            summary(
                "bc1qb",
                AT,
                vec![
                    miner("NerdQAxe++", 5e12, "b.1"),
                    miner("BitAxe", 1e12, "b.2"),
                ],
            ),
        ];
        let b = Breakdown::of(&jdcs);
        assert_eq!(
            bars(&b),
            [
                ("NerdQAxe++", 1, 5e12),
                ("bitaxe", 2, 2e12),
                ("BitAxe", 1, 1e12),
                (UNKNOWN_VENDOR, 1, 0.5e12),
            ]
        );
        assert_eq!((b.miners, b.hash_rate), (5, 8.5e12));
        assert_eq!(b.hash_share(&b.vendors[0]), 5.0 / 8.5);
        assert_eq!(b.miner_share(&b.vendors[1]), 0.4);
        let shares: f64 = b.vendors.iter().map(|v| b.hash_share(v)).sum();
        assert!((shares - 1.0).abs() < 1e-12);
        assert_eq!(b.numbers(&b.vendors[1]), "2.00 TH/s · 2 miners (40%)");
        assert_eq!(
            b.description(),
            "Miners and hash rate by vendor. NerdQAxe++: 1 miner, 5.00 TH/s; \
             bitaxe: 2 miners, 2.00 TH/s; BitAxe: 1 miner, 1.00 TH/s; \
             (unknown): 1 miner, 500 GH/s"
        );
    }

    #[test]
    fn the_folded_other_vendors_of_several_jdcs_make_one_bar_at_the_end() {
        // Ten vendors per JDC: each summary names 7 and folds 3 into "(other)".
        let many = |id: &str| {
            let miners = (0..10)
                .map(|i| miner(&format!("v{i}"), 1e12, "w"))
                .collect();
            summary(id, AT, miners)
        };
        let b = Breakdown::of(&[many("bc1qa"), many("bc1qb")]);
        assert_eq!(b.vendors.len(), 8);
        let other = b.vendors.last().unwrap();
        assert_eq!(
            (other.vendor.as_str(), other.miners, other.hash_rate),
            (OTHER_VENDOR, 6, 6e12),
            "largest, yet last"
        );
        assert_eq!(b.miners, 20);
    }

    #[test]
    fn fifty_vendors_show_as_the_top_ones_and_one_other_bar() {
        // JDC i runs two miners of vendor i % 50, each at (vendor + 1) TH/s.
        let jdcs: Vec<_> = (0..1000)
            .map(|i| {
                let v = i % 50;
                let rate = (v + 1) as f64 * 1e12;
                let name = format!("vendor-{v:02}");
                summary(
                    &format!("bc1q{i:04}"),
                    AT,
                    vec![miner(&name, rate, "w.1"), miner(&name, rate, "w.2")],
                )
            })
            .collect();
        let b = Breakdown::of(&jdcs);
        let names: Vec<&str> = b.vendors.iter().map(|v| v.vendor.as_str()).collect();
        assert_eq!(
            names,
            [
                "vendor-49",
                "vendor-48",
                "vendor-47",
                "vendor-46",
                "vendor-45",
                "vendor-44",
                "vendor-43",
                "vendor-42",
                OTHER_VENDOR
            ]
        );
        // Vendor v: 20 JDCs x 2 miners x (v + 1) TH/s.
        assert_eq!(bars(&b)[0], ("vendor-49", 40, 40.0 * 50e12));
        let other = b.vendors.last().unwrap();
        let other_rate: f64 = (0..42).map(|v| 40.0 * (v + 1) as f64 * 1e12).sum();
        assert_eq!((other.miners, other.hash_rate), (42 * 40, other_rate));
        assert_eq!((b.miners, b.hash_rate), (2000, 40.0 * 1275.0 * 1e12));
        let counted: usize = b.vendors.iter().map(|v| v.miners).sum();
        assert_eq!(counted, b.miners, "nothing lost in the fold");
    }

    #[test]
    fn one_vendor_too_many_keeps_its_own_bar() {
        let names = |count: usize| -> Vec<String> {
            let miners = (0..count)
                .map(|i| miner(&format!("v{i}"), (i + 1) as f64, "w"))
                .collect::<Vec<_>>();
            // One JDC per miner, so no summary folds anything itself.
            let jdcs: Vec<_> = miners
                .into_iter()
                .enumerate()
                .map(|(i, m)| summary(&format!("bc1q{i}"), AT, vec![m]))
                .collect();
            Breakdown::of(&jdcs)
                .vendors
                .into_iter()
                .map(|v| v.vendor)
                .collect()
        };
        let nine = names(TOP_VENDORS + 1);
        assert_eq!(nine.len(), TOP_VENDORS + 1);
        assert!(!nine.iter().any(|v| v == OTHER_VENDOR));
        let ten = names(TOP_VENDORS + 2);
        assert_eq!(ten.len(), TOP_VENDORS + 1);
        assert_eq!(ten.last().unwrap(), OTHER_VENDOR);
        assert_eq!(ten[0], format!("v{}", TOP_VENDORS + 1), "largest first");
    }

    #[test]
    fn breakdown_ties_go_to_more_miners_then_to_the_name() {
        let jdcs = [summary(
            "bc1qa",
            AT,
            vec![
                miner("b", 2e12, "1"),
                miner("a", 2e12, "2"),
                miner("c", 1e12, "3"),
                miner("c", 1e12, "4"),
            ],
        )];
        let order: Vec<String> = Breakdown::of(&jdcs)
            .vendors
            .into_iter()
            .map(|v| v.vendor)
            .collect();
        assert_eq!(order, ["c", "a", "b"]);
    }

    #[test]
    fn an_empty_breakdown_has_no_shares_and_no_division_by_zero() {
        let jdcs = [summary("bc1qa", AT, vec![miner("x", 0.0, "1")])];
        let b = Breakdown::of(&jdcs);
        assert_eq!(b.hash_share(&b.vendors[0]), 0.0);
        assert_eq!(b.miner_share(&b.vendors[0]), 1.0);
        assert_eq!(Breakdown::of([]), Breakdown::default());
        assert_eq!(fraction(1.0, 0.0), 0.0);
        assert_eq!(fraction(3.0, 2.0), 1.0);
        assert_eq!(fraction(f64::NAN, 2.0), 0.0);
    }

    #[test]
    fn bars_keep_a_visible_sliver() {
        let cases = [
            (0.0, "0"),
            (0.001, "0.50%"),
            (0.005, "0.50%"),
            (0.25, "25.00%"),
            (2.0 / 3.0, "66.67%"),
            (1.0, "100.00%"),
        ];
        for (share, want) in cases {
            assert_eq!(bar_width(share), want, "{share}");
        }
    }
}
