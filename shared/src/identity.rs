//! How a JDC's `user_identity` maps to the pool's client `address`, and which
//! characters an identity may not hold.
//!
//! Pools split a mining username `address.worker` at the first `.`, so a JDC
//! reporting as `bc1q....rig1` owns the client rows of address `bc1q...`.
//! An identity with nothing before its first `.` (`.rig1`, `.`) has no
//! address at all, and is refused by validation.
//!
//! Identities are keys: one stored report per identity, shown on the
//! inspector and in logs. Characters that render as nothing or reorder the
//! text around them would let two different identities look the same
//! (`bc1q.rig1` and `bc1q.rig1` + U+200B), or one look like another
//! (U+202E turns what follows around). [`is_invisible`] names them.

/// The pool-side `address` of a `jdcUserIdentity`: everything before the first
/// `.`, or the whole identity when it has none. Empty when the identity starts
/// with a `.`: such an identity has no address.
pub fn address_of(identity: &str) -> &str {
    identity
        .split_once('.')
        .map_or(identity, |(address, _)| address)
}

/// Code points that render as nothing, change the direction of the text
/// around them, or have no agreed glyph, from the Unicode 16.0 character
/// database, as inclusive ranges:
/// - every format character (general category Cf: soft hyphen, zero-width
///   space and joiners, the bidi marks, embeddings, overrides and isolates,
///   the byte order mark, interlinear annotations, tags);
/// - every other `Default_Ignorable_Code_Point` (combining grapheme joiner,
///   Hangul fillers, Khmer inherent vowels, Mongolian and other variation
///   selectors, reserved ignorables), and U+2800 BRAILLE PATTERN BLANK,
///   which renders as a space without being one;
/// - private use (Co) and noncharacters, which have no glyph of their own;
///
/// Whitespace (including U+2028 and U+2029 and the non-ASCII spaces) and
/// control characters are refused by their own rules (`char::is_whitespace`,
/// `char::is_control`). A table this small is kept here rather than pulling
/// in the full Unicode property tables, which would grow the Worker's wasm
/// several times more than the rule needs.
const INVISIBLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xE000, 0xF8FF),
    (0xFDD0, 0xFDEF),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
    (0xF0000, 0x10FFFF),
];

/// Whether `c` renders as nothing, reorders text, or has no glyph of its own
/// (see `INVISIBLE`); plane-final noncharacters (U+xFFFE, U+xFFFF) too.
pub fn is_invisible(c: char) -> bool {
    let c = c as u32;
    if c & 0xFFFE == 0xFFFE {
        return true;
    }
    // Sorted, disjoint ranges: the first that ends at or after `c` decides.
    let i = INVISIBLE.partition_point(|&(_, end)| end < c);
    INVISIBLE.get(i).is_some_and(|&(start, _)| start <= c)
}

/// What is wrong with `identity` as a `jdcUserIdentity`, if anything
/// besides its length and control characters (checked with every string):
/// empty, whitespace, invisible characters, or no address.
pub(crate) fn identity_problem(identity: &str) -> Option<String> {
    if identity.trim().is_empty() {
        return Some("must not be empty".into());
    }
    if identity.chars().any(char::is_whitespace) {
        return Some("must not contain whitespace".into());
    }
    if let Some(c) = identity.chars().find(|c| is_invisible(*c)) {
        return Some(format!(
            "must not contain U+{:04X}: invisible, direction-changing and unassignable characters would let two identities look the same",
            c as u32
        ));
    }
    if address_of(identity).is_empty() {
        return Some(
            "has no address: the part before its first `.` (the pool's address) is empty".into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_is_the_part_before_the_first_dot() {
        let cases = [
            ("bc1qxyz", "bc1qxyz"),
            ("bc1qxyz.worker1", "bc1qxyz"),
            ("bc1qxyz.rack.2", "bc1qxyz"),
            ("bc1qxyz.", "bc1qxyz"),
            (".worker", ""),
            ("", ""),
        ];
        for (identity, address) in cases {
            assert_eq!(address_of(identity), address, "identity {identity:?}");
        }
    }

    #[test]
    fn the_table_is_sorted_and_disjoint() {
        for pair in INVISIBLE.windows(2) {
            assert!(pair[0].0 <= pair[0].1 && pair[0].1 < pair[1].0, "{pair:x?}");
        }
    }

    #[test]
    fn invisible_and_reordering_characters_are_named() {
        let invisible = [
            '\u{00AD}',
            '\u{034F}',
            '\u{061C}',
            '\u{115F}',
            '\u{180E}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2060}',
            '\u{2066}',
            '\u{2069}',
            '\u{2800}',
            '\u{3164}',
            '\u{E000}',
            '\u{FDD0}',
            '\u{FE0F}',
            '\u{FEFF}',
            '\u{FFA0}',
            '\u{FFF9}',
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{1343F}',
            '\u{1BCA0}',
            '\u{1D173}',
            '\u{1FFFE}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{E0100}',
            '\u{F0000}',
            '\u{10FFFD}',
        ];
        for c in invisible {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
        }
        let visible = [
            'a',
            'Z',
            '0',
            '.',
            '_',
            '-',
            '~',
            'é',
            'ß',
            'Ж',
            '漢',
            '🦀',
            '\u{00AC}',
            '\u{00AE}',
            '\u{0606}',
            '\u{2010}',
            '\u{2070}',
            '\u{27FF}',
            '\u{2801}',
            '\u{F900}',
            '\u{FDF0}',
            '\u{FFFD}',
            '\u{1F600}',
            '\u{E1000}',
        ];
        for c in visible {
            assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn identity_problems() {
        let refused = [
            ("", "empty"),
            ("   ", "empty"),
            ("bc1q x", "whitespace"),
            ("bc1q\u{00A0}x", "whitespace"),
            ("bc1q\u{2028}x", "whitespace"),
            ("bc1q\u{3000}x", "whitespace"),
            ("bc1q.rig1\u{200B}", "U+200B"),
            ("\u{202E}1gir.q1cb", "U+202E"),
            ("\u{FEFF}bc1q", "U+FEFF"),
            ("bc1q.\u{2066}rig\u{2069}", "U+2066"),
            ("bc1q\u{E0041}", "U+E0041"),
            (".rig1", "no address"),
            (".", "no address"),
            ("..", "no address"),
            (".bc1q.rig1", "no address"),
        ];
        for (identity, want) in refused {
            let problem = identity_problem(identity).unwrap_or_default();
            assert!(problem.contains(want), "{identity:?}: {problem:?}");
        }
        for identity in ["bc1q", "bc1q.rig1", "bc1q.", "bc1q..x", "été.rig", "a/b:c"] {
            assert_eq!(identity_problem(identity), None, "{identity:?}");
        }
    }
}
