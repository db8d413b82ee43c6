//! The SRI translator's output (`translator_sv2`, run with `RUST_LOG=debug`)
//! in, [`Event`]s about its SV1 devices out, in order. Pure, like
//! [`crate::parse`], whose line format and header rules it shares: only
//! lines with a header of the translator's own crate are read.
//!
//! The lines read (translator_sv2 0.6.0):
//!
//! | line | event |
//! |---|---|
//! | `Starting Translator Proxy...`, `Starting SV1 server on ADDR`, `SV1 Server: fallback triggered, clearing state`, `Ctrl+C received — initiating graceful shutdown...`, `TranslatorSv2 shutdown complete.` | [`Event::Reset`]: every device is gone, ids restart at 1 |
//! | `Downstream D registered successfully ...` | [`Event::Registered`] |
//! | `SV1 server: opening extended mining channel for downstream D ...` | [`Event::Opening`]: request ids count these from 1 |
//! | `Downstream D not found when attempting to open channel` | [`Event::OpenAbandoned`] |
//! | `Received: OpenExtendedMiningChannelSuccess { request_id: R, channel_id: C, .. }, user_identity: U, ..` | [`Event::ChannelOpened`] |
//! | DEBUG `Down: Handling mining.subscribe: Subscribe { id: N, agent_signature: A, extranonce1: X }` and the response after it | [`Event::Agent`] |
//! | DEBUG `Down: Set sv1_username 'U' and sv1_worker_name 'W' for downstream D` | [`Event::Worker`] |
//! | `🔌 Downstream: D disconnected ...`, `Sending CloseChannel message: C for downstream: D` | [`Event::Gone`] |
//!
//! # Pairing a user agent with its device
//!
//! The subscribe line carries the miner's own JSON-RPC id, not the
//! downstream's. The translator answers it in the same call, and logs the
//! answer right after: `Down: Sending Sv1 message to downstream: { id: N,
//! result: [..] }`, pretty-printed JSON over several lines whose
//! `mining.set_difficulty` subscription id *is* the downstream id. So a
//! subscribe is paired with the answer that follows it; a subscribe followed
//! by another subscribe before any answer is an orphan and dropped, never
//! glued onto the next device.
//!
//! # Strings the miner chooses
//!
//! The user agent and the SV1 user name are printed raw, so a miner can put
//! line breaks and lines shaped like the translator's (or the JDC's) into
//! them. Such a message is read with the care [`crate::parse`] takes with
//! the JDC's: a subscribe, authorize or user-name line that does not end the
//! way the translator ends it spans lines, and the following lines are held
//! until the message can end; of the ways to end it within a 255-byte string
//! (the longest believed), the *last* is taken, and every line up to it is
//! skipped. Its strings are not believed. A message that does not end within
//! that reach carries a longer string: the lines after it are skipped until
//! the input catches up (the translator writes a message whole) or for the
//! longest SV1 message, 64 KiB. A string over 255 bytes, or with any control
//! character, is not believed either.
//!
//! What this cannot catch: a string whose first line itself ends the way the
//! translator ends the message, and that goes on past a line break. Its
//! later lines read as the translator's. Presence is the JDC's to tell
//! ([`crate::tracker`]), so they cannot add a miner; at worst they misname
//! or drop other devices of the same translator.

use crate::parse::{self, Stamp};

/// The crate the translator logs as (`translator_sv2`; `translator` in
/// older releases).
const TRANSLATOR_CRATES: [&str; 2] = ["translator_sv2", "translator"];

/// The longest SV1 message the translator reads (its line codec's limit):
/// how far a string in one can reach.
const MAX_SV1_MESSAGE: usize = 1 << 16;

/// How far past its first line a message with a believable string (at most
/// 255 bytes) can reach: the string and the fixed text after it.
const REACH: usize = dmr_shared::limits::MAX_FIELD_LEN + 64;

/// How long (log time) a subscribe waits for its answer.
const ANSWER_WINDOW_SECS: i64 = 10;

/// What the translator says about its SV1 devices.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The translator started, is shutting down, or fell back and cleared
    /// its state: every device is gone, and ids start again from 1.
    Reset,
    /// SV1 connection `D` was accepted.
    Registered { downstream_id: u32 },
    /// The translator asks its upstream for a channel for `D`; each such
    /// request takes the next request id (from 1).
    Opening { downstream_id: u32 },
    /// The request for `D` was given up before it was sent.
    OpenAbandoned { downstream_id: u32 },
    /// The upstream (the JDC) granted request `R` channel `C`, opened as
    /// `upstream_identity` (`<user_identity>.miner<k>`).
    ChannelOpened {
        request_id: u32,
        channel_id: u32,
        upstream_identity: String,
    },
    /// `D`'s SV1 user agent; `None` when it was not believed.
    Agent {
        downstream_id: u32,
        agent: Option<String>,
    },
    /// `D` authorised as `username` (`account.worker`).
    Worker {
        downstream_id: u32,
        username: String,
    },
    /// `D` disconnected.
    Gone { downstream_id: u32 },
}

/// An event and when the translator logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub at: Stamp,
    pub event: Event,
}

/// The messages whose strings a miner chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carrier {
    Subscribe,
    Authorize,
    Username,
}

impl Carrier {
    fn of(message: &str) -> Option<Carrier> {
        if message.starts_with("Down: Handling mining.subscribe: ") {
            Some(Carrier::Subscribe)
        } else if message.starts_with("Down: Handling mining.authorize: ") {
            Some(Carrier::Authorize)
        } else if message.starts_with("Down: Set sv1_username '") {
            Some(Carrier::Username)
        } else {
            None
        }
    }

    /// Whether a message of this kind may end with `line`.
    fn may_end(self, line: &str) -> bool {
        match self {
            Carrier::Subscribe => {
                line.ends_with(" }")
                    && line.rfind(", extranonce1: ").is_some_and(|i| {
                        let x = &line[i + ", extranonce1: ".len()..line.len() - 2];
                        x == "None" || (x.starts_with("Some(") && x.ends_with(')'))
                    })
            }
            Carrier::Authorize => line.ends_with(", password: <redacted> }"),
            Carrier::Username => line
                .rsplit_once("' for downstream ")
                .is_some_and(|(_, id)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())),
        }
    }
}

/// A message carrying a miner's string that did not end on its first line,
/// and the lines read after it.
#[derive(Debug)]
struct Held {
    carrier: Carrier,
    at: Stamp,
    rest: Vec<String>,
    bytes: usize,
}

/// A subscribe waiting for the answer that names its downstream.
#[derive(Debug)]
struct Pending {
    agent: Option<String>,
    at: Stamp,
}

/// An answer being read: its lines so far.
#[derive(Debug)]
struct Answer {
    text: String,
}

/// The translator's output, line by line, to events.
#[derive(Debug, Default)]
pub struct Parser {
    scratch: String,
    held: Option<Held>,
    /// Bytes still to skip after a message whose string reached further
    /// than a believable one.
    skipping: Option<usize>,
    pending: Option<Pending>,
    answer: Option<Answer>,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one whole line and hands out the events it completes.
    pub fn push(&mut self, line: &str, out: &mut impl FnMut(Parsed)) {
        let line = line.trim_end_matches(['\n', '\r']);
        if !line.as_bytes().contains(&0x1b) {
            return self.push_clean(line, out);
        }
        let mut clean = std::mem::take(&mut self.scratch);
        parse::strip_ansi(line, &mut clean);
        self.push_clean(&clean, out);
        self.scratch = clean;
    }

    /// The input has caught up: the translator writes each message whole,
    /// so a held message that can end with the lines read so far does.
    pub fn flush(&mut self, out: &mut impl FnMut(Parsed)) {
        self.resolve(false, out);
        // The message being skipped was written whole, and has been read.
        self.skipping = None;
        self.end_answer(out);
    }

    /// The input has ended: decide everything.
    pub fn finish(&mut self, out: &mut impl FnMut(Parsed)) {
        while self.held.is_some() {
            self.resolve(true, out);
        }
        self.end_answer(out);
    }

    fn push_clean(&mut self, line: &str, out: &mut impl FnMut(Parsed)) {
        if let Some(left) = self.skipping {
            self.skipping = left.checked_sub(1 + line.len()).filter(|&l| l > 0);
            return;
        }
        if let Some(held) = &mut self.held {
            held.bytes += 1 + line.len();
            held.rest.push(line.to_owned());
            if held.bytes > REACH {
                self.resolve(true, out);
            }
            return;
        }
        let Some(header) = parse::Header::split_for(line, &TRANSLATOR_CRATES) else {
            // The answer's pretty-printed JSON comes on lines of its own.
            if let Some(answer) = &mut self.answer {
                if answer.text.len() < 4096 {
                    answer.text.push('\n');
                    answer.text.push_str(line);
                }
            }
            return;
        };
        self.end_answer(out);
        let Some(at) = Stamp::parse(header.timestamp) else {
            return;
        };
        self.expire(&at);
        let message = header.message;
        if let Some(carrier) = Carrier::of(message) {
            if carrier.may_end(message) {
                self.whole(carrier, message, at, out);
            } else {
                self.held = Some(Held {
                    carrier,
                    at,
                    rest: Vec::new(),
                    bytes: 0,
                });
            }
            return;
        }
        if let Some(text) = message.strip_prefix("Down: Sending Sv1 message to downstream: ") {
            if self.pending.is_some() {
                self.answer = Some(Answer {
                    text: text.to_owned(),
                });
            }
            return;
        }
        if let Some(event) = classify(message) {
            if event == Event::Reset {
                self.pending = None;
            }
            out(Parsed { at, event });
        }
    }

    /// A carrier that ended on its own line.
    fn whole(&mut self, carrier: Carrier, message: &str, at: Stamp, out: &mut impl FnMut(Parsed)) {
        match carrier {
            Carrier::Subscribe => {
                let agent = subscribe_agent(message).filter(|a| believable(a));
                // A subscribe still waiting for its answer is an orphan now.
                self.pending = Some(Pending {
                    agent: agent.map(str::to_owned),
                    at,
                });
            }
            Carrier::Username => {
                if let Some((username, downstream_id)) = username(message) {
                    if believable(username) {
                        out(Parsed {
                            at,
                            event: Event::Worker {
                                downstream_id,
                                username: username.to_owned(),
                            },
                        });
                    }
                }
            }
            Carrier::Authorize => {}
        }
    }

    /// Ends a held message at the last line that can end it (`now`: even if
    /// more lines could still come), skips the lines up to there, and reads
    /// the lines after it anew.
    fn resolve(&mut self, now: bool, out: &mut impl FnMut(Parsed)) {
        let Some(held) = self.held.take() else {
            return;
        };
        // Only the lines within reach of a believable string may end it.
        let mut bytes = 0;
        let within = held
            .rest
            .iter()
            .take_while(|l| {
                bytes += 1 + l.len();
                bytes <= REACH
            })
            .count();
        let end = held.rest[..within]
            .iter()
            .rposition(|l| held.carrier.may_end(l));
        let skip = match end {
            Some(i) => i + 1,
            None if !now => {
                self.held = Some(held);
                return;
            }
            // Its string reaches further: skip what it may still cover.
            None => {
                self.skipping = MAX_SV1_MESSAGE.checked_sub(held.bytes).filter(|&l| l > 0);
                held.rest.len()
            }
        };
        if held.carrier == Carrier::Subscribe {
            // A user agent with line breaks: its device's make stays unknown.
            self.pending = Some(Pending {
                agent: None,
                at: held.at,
            });
        }
        for line in &held.rest[skip..] {
            self.push_clean(line, out);
        }
    }

    /// The answer read so far is complete: pair it with the waiting
    /// subscribe if it names a downstream.
    fn end_answer(&mut self, out: &mut impl FnMut(Parsed)) {
        let Some(answer) = self.answer.take() else {
            return;
        };
        let Some(downstream_id) = subscribed_downstream(&answer.text) else {
            return;
        };
        let Some(pending) = self.pending.take() else {
            return;
        };
        out(Parsed {
            at: pending.at,
            event: Event::Agent {
                downstream_id,
                agent: pending.agent,
            },
        });
    }

    /// Drops a subscribe that waited too long for its answer.
    fn expire(&mut self, now: &Stamp) {
        if let Some(p) = &self.pending {
            if (now.time - p.at.time).num_seconds() > ANSWER_WINDOW_SECS {
                self.pending = None;
            }
        }
    }
}

/// Parses a whole text (a captured log); see [`Parser`] for reading a
/// followed one.
pub fn parse_text(text: &str) -> Vec<Parsed> {
    let mut parser = Parser::new();
    let mut events = Vec::new();
    for line in text.lines() {
        parser.push(line, &mut |p| events.push(p));
    }
    parser.finish(&mut |p| events.push(p));
    events
}

/// A user agent or user name is believed when it is at most 255 bytes and
/// has no control character (line breaks included).
fn believable(s: &str) -> bool {
    s.len() <= dmr_shared::limits::MAX_FIELD_LEN && !s.chars().any(char::is_control)
}

/// `Subscribe { id: N, agent_signature: A, extranonce1: X }`: A, cut at the
/// last `, extranonce1: ` (X holds no string).
fn subscribe_agent(message: &str) -> Option<&str> {
    let body = message.strip_prefix("Down: Handling mining.subscribe: Subscribe { id: ")?;
    let start = body.find(", agent_signature: ")? + ", agent_signature: ".len();
    let end = body.rfind(", extranonce1: ")?;
    (end >= start).then(|| &body[start..end])
}

/// `Set sv1_username 'U' and sv1_worker_name 'W' for downstream D`: U and D.
/// W is U after its first `.` (the translator derives it so), which tells
/// where U ends when U itself holds the text between them.
fn username(message: &str) -> Option<(&str, u32)> {
    let body = message.strip_prefix("Down: Set sv1_username '")?;
    let (names, id) = body.rsplit_once("' for downstream ")?;
    let id = id.parse().ok()?;
    const AND: &str = "' and sv1_worker_name '";
    names
        .match_indices(AND)
        .map(|(i, _)| (&names[..i], &names[i + AND.len()..]))
        .find(|(user, worker)| {
            let derived = user.split_once('.').map_or(*user, |(_, w)| w);
            derived == *worker
        })
        .map(|(user, _)| (user, id))
}

/// The downstream id an answer to `mining.subscribe` gives as its
/// `mining.set_difficulty` subscription id.
fn subscribed_downstream(answer: &str) -> Option<u32> {
    let at = answer.find("\"mining.set_difficulty\"")? + "\"mining.set_difficulty\"".len();
    let rest = answer[at..].trim_start().strip_prefix(',')?.trim_start();
    let quoted = rest.strip_prefix('"')?;
    let digits = &quoted[..quoted.find('"')?];
    digits.parse().ok()
}

/// The translator's lines that carry no miner string.
fn classify(msg: &str) -> Option<Event> {
    if msg.starts_with("Starting SV1 server on")
        || msg.starts_with("Starting Translator Proxy")
        || msg.starts_with("SV1 Server: fallback triggered")
        || msg.starts_with("Ctrl+C received")
        || msg.starts_with("TranslatorSv2 shutdown complete")
    {
        return Some(Event::Reset);
    }
    if let Some(rest) = msg.strip_prefix("Downstream ") {
        let (id, after) = leading_number(rest)?;
        if after.starts_with(" registered successfully") {
            return Some(Event::Registered { downstream_id: id });
        }
        if after.starts_with(" not found when attempting to open channel") {
            return Some(Event::OpenAbandoned { downstream_id: id });
        }
        return None;
    }
    if let Some(rest) =
        msg.strip_prefix("SV1 server: opening extended mining channel for downstream ")
    {
        let (id, _) = leading_number(rest)?;
        return Some(Event::Opening { downstream_id: id });
    }
    if let Some(rest) = msg.strip_prefix("🔌 Downstream: ") {
        let (id, after) = leading_number(rest)?;
        return after
            .starts_with(" disconnected")
            .then_some(Event::Gone { downstream_id: id });
    }
    if let Some(rest) = msg.strip_prefix("Sending CloseChannel message: ") {
        let (_, after) = leading_number(rest)?;
        let (id, _) = leading_number(after.strip_prefix(" for downstream: ")?)?;
        return Some(Event::Gone { downstream_id: id });
    }
    if let Some(rest) = msg.strip_prefix("Received: OpenExtendedMiningChannelSuccess") {
        let request_id = number_of(rest, "request_id: ")?;
        let channel_id = number_of(rest, " channel_id: ")?;
        let start = rest.rfind(", user_identity: ")? + ", user_identity: ".len();
        let end = rest.rfind(", nominal_hashrate: ").filter(|&e| e >= start)?;
        return Some(Event::ChannelOpened {
            request_id,
            channel_id,
            upstream_identity: rest[start..end].to_owned(),
        });
    }
    None
}

/// The number after the first `name` (`request_id: 3`), where `name` is
/// not the end of a longer field name (`group_channel_id: `).
fn number_of(s: &str, name: &str) -> Option<u32> {
    let mut from = 0;
    while let Some(i) = s[from..].find(name) {
        let at = from + i;
        let before = s[..at].chars().last();
        let name_starts =
            name.starts_with(' ') || !before.is_some_and(|c| c == '_' || c.is_ascii_alphanumeric());
        if name_starts {
            return leading_number(&s[at + name.len()..]).map(|(n, _)| n);
        }
        from = at + name.len();
    }
    None
}

fn leading_number(s: &str) -> Option<(u32, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    Some((s[..digits].parse().ok()?, &s[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "2026-12-07T10:00:00.000000Z";

    fn line(level: &str, target: &str, message: &str) -> String {
        format!("{T} {level:>5} {target}: {message}")
    }

    fn subscribe(agent: &str) -> String {
        line(
            "DEBUG",
            "translator_sv2::sv1::sv1_server::downstream_message_handler",
            &format!("Down: Handling mining.subscribe: Subscribe {{ id: 1, agent_signature: {agent}, extranonce1: None }}"),
        )
    }

    fn answer(downstream: u32) -> Vec<String> {
        let mut lines = vec![line(
            "DEBUG",
            "translator_sv2::sv1::sv1_server",
            "Down: Sending Sv1 message to downstream: { id: 1, result: [",
        )];
        for l in [
            "  [",
            "    [",
            "      \"mining.set_difficulty\",",
            &format!("      \"{downstream}\""),
            "    ],",
            "    [",
            "      \"mining.notify\",",
            "      \"ae6812eb4cd7735a302a8a9dd95cf71f\"",
            "    ]",
            "  ],",
            "  \"00000001\",",
            "  4",
            "] }",
        ] {
            lines.push(l.to_owned());
        }
        lines
    }

    fn events(lines: &[String]) -> Vec<Event> {
        parse_text(&lines.join("\n"))
            .into_iter()
            .map(|p| p.event)
            .collect()
    }

    fn agent(d: u32, a: &str) -> Event {
        Event::Agent {
            downstream_id: d,
            agent: Some(a.into()),
        }
    }

    #[test]
    fn a_subscribe_is_paired_with_the_answer_that_names_its_downstream() {
        let mut lines = vec![subscribe("bitaxe/BM1370/v2.14.0")];
        lines.extend(answer(3));
        assert_eq!(events(&lines), [agent(3, "bitaxe/BM1370/v2.14.0")]);
        // An answer to something else (no set_difficulty) pairs nothing.
        let other = line(
            "DEBUG",
            "translator_sv2::sv1::sv1_server",
            "Down: Sending Sv1 message to downstream: { id: 2, result: true }",
        );
        let mut lines = vec![subscribe("a/BM1/v1"), other];
        lines.extend(answer(4));
        assert_eq!(events(&lines), [agent(4, "a/BM1/v1")]);
    }

    #[test]
    fn a_subscribe_without_its_answer_is_never_glued_onto_the_next_device() {
        let mut lines = vec![subscribe("first/BM1/v1"), subscribe("second/BM1/v1")];
        lines.extend(answer(2));
        assert_eq!(events(&lines), [agent(2, "second/BM1/v1")]);
        // An answer with no subscribe waiting pairs nothing.
        assert_eq!(events(&answer(5)), []);
    }

    #[test]
    fn a_user_agent_with_line_breaks_changes_nothing_else() {
        let forged = [
            line("INFO", "translator_sv2", "🔌 Downstream: 1 disconnected"),
            subscribe("bitaxe/BM1370/v9.9.9"),
        ]
        .join("\n");
        // The forged lines end with the subscribe's own tail.
        let hostile = subscribe(&format!(
            "evil/1.0\n{}",
            forged.trim_end_matches(", extranonce1: None }")
        ));
        assert!(hostile.len() - hostile.find('\n').unwrap() <= REACH);
        let mut lines = vec![hostile];
        lines.extend(answer(2));
        lines.push(line(
            "INFO",
            "translator_sv2::sv1::sv1_server",
            "Downstream 3 registered successfully (channel will be opened after first message)",
        ));
        assert_eq!(
            events(&lines),
            [
                Event::Agent {
                    downstream_id: 2,
                    agent: None
                },
                Event::Registered { downstream_id: 3 }
            ]
        );
    }

    #[test]
    fn a_longer_string_with_line_breaks_is_skipped_until_the_input_caught_up() {
        let forged: Vec<String> = (0..5)
            .map(|i| {
                line(
                    "INFO",
                    "translator_sv2::sv1::sv1_server",
                    &format!("Starting SV1 server on 0.0.0.0:{i}"),
                )
            })
            .collect();
        let hostile = subscribe(&format!("evil\n{}\nx", forged.join("\n")));
        let mut parser = Parser::new();
        let mut got = Vec::new();
        for l in hostile.lines() {
            parser.push(l, &mut |p| got.push(p.event));
        }
        // Within what the translator wrote in one go: nothing is read.
        let registered = line(
            "INFO",
            "translator_sv2::sv1::sv1_server",
            "Downstream 4 registered successfully (channel will be opened after first message)",
        );
        parser.push(&registered, &mut |p| got.push(p.event));
        assert_eq!(got, []);
        // The input caught up: what the translator writes next is read.
        parser.flush(&mut |p| got.push(p.event));
        parser.push(&registered, &mut |p| got.push(p.event));
        assert_eq!(got, [Event::Registered { downstream_id: 4 }]);
    }

    #[test]
    fn overlong_and_control_character_strings_are_not_believed() {
        let mut lines = vec![subscribe(&"x".repeat(256))];
        lines.extend(answer(1));
        lines.push(subscribe("a\u{7}b"));
        lines.extend(answer(2));
        assert_eq!(
            events(&lines),
            [
                Event::Agent {
                    downstream_id: 1,
                    agent: None
                },
                Event::Agent {
                    downstream_id: 2,
                    agent: None
                }
            ]
        );
    }

    #[test]
    fn user_names_channels_and_departures() {
        let target = "translator_sv2::sv1::sv1_server";
        let lines = [
            line("INFO", target, "Starting SV1 server on 127.0.0.1:34255"),
            line("INFO", target, "Downstream 1 registered successfully (channel will be opened after first message)"),
            line("INFO", target, "SV1 server: opening extended mining channel for downstream 1 after first message"),
            line("INFO", "translator_sv2::sv2::channel_manager::mining_message_handler", "Received: OpenExtendedMiningChannelSuccess { request_id: 1, channel_id: 2, target: U256(ff), extranonce_size: 4, extranonce_prefix: B032(00), group_channel_id: 1 }, user_identity: bc1qacct.miner1, nominal_hashrate: 100000000000000"),
            line("DEBUG", "translator_sv2::sv1::sv1_server::downstream_message_handler", "Down: Set sv1_username 'bc1qacct.rig' and sv1_worker_name 'rig' for downstream 1"),
            line("DEBUG", "translator_sv2::sv1::sv1_server::downstream_message_handler", "Down: Set sv1_username 'a' and sv1_worker_name 'b' and sv1_worker_name 'b' for downstream 1"),
            line("INFO", target, "Sending CloseChannel message: 2 for downstream: 1"),
            line("INFO", target, "🔌 Downstream: 1 disconnected and removed from sv1 server downstreams"),
            // Another role's line is not the translator's.
            format!("{T}  INFO jd_client_sv2::downstream: Downstream 5 registered successfully"),
        ];
        assert_eq!(
            events(&lines),
            [
                Event::Reset,
                Event::Registered { downstream_id: 1 },
                Event::Opening { downstream_id: 1 },
                Event::ChannelOpened {
                    request_id: 1,
                    channel_id: 2,
                    upstream_identity: "bc1qacct.miner1".into()
                },
                Event::Worker {
                    downstream_id: 1,
                    username: "bc1qacct.rig".into()
                },
                Event::Gone { downstream_id: 1 },
                Event::Gone { downstream_id: 1 },
            ]
        );
    }
}
