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
//! - **The SRI translator does not vote** ([`is_translator`]): a miner with
//!   vendor `SRI` and hardware version `Translator Proxy` (compared after
//!   [`sanitize_vendor`], in any ASCII case) is a channel the translator
//!   opened for an SV1 device whose make the report does not give. `SRI`
//!   names the software in between, not the device, so a JDC whose only
//!   voters are translators keeps `jd-client/sv2`, never `SRI/sv2`. Only
//!   that pair is the translator's (it is what `translator_sv2` sends in
//!   its `SetupConnection`): a miner calling itself `SRI` with any other
//!   hardware version (none, or a board's) is taken as the device it says
//!   it is, and votes.
//! - Spelling is kept as sent (`BitAxe` and `bitaxe` are different votes):
//!   pools group by `userAgent` verbatim, and guessing that two spellings are
//!   one product would be wrong as often as right.
//!
//! The vote (and the summary's vendor shares, which use the same
//! `FirstSeen`) costs n log n in the miners whatever they send: distinct
//! vendors are found in a [`BTreeMap`], not by scanning the ones seen so far
//! (2,000 distinct vendors would cost two million comparisons), nor in a
//! hash map, whose hash keys are fixed in the Worker's wasm build, so a
//! report could be crafted whose vendors all share a bucket.

use std::collections::BTreeMap;

use crate::limits::MAX_VENDOR_LEN;
use crate::report::Miner;

/// The `userAgent` a pool gives a JDC's connection before any report.
pub const JDC_USER_AGENT: &str = "jd-client/sv2";

/// Suffix of every renamed `userAgent`.
pub const USER_AGENT_SUFFIX: &str = "/sv2";

/// The vendor the SRI translator (`translator_sv2`) gives in its
/// `SetupConnection` to the JDC, for every SV1 device behind it.
pub const TRANSLATOR_VENDOR: &str = "SRI";

/// The hardware version the SRI translator gives with [`TRANSLATOR_VENDOR`].
pub const TRANSLATOR_HARDWARE: &str = "Translator Proxy";

/// Reduces a device's vendor string to what may reach a database: ASCII
/// letters, digits, space and `+ - . _ ( )`, other characters dropped, runs
/// of spaces collapsed, at most [`MAX_VENDOR_LEN`] characters. It starts
/// with a letter or digit and ends with one, or with the `+`s of a name like
/// `NerdQAxe++`, or with a `)` that closes a `(`: punctuation that dangles
/// at either end is dropped, so no name is all punctuation (`./sv2`,
/// `()/sv2`). `None` when nothing is left.
pub fn sanitize_vendor(raw: &str) -> Option<String> {
    // One pass into one string: characters kept from the first letter or
    // digit on, each run of whitespace (and of characters dropped within
    // it) as one space between kept ones, up to the length limit. Every
    // miner of every report goes through here, twice.
    let mut clean = String::with_capacity(raw.len().min(MAX_VENDOR_LEN));
    let mut space = false;
    for c in raw.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        let kept = c.is_ascii_alphanumeric() || (!clean.is_empty() && "+-._()".contains(c));
        if !kept {
            continue;
        }
        if space && !clean.is_empty() {
            if clean.len() == MAX_VENDOR_LEN {
                break;
            }
            clean.push(' ');
        }
        space = false;
        if clean.len() == MAX_VENDOR_LEN {
            break;
        }
        clean.push(c);
    }
    if clean.is_empty() {
        return None;
    }
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
    let letters = || {
        vendor
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
    };
    letters().eq("jdclient".chars()) || letters().eq("jdclientsv2".chars())
}

/// Whether `miner` is a channel of the SRI translator rather than a
/// device: vendor [`TRANSLATOR_VENDOR`] and hardware version
/// [`TRANSLATOR_HARDWARE`], each as [`sanitize_vendor`] leaves it, in any
/// ASCII case.
pub fn is_translator(miner: &Miner) -> bool {
    sanitize_vendor(&miner.vendor)
        .is_some_and(|vendor| translator_channel(&vendor, &miner.hardware_version))
}

/// [`is_translator`] for a vendor already sanitized: the hardware version
/// is only read (and sanitized) when the vendor is the translator's.
pub(crate) fn translator_channel(vendor: &str, hardware_version: &str) -> bool {
    vendor.eq_ignore_ascii_case(TRANSLATOR_VENDOR)
        && sanitize_vendor(hardware_version)
            .is_some_and(|hardware| hardware.eq_ignore_ascii_case(TRANSLATOR_HARDWARE))
}

/// The vendor `miner` votes for: its sanitized vendor, unless it has none,
/// names the JDC, or is the translator.
fn vote(miner: &Miner) -> Option<String> {
    let vendor = sanitize_vendor(&miner.vendor)?;
    let votes = !names_the_jdc(&vendor) && !translator_channel(&vendor, &miner.hardware_version);
    votes.then_some(vendor)
}

/// The most common sanitized vendor among `miners`; ties go to the one that
/// appears first. `None` when no miner votes (an empty vendor, one naming
/// the JDC itself, or the translator's).
pub fn majority_vendor(miners: &[Miner]) -> Option<String> {
    majority(miners.iter().filter_map(vote))
}

/// The most common of `votes`, ties going to the first to appear; `None`
/// without votes. Generic so that tests can count its comparisons.
fn majority<K: Ord>(votes: impl IntoIterator<Item = K>) -> Option<K> {
    let mut seen = FirstSeen::default();
    // Votes by place of first appearance.
    let mut counts: Vec<usize> = Vec::new();
    for vote in votes {
        let place = seen.place(vote);
        if place == counts.len() {
            counts.push(0);
        }
        counts[place] += 1;
    }
    // The first place with the most votes (`Iterator::max_by_key` would
    // take the last).
    let mut best: Option<(usize, usize)> = None;
    for (place, &votes) in counts.iter().enumerate() {
        if best.is_none_or(|(_, top)| votes > top) {
            best = Some((place, votes));
        }
    }
    best.and_then(|(place, _)| seen.take(place))
}

/// Distinct keys numbered in order of first appearance (0, 1, ...), each
/// found in log time: the order keeps the first-appearance tie-breaks,
/// the map keeps a report of many distinct vendors at n log n.
pub(crate) struct FirstSeen<K> {
    places: BTreeMap<K, usize>,
}

impl<K> Default for FirstSeen<K> {
    fn default() -> Self {
        FirstSeen {
            places: BTreeMap::new(),
        }
    }
}

impl<K: Ord> FirstSeen<K> {
    /// The place of `key`, numbering it next when it is new.
    pub(crate) fn place(&mut self, key: K) -> usize {
        let next = self.places.len();
        *self.places.entry(key).or_insert(next)
    }

    /// The key at `place`.
    fn take(self, place: usize) -> Option<K> {
        self.places
            .into_iter()
            .find_map(|(key, at)| (at == place).then_some(key))
    }

    /// The keys, by place.
    pub(crate) fn into_keys(self) -> Vec<K> {
        let mut keys: Vec<Option<K>> = std::iter::repeat_with(|| None)
            .take(self.places.len())
            .collect();
        for (key, place) in self.places {
            keys[place] = Some(key);
        }
        keys.into_iter().flatten().collect()
    }
}

/// The `userAgent` a report renames `jd-client/sv2` rows to, or `None` when
/// no miner votes (see [`majority_vendor`]).
pub fn user_agent_for(miners: &[Miner]) -> Option<String> {
    majority_vendor(miners).map(|vendor| format!("{vendor}{USER_AGENT_SUFFIX}"))
}

/// A key that counts its comparisons, for tests that bound how the work
/// grows without timing it.
#[cfg(test)]
pub(crate) mod counting {
    use std::cell::Cell;
    use std::cmp::Ordering;

    thread_local! {
        static COMPARISONS: Cell<usize> = const { Cell::new(0) };
    }

    /// A string whose every comparison is counted.
    #[derive(Debug, Clone)]
    pub(crate) struct Counted(pub String);

    impl Ord for Counted {
        fn cmp(&self, other: &Self) -> Ordering {
            COMPARISONS.with(|n| n.set(n.get() + 1));
            self.0.cmp(&other.0)
        }
    }

    impl PartialOrd for Counted {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    impl PartialEq for Counted {
        fn eq(&self, other: &Self) -> bool {
            self.cmp(other) == Ordering::Equal
        }
    }

    impl Eq for Counted {}

    /// What `f` returns, and how many comparisons of [`Counted`] it made.
    pub(crate) fn comparisons<T>(f: impl FnOnce() -> T) -> (T, usize) {
        COMPARISONS.with(|n| n.set(0));
        let out = f();
        (out, COMPARISONS.with(Cell::get))
    }

    /// `n` keys: all the same, or all different.
    pub(crate) fn keys(n: usize, distinct: bool) -> impl Iterator<Item = Counted> {
        (0..n).map(move |i| {
            Counted(if distinct {
                format!("v{i:04}")
            } else {
                "bitaxe".into()
            })
        })
    }

    /// The bound the tests hold a tally of `n` keys to: three comparisons
    /// per key and level of a balanced binary tree (a B-tree searches each
    /// node from its first key, so it makes more than a binary search).
    pub(crate) fn n_log_n(n: usize) -> usize {
        3 * n * (usize::BITS - n.leading_zeros()) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::counting::{comparisons, keys, n_log_n, Counted};
    use super::*;
    use crate::testing;

    fn miner(vendor: &str) -> Miner {
        testing::miner(vendor, 1e12, "bc1q.w")
    }

    /// The rule as first written (in four passes): the one pass must give
    /// exactly what it gave.
    fn reference(raw: &str) -> Option<String> {
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

    #[test]
    fn one_pass_sanitizing_gives_what_the_rule_as_written_gives() {
        let alphabet = [
            ' ', '\t', '\u{a0}', '+', '-', '.', '_', '(', ')', 'a', 'Z', '7', '/', '<', 'é',
            '\u{200b}',
        ];
        let mut strings = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(longer);
        }
        for raw in &strings {
            assert_eq!(sanitize_vendor(raw), reference(raw), "{raw:?}");
        }
        // Around the length limit, with spaces and punctuation at the cut.
        for pad in 25..40 {
            for tail in strings.iter().step_by(97) {
                let raw = format!("{}{tail}", "b".repeat(pad));
                assert_eq!(sanitize_vendor(&raw), reference(&raw), "{raw:?}");
                let raw = format!(" .{}  {tail} x", "c".repeat(pad - 10));
                assert_eq!(sanitize_vendor(&raw), reference(&raw), "{raw:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn one_pass_sanitizing_agrees_on_any_text(raw in "(?s).{0,80}", ascii in "[ -~\t]{0,80}") {
            proptest::prop_assert_eq!(sanitize_vendor(&raw), reference(&raw));
            proptest::prop_assert_eq!(sanitize_vendor(&ascii), reference(&ascii));
        }
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

    fn sri(hardware_version: &str) -> Miner {
        Miner {
            hardware_version: hardware_version.into(),
            ..miner("SRI")
        }
    }

    #[test]
    fn the_translator_does_not_vote() {
        // As `translator_sv2` sends it, and in other cases and spacing.
        for (vendor, hardware) in [
            ("SRI", "Translator Proxy"),
            ("sri", "translator proxy"),
            (" SRI ", "TRANSLATOR  PROXY"),
            ("S\u{200b}RI", "Translator\tProxy."),
        ] {
            let translator = Miner {
                vendor: vendor.into(),
                hardware_version: hardware.into(),
                ..miner("")
            };
            assert!(is_translator(&translator), "{vendor:?} {hardware:?}");
            // Alone, or as every channel: no rename, never `SRI/sv2`.
            assert_eq!(user_agent_for(std::slice::from_ref(&translator)), None);
            assert_eq!(user_agent_for(&vec![translator.clone(); 5]), None);
            // With one device that names its make, the device's make.
            let mut miners = vec![translator.clone(); 3];
            miners.push(miner("bitaxe"));
            assert_eq!(user_agent_for(&miners).as_deref(), Some("bitaxe/sv2"));
            // With the JDC's own name too: still nothing to rename to.
            assert_eq!(user_agent_for(&[translator, miner("jd-client")]), None);
        }
    }

    #[test]
    fn sri_with_another_hardware_version_is_a_device_and_votes() {
        for hardware in [
            "",
            "BM1370",
            "Translator",
            "Translator Proxy v2",
            "Translator-Proxy",
        ] {
            assert!(!is_translator(&sri(hardware)), "{hardware:?}");
            assert_eq!(
                user_agent_for(&[sri(hardware), sri("Translator Proxy")]).as_deref(),
                Some("SRI/sv2"),
                "{hardware:?}"
            );
        }
        // Another vendor with the translator's hardware version votes too.
        let proxy = Miner {
            hardware_version: TRANSLATOR_HARDWARE.into(),
            ..miner("bitaxe")
        };
        assert!(!is_translator(&proxy));
        assert_eq!(user_agent_for(&[proxy]).as_deref(), Some("bitaxe/sv2"));
    }

    #[test]
    fn many_distinct_vendors_cost_n_log_n_comparisons() {
        let n = crate::limits::MAX_MINERS;
        let (winner, one) = comparisons(|| majority(keys(n, false)));
        assert_eq!(winner.map(|k| k.0).as_deref(), Some("bitaxe"));
        let (winner, distinct) = comparisons(|| majority(keys(n, true)));
        // All tie at one vote: the first wins.
        assert_eq!(winner.map(|k| k.0).as_deref(), Some("v0000"));
        // A scan of the vendors seen so far would make n²/2 = 2,000,000.
        assert!(one <= 2 * n, "one vendor: {one} comparisons");
        assert!(distinct <= n_log_n(n), "distinct: {distinct} comparisons");
        assert!(distinct <= 32 * one, "distinct {distinct}, one {one}");
        // Four times the miners, about five times the work (a square
        // would be sixteen).
        let (_, quarter) = comparisons(|| majority(keys(n / 4, true)));
        assert!(distinct <= 6 * quarter, "{quarter} then {distinct}");
    }

    #[test]
    fn ties_go_to_the_first_whatever_the_order_of_the_keys() {
        // The map orders keys by value; the tie-break is by appearance.
        let votes = ["z", "a", "m", "a", "z", "m", "b"];
        let key = |v: &&str| Counted((*v).into());
        assert_eq!(majority(votes.iter().map(key)).unwrap().0, "z");
        assert_eq!(majority(votes.iter().rev().map(key)).unwrap().0, "m");
        assert_eq!(majority(votes[1..].iter().map(key)).unwrap().0, "a");
        let mut seen = FirstSeen::default();
        for v in votes {
            seen.place(v);
        }
        assert_eq!(seen.into_keys(), ["z", "a", "m", "b"]);
    }
}
