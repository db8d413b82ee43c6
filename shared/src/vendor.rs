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
//! - **A vendor that names the JDC itself** (`jd-client`, `JD_Client`,
//!   `jd-client/sv2`, any case or separator) does not vote either: its
//!   `userAgent` would be the JDC's own `jd-client/sv2`, and renaming a row
//!   to the name it has is a write that changes nothing.
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
/// of spaces collapsed, at most [`MAX_VENDOR_LEN`] characters. It starts
/// with a letter or digit and ends with one, or with the `+`s of a name like
/// `NerdQAxe++`, or with a `)` that closes a `(`: punctuation that dangles
/// at either end is dropped, so no name is all punctuation (`./sv2`,
/// `()/sv2`). `None` when nothing is left.
pub fn sanitize_vendor(raw: &str) -> Option<String> {
    let kept: String = raw
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || " +-._()".contains(*c))
        .collect();
    let joined = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    // ASCII only by now, so any byte index is a character boundary.
    let start = joined.find(|c: char| c.is_ascii_alphanumeric())?;
    let mut clean = joined[start..].to_owned();
    clean.truncate(MAX_VENDOR_LEN);
    while let Some(last) = clean.chars().last() {
        let dangling = match last {
            ' ' | '.' | '-' | '_' | '(' => true,
            ')' => clean.matches('(').count() < clean.matches(')').count(),
            '+' => !clean
                .trim_end_matches('+')
                .ends_with(|c: char| c.is_ascii_alphanumeric()),
            _ => false,
        };
        if !dangling {
            break;
        }
        clean.pop();
    }
    Some(clean)
}

/// Whether a (sanitized) vendor names the JDC itself rather than a device:
/// `jd-client` and its spellings, with or without `sv2`.
pub fn names_the_jdc(vendor: &str) -> bool {
    let letters: String = vendor
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    letters == "jdclient" || letters == "jdclientsv2"
}

/// The most common sanitized vendor among `miners`; ties go to the one that
/// appears first. `None` when no miner has a usable vendor (empty, or
/// naming the JDC itself).
pub fn majority_vendor(miners: &[Miner]) -> Option<String> {
    // (vendor, votes) in order of first appearance: few distinct vendors per
    // JDC, so a linear scan beats a map and keeps the order for tie-breaks.
    let mut tally: Vec<(String, usize)> = Vec::new();
    let votes = miners
        .iter()
        .filter_map(|m| sanitize_vendor(&m.vendor))
        .filter(|vendor| !names_the_jdc(vendor));
    for vendor in votes {
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
            ("x'; DROP TABLE clients;--", Some("x DROP TABLE clients")),
            ("bitaxe/sv2", Some("bitaxesv2")),
            ("Nerd\u{00d6}Axe", Some("NerdAxe")),
            ("\u{202e}bitaxe", Some("bitaxe")),
            ("", None),
            ("   ", None),
            ("<>/\"'", None),
            ("\u{1F600}", None),
            // Punctuation alone is no name, and dangling punctuation goes.
            (".", None),
            ("-", None),
            ("()", None),
            ("+", None),
            ("++", None),
            ("._-+() ", None),
            ("<>.", None),
            (".bitaxe", Some("bitaxe")),
            ("-bitaxe-", Some("bitaxe")),
            ("bitaxe.", Some("bitaxe")),
            ("(bitaxe", Some("bitaxe")),
            ("bitaxe (", Some("bitaxe")),
            ("bitaxe)", Some("bitaxe")),
            ("bitaxe ()", Some("bitaxe ()")),
            ("+bitaxe+", Some("bitaxe+")),
            ("bitaxe -+", Some("bitaxe")),
            ("(XP)", Some("XP")),
            ("Antminer (S19) -", Some("Antminer (S19)")),
            ("NerdQAxe++ ...", Some("NerdQAxe++")),
        ];
        for (raw, want) in cases {
            assert_eq!(sanitize_vendor(raw).as_deref(), want, "raw {raw:?}");
        }
    }

    #[test]
    fn long_vendors_are_cut_without_trailing_space_or_punctuation() {
        let long = "A".repeat(31) + " BCDEF";
        assert_eq!(sanitize_vendor(&long).unwrap(), "A".repeat(31));
        assert_eq!(
            sanitize_vendor(&"z".repeat(100)).unwrap().len(),
            MAX_VENDOR_LEN
        );
        let cut_at_dash = "A".repeat(31) + "-B";
        assert_eq!(sanitize_vendor(&cut_at_dash).unwrap(), "A".repeat(31));
        // Leading junk does not count against the length.
        let padded = ".".repeat(40) + "bitaxe";
        assert_eq!(sanitize_vendor(&padded).as_deref(), Some("bitaxe"));
    }

    #[test]
    fn every_derived_user_agent_has_a_letter_or_digit_and_no_dangling_punctuation() {
        let alphabet = [' ', '+', '-', '.', '_', '(', ')', 'a', '7', '/', '<'];
        // Every string of up to four of those characters.
        let mut strings = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(longer);
        }
        for raw in strings {
            let Some(ua) = user_agent_for(&[miner(&raw)]) else {
                continue;
            };
            let name = ua.strip_suffix(USER_AGENT_SUFFIX).unwrap();
            assert!(
                name.starts_with(|c: char| c.is_ascii_alphanumeric()),
                "{raw:?} -> {ua}"
            );
            assert!(
                name.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '+' || c == ')'),
                "{raw:?} -> {ua}"
            );
        }
    }

    #[test]
    fn a_vendor_naming_the_jdc_does_not_vote() {
        for name in [
            "jd-client",
            "JD-Client",
            "jd_client",
            "JD Client",
            "jdclient",
            "jd-client/sv2",
            "jd_client_sv2",
            " jd-client. ",
        ] {
            assert!(names_the_jdc(&sanitize_vendor(name).unwrap()), "{name:?}");
            assert_eq!(user_agent_for(&[miner(name)]), None, "{name:?}");
            assert_eq!(
                user_agent_for(&[miner(name), miner(name), miner("bitaxe")]).as_deref(),
                Some("bitaxe/sv2"),
                "{name:?}"
            );
        }
        for name in ["jd-clients", "jdc", "bitaxe jd-client", "client"] {
            assert!(!names_the_jdc(name), "{name:?}");
        }
        assert_ne!(
            user_agent_for(&[miner("jd-client")]).as_deref(),
            Some(JDC_USER_AGENT)
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
