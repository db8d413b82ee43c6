//! Which `userAgent` a report renames the JDC's client rows to.
//!
//! The rule: `<most common vendor>/sv2`. Vendor strings come from devices and
//! end up in pool dashboards that other people read, so each is first reduced
//! to a safe form ([`sanitize_vendor`]); the vote is taken over those forms.
//!
//! Decisions the protocol leaves open:
//! - **Ties** go to the vendor that appears first in the `miners` array, as in
//!   the TypeScript reference implementation. The JDC lists miners in the
//!   order they connected, so a tie keeps the longest-connected vendor and the
//!   name does not flip between reports.
//! - **Empty vendors do not vote**; when no miner has a usable vendor there is
//!   no rename at all (the rows stay `jd-client/sv2`).
//! - Spelling is kept as sent (`BitAxe` and `bitaxe` are different votes):
//!   pools group by `userAgent` verbatim, and guessing that two spellings are
//!   one product would be wrong as often as right.

use crate::limits::MAX_VENDOR_LEN;
use crate::report::Miner;

/// The `userAgent` a pool gives a JDC's connection before any report.
pub const JDC_USER_AGENT: &str = "jd-client/sv2";

/// Suffix of every renamed `userAgent`.
pub const USER_AGENT_SUFFIX: &str = "/sv2";

/// Reduces a device's vendor string to what may reach a database: ASCII
/// letters, digits, space and `+ - . _ ( )`, other characters dropped, runs
/// of spaces collapsed, trimmed, at most [`MAX_VENDOR_LEN`] characters.
/// `None` when nothing is left.
pub fn sanitize_vendor(raw: &str) -> Option<String> {
    let kept: String = raw
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || " +-._()".contains(*c))
        .collect();
    let mut clean = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.len() > MAX_VENDOR_LEN {
        // ASCII only by now, so any byte index is a character boundary.
        clean.truncate(MAX_VENDOR_LEN);
        clean.truncate(clean.trim_end().len());
    }
    (!clean.is_empty()).then_some(clean)
}

/// The most common sanitized vendor among `miners`; ties go to the one that
/// appears first. `None` when no miner has a usable vendor.
pub fn majority_vendor(miners: &[Miner]) -> Option<String> {
    // (vendor, votes) in order of first appearance: few distinct vendors per
    // JDC, so a linear scan beats a map and keeps the order for tie-breaks.
    let mut tally: Vec<(String, usize)> = Vec::new();
    for vendor in miners.iter().filter_map(|m| sanitize_vendor(&m.vendor)) {
        match tally.iter_mut().find(|(v, _)| *v == vendor) {
            Some((_, votes)) => *votes += 1,
            None => tally.push((vendor, 1)),
        }
    }
    let mut best: Option<(String, usize)> = None;
    for (vendor, votes) in tally {
        if best.as_ref().is_none_or(|(_, top)| votes > *top) {
            best = Some((vendor, votes));
        }
    }
    best.map(|(vendor, _)| vendor)
}

/// The `userAgent` a report renames `jd-client/sv2` rows to, or `None` when
/// the report names no vendor.
pub fn user_agent_for(miners: &[Miner]) -> Option<String> {
    majority_vendor(miners).map(|vendor| format!("{vendor}{USER_AGENT_SUFFIX}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn miner(vendor: &str) -> Miner {
        testing::miner(vendor, 1e12, "bc1q.w")
    }

    #[test]
    fn real_vendor_names_pass_unchanged() {
        for name in [
            "NerdQAxe++",
            "bitaxe",
            "BitAxe Gamma",
            "VNish",
            "Bosch",
            "Braiins OS",
            "Antminer S19 (XP)",
            "SRI_translator-v1.2",
        ] {
            assert_eq!(sanitize_vendor(name).as_deref(), Some(name));
        }
    }

    #[test]
    fn unsafe_or_odd_vendor_text_is_reduced() {
        let cases = [
            ("  bitaxe  ", Some("bitaxe")),
            ("Bit\taxe\n Gamma", Some("Bit axe Gamma")),
            ("<script>alert(1)</script>", Some("scriptalert(1)script")),
            ("x'; DROP TABLE clients;--", Some("x DROP TABLE clients--")),
            ("bitaxe/sv2", Some("bitaxesv2")),
            ("Nerd\u{00d6}Axe", Some("NerdAxe")),
            ("\u{202e}bitaxe", Some("bitaxe")),
            ("", None),
            ("   ", None),
            ("<>/\"'", None),
            ("\u{1F600}", None),
        ];
        for (raw, want) in cases {
            assert_eq!(sanitize_vendor(raw).as_deref(), want, "raw {raw:?}");
        }
    }

    #[test]
    fn long_vendors_are_cut_without_trailing_space() {
        let long = "A".repeat(31) + " BCDEF";
        assert_eq!(sanitize_vendor(&long).unwrap(), "A".repeat(31));
        assert_eq!(
            sanitize_vendor(&"z".repeat(100)).unwrap().len(),
            MAX_VENDOR_LEN
        );
    }

    #[test]
    fn the_majority_wins_and_ties_go_to_the_first() {
        let cases: &[(&[&str], Option<&str>)] = &[
            (&["bitaxe", "bitaxe", "NerdAxe"], Some("bitaxe/sv2")),
            (&["NerdAxe", "bitaxe", "bitaxe"], Some("bitaxe/sv2")),
            (&["NerdQAxe++", "bitaxe"], Some("NerdQAxe++/sv2")),
            (&["bitaxe", "NerdQAxe++"], Some("bitaxe/sv2")),
            (&["", "", "bitaxe"], Some("bitaxe/sv2")),
            (&["", "VNish", "Bosch", "Bosch", "VNish"], Some("VNish/sv2")),
            (&["  bitaxe", "bitaxe ", "Bosch"], Some("bitaxe/sv2")),
            (&["BitAxe", "bitaxe", "bitaxe"], Some("bitaxe/sv2")),
            (&["", "  ", "<>"], None),
            (&[], None),
        ];
        for (vendors, want) in cases {
            let miners: Vec<Miner> = vendors.iter().map(|v| miner(v)).collect();
            assert_eq!(
                user_agent_for(&miners).as_deref(),
                *want,
                "vendors {vendors:?}"
            );
        }
    }
}
