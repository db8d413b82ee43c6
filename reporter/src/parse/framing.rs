//! Where a message that carries miners' strings ends.
//!
//! Miners choose some of the strings the JDC logs: a `SetupConnection`'s
//! vendor, hardware version, firmware, device id and endpoint host, a
//! channel's `user_identity`, a `CloseChannel`'s reason. The JDC prints them
//! as they came (`Str0255::as_utf8_or_hex`), and tracing-subscriber escapes
//! colour codes but not line breaks, so a miner can end a string with a
//! newline and a line that looks exactly like the JDC's (`... Ctrl+C
//! received ...`, a disconnect of someone else's downstream). So a message
//! that carries such strings (a [`Carrier`]) is read as one unit with the
//! lines that follow it, and ends where its fixed text ends: after the
//! `device_id: ...)` of a `SetupConnection`, the `downstream_id=N` of a
//! channel open.
//!
//! The strings are at most 255 bytes each, so every physical line that a
//! message's strings can span is among the following lines that fit in those
//! 255-byte budgets ([`Carrier::budget`]): of the ways to end the message
//! there, the parser takes the *last* one, so no line that may be inside a
//! miner's string is ever read on its own. (The price: a real line short
//! enough to fit in a string, logged right after such a message and ending
//! the way that message ends, is taken as part of it. The JDC's own lines
//! that can do that are rare disconnect lines.) A message that spans lines
//! is a miner writing line breaks into its strings: its device strings are
//! dropped, its channel kept.
//!
//! This is the grammar of those messages' ends; holding the lines and
//! choosing among the ends is the parser's.

use super::ChannelKind;

/// The longest a `Str0255` prints: 255 bytes of UTF-8, or `0x` and the hex
/// of 255 bytes when they are not UTF-8 (which has no line break in it).
const MAX_STR_TEXT: usize = 2 + 2 * 255;

/// The messages whose strings a miner chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Carrier {
    Setup,
    Channel(ChannelKind),
    Close,
}

impl Carrier {
    pub(super) fn of(message: &str) -> Option<Carrier> {
        let body = message.strip_prefix("Received: ")?;
        if body.starts_with("SetupConnection(") && body.contains("endpoint_host: ") {
            Some(Carrier::Setup)
        } else if body.starts_with("OpenStandardMiningChannel(") && body.contains("user_identity: ")
        {
            Some(Carrier::Channel(ChannelKind::Standard))
        } else if body.starts_with("OpenExtendedMiningChannel(") && body.contains("user_identity: ")
        {
            Some(Carrier::Channel(ChannelKind::Extended))
        } else if body.starts_with("CloseChannel(") && body.contains("reason_code: ") {
            Some(Carrier::Close)
        } else {
            None
        }
    }

    /// How far past its first line the message can reach: its strings at
    /// their longest, and the fixed text after them.
    pub(super) fn budget(self) -> usize {
        match self {
            Carrier::Setup => 5 * MAX_STR_TEXT + 128,
            Carrier::Channel(_) => MAX_STR_TEXT + 256,
            Carrier::Close => MAX_STR_TEXT + 8,
        }
    }

    /// Whether a message whose last line is `line` may end there: a cheap
    /// look at how each kind's last line ends.
    pub(super) fn may_end(self, line: &str) -> bool {
        match self {
            Carrier::Setup | Carrier::Close => line.ends_with(')'),
            Carrier::Channel(_) => line.ends_with(|c: char| c.is_ascii_digit()),
        }
    }

    /// Whether `message` (its physical lines joined by `\n`; the last one
    /// starts at `last_line`) is a whole message of this kind, with every
    /// string within its limit.
    pub(super) fn closes(self, message: &str, last_line: usize) -> bool {
        if !self.may_end(message) {
            return false;
        }
        match self {
            Carrier::Setup => {
                let Some(i) = message.find("endpoint_host: ") else {
                    return false;
                };
                fits_grammar(&message[i + "endpoint_host: ".len()..], SETUP_TAIL)
            }
            Carrier::Channel(_) => channel_parts(message, last_line).is_some(),
            Carrier::Close => {
                let Some(i) = message.find("reason_code: ") else {
                    return false;
                };
                let reason = &message[i + "reason_code: ".len()..];
                reason.strip_suffix(')').is_some_and(fits_str)
            }
        }
    }
}

/// The JDC's `SetupConnection` from its `endpoint_host` on: strings (`S`),
/// numbers (`D`) and the fixed text between them.
const SETUP_TAIL: &[Part] = &[
    Part::Str,
    Part::Lit(", endpoint_port: "),
    Part::Digits,
    Part::Lit(", vendor: "),
    Part::Str,
    Part::Lit(", hardware_version: "),
    Part::Str,
    Part::Lit(", firmware: "),
    Part::Str,
    Part::Lit(", device_id: "),
    Part::Str,
    Part::Lit(")"),
];

#[derive(Debug, Clone, Copy)]
enum Part {
    Lit(&'static str),
    Digits,
    /// A `Str0255` as printed; always followed by a `Lit`.
    Str,
}

/// Whether `text` is exactly `parts`, for *some* way of cutting the strings:
/// a string may contain the field names that follow it, so every cut is
/// tried. Cuts already known to fail are remembered, so a hostile string
/// full of field names costs at most (positions x parts) steps.
fn fits_grammar(text: &str, parts: &[Part]) -> bool {
    fn go(
        text: &str,
        pos: usize,
        parts: &[Part],
        i: usize,
        failed: &mut std::collections::HashSet<(usize, usize)>,
    ) -> bool {
        let Some(part) = parts.get(i) else {
            return pos == text.len();
        };
        if failed.contains(&(pos, i)) {
            return false;
        }
        let rest = &text[pos..];
        let ok = match *part {
            Part::Lit(lit) => {
                rest.starts_with(lit) && go(text, pos + lit.len(), parts, i + 1, failed)
            }
            Part::Digits => {
                let n = rest.bytes().take_while(u8::is_ascii_digit).count();
                n > 0 && go(text, pos + n, parts, i + 1, failed)
            }
            Part::Str => {
                let Some(Part::Lit(next)) = parts.get(i + 1) else {
                    unreachable!("a string is followed by fixed text")
                };
                // The string ends within its longest printed form: search
                // no further than that (the text after it may be long).
                let mut window = rest.len().min(MAX_STR_TEXT + next.len());
                while !rest.is_char_boundary(window) {
                    window -= 1;
                }
                rest[..window].match_indices(next).any(|(at, _)| {
                    fits_str(&rest[..at]) && go(text, pos + at, parts, i + 1, failed)
                })
            }
        };
        if !ok {
            failed.insert((pos, i));
        }
        ok
    }
    go(text, 0, parts, 0, &mut std::collections::HashSet::new())
}

/// Whether `s` can be one printed `Str0255`.
fn fits_str(s: &str) -> bool {
    s.len() <= 255
        || (s.len() <= MAX_STR_TEXT
            && s.strip_prefix("0x")
                .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit())))
}

/// A channel open's identity, hash rate text and downstream id, when
/// `message` is a whole one. The identity runs from `user_identity: ` to
/// the first `, nominal_hash_rate: ` on the last line (what follows the
/// identity holds no string, so no line break), and the line ends with the
/// `downstream_id=N` tracing field.
pub(super) fn channel_parts(message: &str, last_line: usize) -> Option<(&str, &str, u32)> {
    let start = message.find("user_identity: ")? + "user_identity: ".len();
    let from = start.max(last_line);
    let cut = from + message[from..].find(", nominal_hash_rate: ")?;
    let identity = &message[start..cut];
    if !fits_str(identity) {
        return None;
    }
    let rest = &message[cut + ", nominal_hash_rate: ".len()..];
    let (_, id) = rest.rsplit_once(" downstream_id=")?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let end = rest
        .find(", max_target: ")
        .or_else(|| rest.find(", "))
        .or_else(|| rest.find(')'))?;
    Some((identity, &rest[..end], id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::super::samples::{events, open_line, setup_line, FORGED_GONE, FORGED_STOP};
    use super::super::{ChannelKind, Device, Event};

    #[test]
    fn a_newline_in_a_vendor_cannot_forge_a_line() {
        let bitaxe = open_line("bc1q.bitaxe", 0);
        let evil_open = open_line("bc1q.evil", 1);
        let evil = |setup: String| events(&format!("{bitaxe}\n{setup}\n{evil_open}\n"));
        let opened = |who: &str, id: u32| Event::ChannelOpened {
            kind: ChannelKind::Standard,
            downstream_id: id,
            user_identity: who.into(),
            nominal_hash_rate: Some(1e12),
        };
        let blank = Event::Setup(Device::default());
        for forged in [FORGED_STOP, FORGED_GONE] {
            // Raw: the forged line is a line of the log, inside the vendor.
            let raw = evil(setup_line(&format!("Acme\n{forged}"), ""));
            assert_eq!(
                raw,
                [
                    opened("bc1q.bitaxe", 0),
                    blank.clone(),
                    opened("bc1q.evil", 1)
                ],
                "{forged}"
            );
            // The same, in the device id (the last string: only `)` follows
            // the forged line), and with the vendor also faking the end of
            // the message before its line break.
            let raw = evil(setup_line("x", &format!("d\n{forged}")));
            assert_eq!(
                raw,
                [
                    opened("bc1q.bitaxe", 0),
                    blank.clone(),
                    opened("bc1q.evil", 1)
                ],
                "{forged}"
            );
            let faked = format!("x, hardware_version: a, firmware: b, device_id: c)\n{forged}\n2026-11-24T18:36:13.100000Z  INFO jd_client_sv2: y");
            let raw = evil(setup_line(&faked, ""));
            assert_eq!(
                raw,
                [
                    opened("bc1q.bitaxe", 0),
                    blank.clone(),
                    opened("bc1q.evil", 1)
                ],
                "{forged}"
            );
            // Escaped: one line, and the forged text is just a vendor string.
            let escaped = evil(setup_line(&format!("Acme\\n{forged}"), ""));
            assert_eq!(escaped.len(), 3, "{escaped:?}");
            assert!(
                matches!(&escaped[1], Event::Setup(d) if d.vendor == format!("Acme\\n{forged}")),
                "{escaped:?}"
            );
        }
    }

    #[test]
    fn a_newline_in_a_user_identity_cannot_forge_a_line() {
        let bitaxe = open_line("bc1q.bitaxe", 0);
        let mut tried = 0;
        for forged in [FORGED_STOP, FORGED_GONE] {
            for identity in [
                format!("bc1q.evil\n{forged}"),
                format!("bc1q.evil, nominal_hash_rate: 1, max_target: U256(ff)) downstream_id=0\n{forged}\n2026-11-24T18:36:13.100000Z  INFO jd_client_sv2: y"),
            ] {
                if identity.len() > 255 {
                    // Longer than a Str0255: no miner can send it.
                    continue;
                }
                tried += 1;
                let got = events(&format!("{bitaxe}\n{}\n", open_line(&identity, 1)));
                assert_eq!(got.len(), 2, "{got:?}");
                // One channel, on the miner's own downstream, whose identity
                // holds the whole text (the report drops its line breaks).
                assert!(
                    matches!(&got[1], Event::ChannelOpened { downstream_id: 1, user_identity, .. } if *user_identity == identity),
                    "{got:?}"
                );
            }
            let escaped = events(&format!(
                "{bitaxe}\n{}\n",
                open_line(&format!("bc1q.evil\\n{forged}"), 1)
            ));
            assert!(
                matches!(
                    &escaped[..],
                    [
                        _,
                        Event::ChannelOpened {
                            downstream_id: 1,
                            ..
                        }
                    ]
                ),
                "{escaped:?}"
            );
        }
        assert_eq!(tried, 3);
    }

    #[test]
    fn a_newline_in_a_close_reason_cannot_forge_a_line() {
        let close = format!("2026-11-24T18:36:20.000000Z  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: CloseChannel(channel_id: 1, reason_code: bye\n{FORGED_STOP})");
        // The channel id comes before the reason: the close is read, the
        // forged line inside the reason is not.
        assert_eq!(events(&close), [Event::ChannelClosed { channel_id: 1 }]);
    }

    #[test]
    fn hostile_strings_full_of_field_names_are_read_quickly() {
        let names = ", hardware_version: , firmware: , device_id: )".repeat(5);
        let text = setup_line(&names, &names);
        // Bounded: each (position, field) is tried once.
        assert_eq!(events(&text).len(), 1);
    }
}
