//! The filter box: which JDCs and which of their miners show, and the line
//! that counts them. Pure, tested natively.

use dmr_shared::{JdcSummary, Miner};

/// A case-insensitive substring of a JDC's identity, `userAgent` or vendors,
/// or of a miner's vendor or worker identity. Worker identities are only in
/// the full reports, which the page reads for open rows; so a worker matches
/// in open rows.
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
    /// vendors are ASCII (inspector/clippy.toml says why not
    /// `str::to_lowercase`).
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

    /// The line under the filter box: empty while nothing is typed, else
    /// how many of the `listed` JDCs match (`shown`).
    pub fn count_line(&self, shown: usize, listed: usize) -> String {
        let shown = shown.min(listed);
        if self.is_empty() {
            String::new()
        } else if shown == 0 {
            format!("No JDC matches (of {listed}).")
        } else {
            format!("{shown} of {listed} JDCs match.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{miner, summary};

    #[test]
    fn the_filter_matches_identity_user_agent_and_vendors_of_a_jdc() {
        let jdc = summary(
            "bc1qAlice",
            "2026-11-26T02:00:00Z",
            vec![
                miner("bitaxe", 1e12, "bc1qAlice.garage"),
                miner("NerdQAxe++", 1e12, "bc1qAlice.attic"),
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
            ("bc1qAlice and more", false),
        ] {
            assert_eq!(Filter::new(query).matches_jdc(&jdc), hit, "{query:?}");
        }
        assert!(Filter::new(" ").is_empty());
    }

    #[test]
    fn the_filter_picks_miners_by_vendor_or_worker_unless_the_jdc_matches() {
        let miners = [
            miner("bitaxe", 1e12, "bc1qAlice.garage"),
            miner("NerdQAxe++", 1e12, "bc1qAlice.attic"),
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
    fn the_count_line_says_how_many_match_while_filtering() {
        let cases = [
            ("", 3, 3, ""),
            ("", 0, 3, ""),
            ("nerd", 1, 3, "1 of 3 JDCs match."),
            ("nerd", 0, 3, "No JDC matches (of 3)."),
            ("nerd", 3, 3, "3 of 3 JDCs match."),
            // A card that left the roster may not have said so yet.
            ("nerd", 4, 3, "3 of 3 JDCs match."),
        ];
        for (query, shown, listed, want) in cases {
            assert_eq!(
                Filter::new(query).count_line(shown, listed),
                want,
                "{query:?} {shown}/{listed}"
            );
        }
    }
}
