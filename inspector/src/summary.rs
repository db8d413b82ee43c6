//! What the page derives from the JDC summaries: each JDC's timing and
//! health against the browser clock, the totals, the vendor breakdown and
//! the filter. Pure, so the arithmetic is tested natively.

use chrono::{DateTime, Utc};
use dmr_shared::limits::{REPORT_TTL_SECS, STALE_AFTER_SECS};
use dmr_shared::{JdcSummary, Miner};

/// Where a JDC stands, as the page colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Its stored report is at most [`STALE_AFTER_SECS`] old.
    Live,
    /// Missed a report (stored copy older than [`STALE_AFTER_SECS`]) but
    /// still served: it expires at `expiresAt` unless a report arrives.
    Stale,
    /// Listed before, no longer served: its report expired.
    Gone,
}

impl Health {
    /// The word on the badge and in `data-state`.
    pub fn label(self) -> &'static str {
        match self {
            Health::Live => "live",
            Health::Stale => "stale",
            Health::Gone => "gone",
        }
    }
}

/// An RFC 3339 time from the API, in UTC; `None` if it does not parse.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// One JDC's report timing, seen from the browser clock at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Seconds since the pool stored the report (negative if the browser
    /// clock is behind the pool's).
    pub age_secs: i64,
    /// Seconds until the pool forgets it (negative once past).
    pub expires_in_secs: i64,
}

impl Timing {
    /// Timing of `jdc` at `now`; `None` if `receivedAt` does not parse. A
    /// missing or broken `expiresAt` is taken as `receivedAt` plus the
    /// protocol TTL, which is what the pool uses.
    pub fn of(jdc: &JdcSummary, now: DateTime<Utc>) -> Option<Self> {
        let received = parse_time(&jdc.received_at)?;
        let expires = parse_time(&jdc.expires_at)
            .unwrap_or(received + chrono::Duration::seconds(REPORT_TTL_SECS as i64));
        Some(Timing {
            age_secs: (now - received).num_seconds(),
            expires_in_secs: (expires - now).num_seconds(),
        })
    }

    /// Missed a report: stored copy older than [`STALE_AFTER_SECS`].
    pub fn is_stale(self) -> bool {
        self.age_secs > STALE_AFTER_SECS as i64
    }
}

/// Health of `jdc`: `gone` if the API no longer lists it, else stale or
/// live by its age at `now`. A JDC whose time cannot be read counts as
/// stale: nothing says it is fresh.
pub fn health(jdc: &JdcSummary, gone: bool, now: DateTime<Utc>) -> Health {
    if gone {
        return Health::Gone;
    }
    match Timing::of(jdc, now) {
        Some(t) if !t.is_stale() => Health::Live,
        _ => Health::Stale,
    }
}

/// The numbers at the top of the page, over the JDCs still served.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    /// JDCs with a live or stale report.
    pub jdcs: usize,
    /// Of those, how many are stale.
    pub stale: usize,
    /// Miners across them.
    pub miners: usize,
    /// Their nominal hash rate, in H/s.
    pub hash_rate: f64,
}

impl Totals {
    /// Totals over `jdcs` (those the API still serves) at `now`.
    pub fn of<'a>(jdcs: impl IntoIterator<Item = &'a JdcSummary>, now: DateTime<Utc>) -> Self {
        let mut totals = Totals::default();
        for jdc in jdcs {
            totals.jdcs += 1;
            if health(jdc, false, now) == Health::Stale {
                totals.stale += 1;
            }
            totals.miners += jdc.miners;
            totals.hash_rate += jdc.hash_rate;
        }
        totals
    }
}

/// One vendor's slice of the breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorTotal {
    /// The vendor as the pool names it: sanitized as for `userAgent`, or
    /// `(unknown)` for no vendor, `(other)` for a JDC's ninth vendor on.
    pub vendor: String,
    /// How many miners report it.
    pub miners: usize,
    /// Their nominal hash rate, in H/s.
    pub hash_rate: f64,
}

/// Miners and hash rate by vendor, across JDCs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Breakdown {
    /// Largest hash rate first; ties by miner count, then by name.
    pub vendors: Vec<VendorTotal>,
    /// All miners counted.
    pub miners: usize,
    /// Their nominal hash rate, in H/s.
    pub hash_rate: f64,
}

impl Breakdown {
    /// Adds up the per-JDC vendor shares of `jdcs`.
    pub fn of<'a>(jdcs: impl IntoIterator<Item = &'a JdcSummary>) -> Self {
        let mut b = Breakdown::default();
        for share in jdcs.into_iter().flat_map(|j| &j.vendors) {
            // Few vendors: a linear scan is cheaper than a map in wasm size.
            match b.vendors.iter_mut().find(|v| v.vendor == share.vendor) {
                Some(v) => {
                    v.miners += share.miners;
                    v.hash_rate += share.hash_rate;
                }
                None => b.vendors.push(VendorTotal {
                    vendor: share.vendor.clone(),
                    miners: share.miners,
                    hash_rate: share.hash_rate,
                }),
            }
            b.miners += share.miners;
            b.hash_rate += share.hash_rate;
        }
        // Insertion sort: a few vendors, and no sort code in the page's
        // WebAssembly.
        for i in 1..b.vendors.len() {
            let mut j = i;
            while j > 0 && ranks_before(&b.vendors[j], &b.vendors[j - 1]) {
                b.vendors.swap(j, j - 1);
                j -= 1;
            }
        }
        b
    }

    /// `v`'s share of the hash rate, 0..=1 (0 when there is none at all).
    pub fn hash_share(&self, v: &VendorTotal) -> f64 {
        fraction(v.hash_rate, self.hash_rate)
    }

    /// `v`'s share of the miners, 0..=1 (0 when there are none).
    pub fn miner_share(&self, v: &VendorTotal) -> f64 {
        fraction(v.miners as f64, self.miners as f64)
    }
}

/// Chart order: larger hash rate first, then more miners, then by name.
fn ranks_before(x: &VendorTotal, y: &VendorTotal) -> bool {
    y.hash_rate
        .total_cmp(&x.hash_rate)
        .then(y.miners.cmp(&x.miners))
        .then_with(|| x.vendor.cmp(&y.vendor))
        .is_lt()
}

/// `part / whole` clamped to 0..=1; 0 when `whole` is not positive.
pub fn fraction(part: f64, whole: f64) -> f64 {
    if whole > 0.0 && part.is_finite() {
        (part / whole).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// The filter box: a case-insensitive substring of a JDC's identity,
/// `userAgent` or vendors, or of a miner's vendor or worker identity.
/// Worker identities are only in the full reports, which the page reads for
/// open rows; so a worker matches in open rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    needle: String,
}

impl Filter {
    /// Filter for what was typed; surrounding spaces are ignored.
    pub fn new(query: &str) -> Self {
        Filter {
            needle: query.trim().to_string(),
        }
    }

    /// Nothing typed: everything shows.
    pub fn is_empty(&self) -> bool {
        self.needle.is_empty()
    }

    /// ASCII-only case folding: identities, worker names and (sanitized)
    /// vendors are ASCII, and Unicode case tables would cost the page ~10 KB.
    fn hits(&self, text: &str) -> bool {
        let needle = self.needle.as_bytes();
        needle.len() <= text.len()
            && text
                .as_bytes()
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
    }

    /// Whether the JDC itself matches: empty filter, identity, `userAgent`
    /// or one of its vendors.
    pub fn matches_jdc(&self, jdc: &JdcSummary) -> bool {
        self.is_empty()
            || self.hits(&jdc.identity)
            || jdc.user_agent.as_deref().is_some_and(|ua| self.hits(ua))
            || jdc.vendors.iter().any(|v| self.hits(&v.vendor))
    }

    /// Which of a JDC's `miners` to show: all of them when the JDC itself
    /// matches (`jdc_matches`), else those whose vendor or worker matches.
    pub fn miners<'a>(&self, jdc_matches: bool, miners: &'a [Miner]) -> Vec<&'a Miner> {
        miners
            .iter()
            .filter(|m| jdc_matches || self.hits(&m.vendor) || self.hits(&m.user_identity))
            .collect()
    }
}

/// A stable key for each miner row, so a refresh keeps the rows that did not
/// change: every field (a changed miner is a new row), plus a counter for
/// identical twins.
pub fn miner_keys(miners: &[&Miner]) -> Vec<String> {
    let bases: Vec<String> = miners
        .iter()
        .map(|m| {
            format!(
                "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
                m.user_identity,
                m.connected_at,
                m.device_id,
                m.vendor,
                m.hardware_version,
                m.firmware,
                m.nominal_hash_rate.to_bits()
            )
        })
        .collect();
    // Number identical twins in order of appearance, counting them in a
    // sorted list: O(n log n) lookups for the thousands of miners a big JDC
    // may carry, and no sort code in the page's WebAssembly.
    let mut seen: Vec<(&str, usize)> = Vec::new();
    let mut keys = Vec::with_capacity(bases.len());
    for base in &bases {
        let twin = match seen.binary_search_by(|(b, _)| (*b).cmp(base.as_str())) {
            Ok(i) => {
                seen[i].1 += 1;
                seen[i].1
            }
            Err(i) => {
                seen.insert(i, (base.as_str(), 0));
                0
            }
        };
        keys.push(format!("{base}#{twin}"));
    }
    keys
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use dmr_shared::summary::{OTHER_VENDOR, UNKNOWN_VENDOR};
    use dmr_shared::{Report, StoredReport};

    pub(crate) fn t(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap()
    }

    pub(crate) fn miner(vendor: &str, worker: &str, hps: f64) -> Miner {
        Miner {
            vendor: vendor.into(),
            hardware_version: "BM1370".into(),
            firmware: "v2.4".into(),
            device_id: String::new(),
            nominal_hash_rate: hps,
            user_identity: worker.into(),
            connected_at: "2026-11-26T01:00:00Z".into(),
        }
    }

    /// A stored report received at `received` (expiring 300 s later).
    pub(crate) fn stored(identity: &str, received: &str, miners: Vec<Miner>) -> StoredReport {
        let received_at = t(received);
        let user_agent = dmr_shared::user_agent_for(&miners);
        StoredReport {
            report: Report {
                schema_version: 1,
                jdc_user_identity: identity.into(),
                timestamp: received.into(),
                miners,
            },
            received_at: received.into(),
            expires_at: (received_at + chrono::Duration::seconds(300))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            user_agent,
        }
    }

    /// The summary the pool lists for that report.
    pub(crate) fn summary(identity: &str, received: &str, miners: Vec<Miner>) -> JdcSummary {
        let s = stored(identity, received, miners);
        let mut summary = JdcSummary::of(&s.report, s.user_agent, &s.received_at, &s.expires_at);
        summary.identity = identity.into();
        summary
    }

    /// `STALE_AFTER_SECS` after 02:00:00, plus `delta` seconds.
    fn stale_edge(delta: i64) -> DateTime<Utc> {
        t("2026-11-26T02:00:00Z") + chrono::Duration::seconds(STALE_AFTER_SECS as i64 + delta)
    }

    #[test]
    fn timing_uses_the_browser_clock_against_received_and_expires() {
        let jdc = summary("bc1qa", "2026-11-26T02:00:01.123Z", vec![]);
        let cases = [
            ("2026-11-26T02:00:01.123Z", 0, 300),
            ("2026-11-26T02:00:31.200Z", 30, 269),
            ("2026-11-26T02:05:01.123Z", 300, 0),
            ("2026-11-26T02:06:01.123Z", 360, -60),
            // Browser clock behind the pool's.
            ("2026-11-26T01:59:51.123Z", -10, 310),
        ];
        for (now, age, expires_in) in cases {
            let timing = Timing::of(&jdc, t(now)).unwrap();
            assert_eq!(
                (timing.age_secs, timing.expires_in_secs),
                (age, expires_in),
                "{now}"
            );
        }
    }

    #[test]
    fn a_broken_expires_at_falls_back_to_the_protocol_ttl() {
        let mut jdc = summary("bc1qa", "2026-11-26T02:00:00Z", vec![]);
        jdc.expires_at = "soon".into();
        let timing = Timing::of(&jdc, t("2026-11-26T02:01:00Z")).unwrap();
        assert_eq!(timing.expires_in_secs, REPORT_TTL_SECS as i64 - 60);
        jdc.received_at = "yesterday".into();
        assert_eq!(Timing::of(&jdc, t("2026-11-26T02:01:00Z")), None);
    }

    #[test]
    fn a_jdc_goes_stale_once_its_stored_report_is_older_than_the_limit() {
        let jdc = summary("bc1qa", "2026-11-26T02:00:00Z", vec![]);
        let cases = [
            (t("2026-11-26T01:59:00Z"), Health::Live),
            (t("2026-11-26T02:00:00Z"), Health::Live),
            (stale_edge(-1), Health::Live),
            (stale_edge(0), Health::Live),
            (stale_edge(1), Health::Stale),
            (t("2026-11-26T02:04:59Z"), Health::Stale),
            (t("2026-11-26T02:07:00Z"), Health::Stale),
        ];
        for (now, want) in cases {
            assert_eq!(health(&jdc, false, now), want, "{now}");
        }
        assert_eq!(health(&jdc, true, t("2026-11-26T02:00:10Z")), Health::Gone);
        let mut broken = jdc.clone();
        broken.received_at = "?".into();
        assert_eq!(
            health(&broken, false, t("2026-11-26T02:00:10Z")),
            Health::Stale
        );
    }

    #[test]
    fn totals_add_up_jdcs_miners_hash_rate_and_stale() {
        let now = stale_edge(30);
        let jdcs = [
            summary(
                "bc1qa",
                "2026-11-26T02:02:50Z",
                vec![
                    miner("bitaxe", "a.1", 1.2e12),
                    miner("bitaxe", "a.2", 0.8e12),
                ],
            ),
            summary(
                "bc1qb",
                "2026-11-26T02:00:00Z",
                vec![miner("NerdQAxe++", "b.1", 5e12)],
            ),
            summary("bc1qc", "2026-11-26T02:01:00Z", vec![]),
        ];
        let totals = Totals::of(&jdcs, now);
        assert_eq!(
            totals,
            Totals {
                jdcs: 3,
                stale: 1,
                miners: 3,
                hash_rate: 7e12
            }
        );
        assert_eq!(Totals::of([], now), Totals::default());
    }

    #[test]
    fn breakdown_adds_up_vendors_across_jdcs_largest_first() {
        let jdcs = [
            summary(
                "bc1qa",
                "2026-11-26T02:00:00Z",
                vec![
                    miner("bitaxe", "a.1", 1e12),
                    miner(" bitaxe ", "a.2", 1e12),
                    miner("", "a.3", 0.5e12),
                ],
            ),
            summary(
                "bc1qb",
                "2026-11-26T02:00:00Z",
                vec![
                    miner("NerdQAxe++", "b.1", 5e12),
                    miner("BitAxe", "b.2", 1e12),
                ],
            ),
        ];
        let b = Breakdown::of(&jdcs);
        let got: Vec<(&str, usize, f64)> = b
            .vendors
            .iter()
            .map(|v| (v.vendor.as_str(), v.miners, v.hash_rate))
            .collect();
        assert_eq!(
            got,
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
    }

    #[test]
    fn breakdown_merges_the_folded_other_vendors_of_several_jdcs() {
        let many = |id: &str| {
            let miners = (0..10)
                .map(|i| miner(&format!("v{i}"), "w", 1e12))
                .collect();
            summary(id, "2026-11-26T02:00:00Z", miners)
        };
        let b = Breakdown::of(&[many("bc1qa"), many("bc1qb")]);
        let other = b.vendors.iter().find(|v| v.vendor == OTHER_VENDOR).unwrap();
        assert_eq!((other.miners, other.hash_rate), (6, 6e12));
        assert_eq!(b.miners, 20);
        assert_eq!(b.vendors[0].vendor, OTHER_VENDOR, "largest first");
    }

    #[test]
    fn breakdown_ties_go_to_more_miners_then_to_the_name() {
        let jdcs = [summary(
            "bc1qa",
            "2026-11-26T02:00:00Z",
            vec![
                miner("b", "1", 2e12),
                miner("a", "2", 2e12),
                miner("c", "3", 1e12),
                miner("c", "4", 1e12),
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
        let jdcs = [summary(
            "bc1qa",
            "2026-11-26T02:00:00Z",
            vec![miner("x", "1", 0.0)],
        )];
        let b = Breakdown::of(&jdcs);
        assert_eq!(b.hash_share(&b.vendors[0]), 0.0);
        assert_eq!(b.miner_share(&b.vendors[0]), 1.0);
        assert_eq!(Breakdown::of([]), Breakdown::default());
        assert_eq!(fraction(1.0, 0.0), 0.0);
        assert_eq!(fraction(3.0, 2.0), 1.0);
        assert_eq!(fraction(f64::NAN, 2.0), 0.0);
    }

    #[test]
    fn the_filter_matches_identity_user_agent_and_vendors_of_a_jdc() {
        let jdc = summary(
            "bc1qAlice",
            "2026-11-26T02:00:00Z",
            vec![
                miner("bitaxe", "bc1qAlice.garage", 1e12),
                miner("NerdQAxe++", "bc1qAlice.attic", 1e12),
            ],
        );
        for (query, hit) in [
            ("", true),
            ("   ", true),
            ("ALICE", true),
            ("bitaxe/sv2", true),
            ("nerdq", true),
            ("garage", false),
            ("bob", false),
        ] {
            assert_eq!(Filter::new(query).matches_jdc(&jdc), hit, "{query:?}");
        }
        assert!(Filter::new(" ").is_empty());
    }

    #[test]
    fn the_filter_picks_miners_by_vendor_or_worker_unless_the_jdc_matches() {
        let miners = [
            miner("bitaxe", "bc1qAlice.garage", 1e12),
            miner("NerdQAxe++", "bc1qAlice.attic", 1e12),
        ];
        let workers = |query: &str, jdc_matches: bool| -> Vec<&str> {
            Filter::new(query)
                .miners(jdc_matches, &miners)
                .iter()
                .map(|m| m.user_identity.as_str())
                .collect()
        };
        assert_eq!(
            workers("alice", true),
            ["bc1qAlice.garage", "bc1qAlice.attic"]
        );
        assert_eq!(workers("nerdq", false), ["bc1qAlice.attic"]);
        assert_eq!(workers(" GARAGE ", false), ["bc1qAlice.garage"]);
        assert!(workers("bob", false).is_empty());
    }

    #[test]
    fn miner_keys_are_stable_distinct_and_change_with_the_miner() {
        let a = miner("bitaxe", "w.1", 1e12);
        let b = miner("bitaxe", "w.2", 1e12);
        let keys = miner_keys(&[&a, &b, &a]);
        assert_eq!(keys.len(), 3);
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2], "identical twins get distinct keys");
        assert_eq!(miner_keys(&[&a, &b]), keys[..2], "same miners, same keys");
        let mut faster = a.clone();
        faster.nominal_hash_rate = 2e12;
        assert_ne!(miner_keys(&[&faster])[0], keys[0]);
    }
}
