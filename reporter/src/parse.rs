//! The JDC's output in, [`Event`]s out, in order.
//!
//! Pure: no IO and no clock, so the tracker and the tests can replay any log.
//! Every pattern here is one SRI actually prints (the fixture log, the
//! `sv2-apps` and older `stratum` sources), not a guess:
//!
//! - a line is tracing-subscriber's default format,
//!   `<RFC 3339> <LEVEL> <target>: <message> <key=value ...>`, with ANSI
//!   colour when the JDC's stdout was a terminal (stripped first);
//! - message structs are printed raw: an empty vendor prints as nothing and a
//!   comma or parenthesis inside a string is not escaped, so values are cut at
//!   the *next field name* (the field order is fixed), never at `,` or `)`;
//! - `downstream_id` is a tracing field after the message, not part of it.
//!
//! # Which lines are trusted
//!
//! Only lines that start with the JDC's own header: its timestamp, a level,
//! and a target in the JDC's crate (`jd_client_sv2`, formerly `jd_client`).
//! Lines of other roles, of this reporter, or without a header say nothing.
//!
//! That alone is not enough, because miners choose some of the strings the
//! JDC logs: a `SetupConnection`'s vendor, hardware version, firmware, device
//! id and endpoint host, a channel's `user_identity`, a `CloseChannel`'s
//! reason. The JDC prints them as they came (`Str0255::as_utf8_or_hex`), and
//! tracing-subscriber escapes colour codes but not line breaks, so a miner
//! can end a string with a newline and a line that looks exactly like the
//! JDC's (`... Ctrl+C received ...`, a disconnect of someone else's
//! downstream). So a message that carries such strings is read as one unit
//! with the lines that follow it, and ends where its fixed text ends:
//! after the `device_id: ...)` of a `SetupConnection`, the `downstream_id=N`
//! of a channel open. The strings are at most 255 bytes each, so every
//! physical line that a message's strings can span is among the following
//! lines that fit in those 255-byte budgets: of the ways to end the message
//! there, the parser takes the *last* one, so no line that may be inside a
//! miner's string is ever read on its own. (The price: a real line short
//! enough to fit in a string, logged right after such a message and ending
//! the way that message ends, is taken as part of it. The JDC's own lines
//! that can do that are rare disconnect lines.) A message that spans lines
//! is a miner writing line breaks into its strings: its device strings are
//! dropped, its channel kept.
//!
//! Deciding where such a message ends needs the lines after it, so the
//! parser holds them until the budget is spent or the input is caught up
//! ([`Parser::flush`]: the JDC writes each message whole), then hands out
//! the events in log order.
//!
//! Most lines are noise (templates, shares, vardiff); they are rejected after
//! a few byte comparisons and without allocating.

use chrono::{DateTime, FixedOffset};

/// The two kinds of mining channel a downstream can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Standard,
    Extended,
}

/// What a device said about itself in `SetupConnection`. Any field may be
/// empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    pub vendor: String,
    pub hardware_version: String,
    pub firmware: String,
    pub device_id: String,
}

/// Why the JDC dropped every downstream at once, without a line per miner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    /// The JDC (re)started its downstream server: downstream ids restart at 0.
    Started,
    /// The pool or JDS connection dropped and the JDC is falling back.
    UpstreamLost,
    /// The JDC is shutting down.
    Shutdown,
}

/// Something that changes who is connected.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `Received: SetupConnection(..)`: a new downstream introduced itself.
    /// It carries no downstream id; the tracker pairs it with the next new
    /// downstream that opens a channel.
    Setup(Device),
    /// `Rejecting ...`: the SetupConnection logged just before was refused.
    SetupRejected,
    /// `Failed to set up downstream connection e=JDCError { kind: K, ..
    /// Disconnect(N) .. }`: downstream N never got past SetupConnection.
    /// `setup_logged` when K is an error raised after its SetupConnection was
    /// logged (a refusal, or the answer could not be sent); not when the
    /// first message was something else or never came.
    SetupFailed {
        downstream_id: Option<u32>,
        setup_logged: bool,
    },
    /// `Received: Open{Standard,Extended}MiningChannel(..) downstream_id=N`.
    ChannelOpened {
        kind: ChannelKind,
        downstream_id: u32,
        user_identity: String,
        /// `None` when the number could not be read at all.
        nominal_hash_rate: Option<f64>,
    },
    /// `Failed to create standard channel` and friends: the channel opened
    /// just before was refused (the downstream stays connected).
    ChannelFailed,
    /// `Received: CloseChannel(channel_id: C, ..)`: a downstream closed one
    /// of its channels (a translator's SV1 device left). The line has no
    /// downstream id; channel ids are counted per downstream.
    ChannelClosed { channel_id: u32 },
    /// Downstream N is gone, in any of the wordings SRI has used.
    Disconnected { downstream_id: u32 },
    /// Every downstream is gone.
    Reset(Reset),
}

/// A log line's own timestamp: the text as printed (it becomes a miner's
/// `connectedAt`) and its value (for the pairing window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub text: String,
    pub time: DateTime<FixedOffset>,
}

impl Stamp {
    /// Reads an RFC 3339 timestamp; `None` for anything else.
    pub fn parse(text: &str) -> Option<Stamp> {
        let time = DateTime::parse_from_rfc3339(text).ok()?;
        Some(Stamp {
            text: text.to_owned(),
            time,
        })
    }
}

/// An event and when the JDC logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub at: Stamp,
    pub event: Event,
}

/// The longest a `Str0255` prints: 255 bytes of UTF-8, or `0x` and the hex
/// of 255 bytes when they are not UTF-8 (which has no line break in it).
const MAX_STR_TEXT: usize = 2 + 2 * 255;

/// A message carrying strings that miners choose, whose end is not decided
/// yet, and the lines read after it.
#[derive(Debug)]
struct Open {
    carrier: Carrier,
    at: Stamp,
    /// What the header line had in front of the JDC's timestamp (a docker
    /// prefix), which every following line has too.
    wrapper: Wrapper,
    /// The message, from its first line.
    first: String,
    rest: Vec<String>,
    /// Bytes of `rest`, with the line breaks between.
    rest_bytes: usize,
}

/// The messages whose strings a miner chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carrier {
    Setup,
    Channel(ChannelKind),
    Close,
}

impl Carrier {
    fn of(message: &str) -> Option<Carrier> {
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
    fn budget(self) -> usize {
        match self {
            Carrier::Setup => 5 * MAX_STR_TEXT + 128,
            Carrier::Channel(_) => MAX_STR_TEXT + 256,
            Carrier::Close => MAX_STR_TEXT + 8,
        }
    }

    /// Whether a message whose last line is `line` may end there: a cheap
    /// look at how each kind's last line ends.
    fn may_end(self, line: &str) -> bool {
        match self {
            Carrier::Setup | Carrier::Close => line.ends_with(')'),
            Carrier::Channel(_) => line.ends_with(|c: char| c.is_ascii_digit()),
        }
    }

    /// Whether `message` (its physical lines joined by `\n`; the last one
    /// starts at `last_line`) is a whole message of this kind, with every
    /// string within its limit.
    fn closes(self, message: &str, last_line: usize) -> bool {
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
fn channel_parts(message: &str, last_line: usize) -> Option<(&str, &str, u32)> {
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

/// The JDC's output, line by line, to events. Holds a little state: a
/// buffer for stripping colour, and the message whose end is not decided
/// yet (see the module doc).
#[derive(Debug, Default)]
pub struct Parser {
    scratch: String,
    open: Option<Open>,
}

/// How far [`Parser::resolve`] may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decide {
    /// More lines may come: decide only if the message can end already.
    IfPossible,
    /// No more lines belong to the message (its budget is spent, or the
    /// input ended): decide now.
    Now,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one whole line (with or without its line ending) and hands out
    /// the events it completes.
    pub fn push(&mut self, line: &str, out: &mut impl FnMut(Parsed)) {
        let line = line.trim_end_matches(['\n', '\r']);
        if !line.as_bytes().contains(&ESC) {
            return self.push_clean(line, out);
        }
        let mut clean = std::mem::take(&mut self.scratch);
        strip_ansi(line, &mut clean);
        self.push_clean(&clean, out);
        self.scratch = clean;
    }

    /// The input has caught up with what the JDC wrote: decide what can be
    /// decided. The JDC writes each message whole, so a message that can end
    /// with the lines read so far does.
    pub fn flush(&mut self, out: &mut impl FnMut(Parsed)) {
        while self.open.is_some() && self.resolve(Decide::IfPossible, out) {}
    }

    /// The input has ended: decide everything.
    pub fn finish(&mut self, out: &mut impl FnMut(Parsed)) {
        while self.open.is_some() {
            self.resolve(Decide::Now, out);
        }
    }

    fn push_clean(&mut self, line: &str, out: &mut impl FnMut(Parsed)) {
        if let Some(open) = &mut self.open {
            let line = open.wrapper.strip(line);
            open.rest_bytes += 1 + line.len();
            open.rest.push(line.to_owned());
            if open.rest_bytes > open.carrier.budget() {
                self.resolve(Decide::Now, out);
            }
            return;
        }
        let Some(header) = Header::split(line) else {
            return;
        };
        if let Some(carrier) = Carrier::of(header.message) {
            if let Some(at) = Stamp::parse(header.timestamp) {
                self.open = Some(Open {
                    carrier,
                    at,
                    wrapper: header.wrapper,
                    first: header.message.to_owned(),
                    rest: Vec::new(),
                    rest_bytes: 0,
                });
            }
            return;
        }
        if let Some(event) = classify(header.message) {
            if let Some(at) = Stamp::parse(header.timestamp) {
                out(Parsed { at, event });
            }
        }
    }

    /// Ends the open message at the last line that can end it, hands out its
    /// event, and reads the lines after it anew. Returns whether it did.
    fn resolve(&mut self, decide: Decide, out: &mut impl FnMut(Parsed)) -> bool {
        let Some(open) = self.open.take() else {
            return false;
        };
        // Where each candidate end is: after the first line, after each
        // following one that may end it. (Usually none may, and the first
        // line is decided without joining anything to it.)
        let last_candidate = open
            .rest
            .iter()
            .rposition(|line| open.carrier.may_end(line))
            .map_or(0, |i| i + 1);
        let mut message = open.first.clone();
        let mut ends = vec![(message.len(), 0)];
        for line in &open.rest[..last_candidate] {
            message.push('\n');
            let line_start = message.len();
            message.push_str(line);
            ends.push((message.len(), line_start));
        }
        let end = (0..ends.len())
            .rev()
            .find(|&k| open.carrier.closes(&message[..ends[k].0], ends[k].1));
        let (lines, event) = match end {
            Some(k) => (
                k,
                whole_message(open.carrier, &message[..ends[k].0], ends[k].1, k > 0),
            ),
            None if decide == Decide::IfPossible => {
                self.open = Some(open);
                return false;
            }
            // It never ended the way the JDC ends it (another JDC version's
            // wording, or output cut short): the first line alone, as before.
            None => (0, classify(&open.first)),
        };
        if let Some(event) = event {
            out(Parsed { at: open.at, event });
        }
        for line in &open.rest[lines..] {
            let line = open.wrapper.restore(line);
            self.push_clean(&line, out);
        }
        true
    }
}

/// The event of a whole string-carrying message. `spans_lines`: a miner put
/// line breaks into its strings; its device strings are not believed.
fn whole_message(
    carrier: Carrier,
    message: &str,
    last_line: usize,
    spans_lines: bool,
) -> Option<Event> {
    match carrier {
        Carrier::Setup if spans_lines => Some(Event::Setup(Device::default())),
        Carrier::Setup => classify(message),
        Carrier::Channel(kind) => {
            let (identity, rate, downstream_id) = channel_parts(message, last_line)?;
            Some(channel_event(kind, identity, rate, downstream_id))
        }
        Carrier::Close => classify(message),
    }
}

/// Parses one line; see [`Parser`] for reading many.
pub fn parse_line(line: &str) -> Option<Parsed> {
    let mut parser = Parser::new();
    let mut first = None;
    let mut keep = |p: Parsed| {
        first.get_or_insert(p);
    };
    parser.push(line, &mut keep);
    parser.finish(&mut keep);
    first
}

/// Parses a whole text, as the input would read it.
pub fn parse_text(text: &str) -> Vec<Parsed> {
    let mut parser = Parser::new();
    let mut events = Vec::new();
    for line in text.lines() {
        parser.push(line, &mut |p| events.push(p));
    }
    parser.finish(&mut |p| events.push(p));
    events
}

const ESC: u8 = 0x1b;

/// Copies `line` into `out` without ANSI escape sequences (CSI such as colours,
/// OSC such as hyperlinks, and two-byte escapes).
pub fn strip_ansi(line: &str, out: &mut String) {
    out.clear();
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < bytes.len() {
        if bytes[i] != ESC {
            i += 1;
            continue;
        }
        out.push_str(&line[start..i]);
        i += 1;
        match bytes.get(i) {
            Some(b'[') => {
                // CSI: parameter and intermediate bytes, then one final byte.
                i += 1;
                while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                    i += 1;
                }
                i += 1;
            }
            Some(b']') => {
                // OSC: up to BEL or ESC '\'.
                i += 1;
                while i < bytes.len() && bytes[i] != 0x07 && bytes[i] != ESC {
                    i += 1;
                }
                if bytes.get(i) == Some(&ESC) {
                    i += 1;
                }
                i += 1;
            }
            Some(b) if b.is_ascii() => i += 1,
            _ => {}
        }
        // Sequences are ASCII, so `i` is a char boundary unless the line ends
        // inside one.
        i = i.min(bytes.len());
        start = i;
    }
    out.push_str(&line[start..]);
}

/// What a log collector put in front of each of the JDC's lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Wrapper {
    /// `docker compose logs`: `service-1  | `.
    prefix: String,
    /// `docker logs --timestamps`: its own timestamp and a space.
    stamped: bool,
}

impl Wrapper {
    /// A following line without what the collector put in front of it.
    fn strip<'a>(&self, line: &'a str) -> &'a str {
        let mut line = line.strip_prefix(self.prefix.as_str()).unwrap_or(line);
        if self.stamped && starts_with_timestamp(line) {
            line = split_token(line).1;
        }
        line
    }

    /// A stripped line as the collector wrote it, to be read anew. (The
    /// collector's own timestamp is gone; the JDC's header comes next and is
    /// what counts.)
    fn restore<'a>(&self, line: &'a str) -> std::borrow::Cow<'a, str> {
        if self.prefix.is_empty() {
            return line.into();
        }
        format!("{}{line}", self.prefix).into()
    }
}

/// The parts of one of the JDC's lines before the message.
pub(crate) struct Header<'a> {
    wrapper: Wrapper,
    pub(crate) timestamp: &'a str,
    pub(crate) message: &'a str,
}

/// The crates the JDC has logged as: `jd_client_sv2`, and `jd_client` before
/// it was renamed.
const JDC_CRATES: [&str; 2] = ["jd_client_sv2", "jd_client"];

impl<'a> Header<'a> {
    /// The header of one of the JDC's own lines, `None` for any other line.
    fn split(line: &'a str) -> Option<Header<'a>> {
        Self::split_for(line, &JDC_CRATES)
    }

    /// The header of a line logged by one of `crates` (the same format is
    /// used by every SRI role), `None` for any other line.
    pub(crate) fn split_for(line: &'a str, crates: &[&str]) -> Option<Header<'a>> {
        let mut rest = line;
        let mut prefix = "";
        // `docker compose logs` puts `service-1  | ` in front.
        if !starts_with_timestamp(rest) {
            let i = rest.find(" | ").filter(|&i| i < 80)?;
            let after = rest[i + 3..].trim_start();
            prefix = &rest[..rest.len() - after.len()];
            rest = after;
        }
        // `docker logs --timestamps` adds its own timestamp before the JDC's:
        // the last one is the JDC's.
        let mut timestamp = None;
        let mut stamps = 0;
        while starts_with_timestamp(rest) {
            let (token, after) = split_token(rest);
            timestamp = Some(token);
            stamps += 1;
            rest = after;
        }
        let timestamp = timestamp?;
        let (level, after) = split_token(rest);
        if !matches!(level, "INFO" | "WARN" | "ERROR" | "DEBUG" | "TRACE") {
            return None;
        }
        let (target, message) = split_token(after);
        let target = target.strip_suffix(':')?;
        let krate = target.split("::").next().unwrap_or(target);
        if !crates.contains(&krate) || !is_target(target) {
            return None;
        }
        Some(Header {
            wrapper: Wrapper {
                prefix: prefix.to_owned(),
                stamped: stamps > 1,
            },
            timestamp,
            message,
        })
    }
}

/// The first space-separated token and what follows it (leading spaces
/// removed).
fn split_token(s: &str) -> (&str, &str) {
    match s.find(' ') {
        Some(i) => (&s[..i], s[i + 1..].trim_start()),
        None => (s, ""),
    }
}

fn starts_with_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
}

/// A tracing target is a lowercase module path (`jd_client_sv2::downstream`).
fn is_target(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_lowercase() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b':')
}

fn classify(msg: &str) -> Option<Event> {
    if let Some(rest) = msg.strip_prefix("Received: ") {
        if let Some(body) = rest.strip_prefix("SetupConnection(") {
            return setup_connection(body).map(Event::Setup);
        }
        if let Some(body) = rest.strip_prefix("OpenStandardMiningChannel(") {
            return open_channel(ChannelKind::Standard, body);
        }
        if let Some(body) = rest.strip_prefix("OpenExtendedMiningChannel(") {
            return open_channel(ChannelKind::Extended, body);
        }
        if let Some(body) = rest.strip_prefix("CloseChannel(channel_id: ") {
            return leading_number(body).map(|channel_id| Event::ChannelClosed { channel_id });
        }
        return None;
    }
    if msg.starts_with("Rejecting") {
        return Some(Event::SetupRejected);
    }
    if let Some(rest) = msg.strip_prefix("Failed to ") {
        if rest.starts_with("set up downstream connection") {
            return Some(Event::SetupFailed {
                downstream_id: number_after(rest, "Disconnect("),
                setup_logged: rest.contains("kind: SetupConnectionError")
                    || rest.contains("kind: ChannelErrorSender"),
            });
        }
        let channel_refused = [
            "create standard channel",
            "create ExtendedChannel",
            "create extended channel",
            "get extranonce prefix",
        ];
        if channel_refused.iter().any(|p| rest.starts_with(p)) {
            return Some(Event::ChannelFailed);
        }
        return None;
    }
    if msg.starts_with("Extranonce prefix error") {
        return Some(Event::ChannelFailed);
    }
    // 0.1.0 and SRI 1.x: `Downstream 0 disconnected — Channel manager.` and
    // `Downstream 0 disconnected — cleaning up channel manager.`
    if let Some(rest) = msg.strip_prefix("Downstream ") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(" disconnected") {
            return rest[..digits]
                .parse()
                .ok()
                .map(|downstream_id| Event::Disconnected { downstream_id });
        }
    }
    // 0.2.0+: `Downstream::handle_downstream_message requested disconnect;
    // cancelling downstream token downstream_id=0 error_kind=..`, and the
    // channel manager's `.. requested downstream disconnect downstream_id=0`.
    if msg.contains(" requested ") {
        if msg.contains(" requested disconnect") || msg.contains(" requested downstream disconnect")
        {
            return field_u32(msg, "downstream_id")
                .map(|downstream_id| Event::Disconnected { downstream_id });
        }
        if msg.contains(" requested shutdown") {
            return Some(Event::Reset(Reset::Shutdown));
        }
        if msg.contains(" requested fallback") {
            return Some(Event::Reset(Reset::UpstreamLost));
        }
    }
    let reset = if msg.starts_with("Starting downstream server at")
        || msg.starts_with("Job declarator client starting")
    {
        Reset::Started
    } else if msg.starts_with("Upstream/Job Declarator connection dropped") {
        Reset::UpstreamLost
    } else if msg.starts_with("Ctrl+C received")
        || msg.starts_with("JD Client shutdown complete")
        || msg.contains("initiating full shutdown")
    {
        Reset::Shutdown
    } else {
        return None;
    };
    Some(Event::Reset(reset))
}

/// `protocol: 0, .., endpoint_port: P, vendor: V, hardware_version: HW,
/// firmware: FW, device_id: D)`. The strings are cut at the next field name,
/// so `vendor: Antminer, S19 (XP)` reads whole.
fn setup_connection(body: &str) -> Option<Device> {
    let port = body.find("endpoint_port: ")?;
    let after_port = &body[port..];
    let rest = &after_port[after_port.find(", vendor: ")? + ", vendor: ".len()..];
    let (vendor, rest) = rest.split_once(", hardware_version: ")?;
    let (hardware_version, rest) = rest.split_once(", firmware: ")?;
    let (firmware, rest) = rest.split_once(", device_id: ")?;
    // The struct's own `)` is the last one: fields after it hold none.
    let device_id = &rest[..rest.rfind(')')?];
    Some(Device {
        vendor: vendor.to_owned(),
        hardware_version: hardware_version.to_owned(),
        firmware: firmware.to_owned(),
        device_id: device_id.to_owned(),
    })
}

/// `request_id: R, user_identity: U, nominal_hash_rate: H, max_target: ..)
/// downstream_id=N`, on one line.
fn open_channel(kind: ChannelKind, body: &str) -> Option<Event> {
    let (identity, rate, downstream_id) = channel_parts(body, 0)?;
    Some(channel_event(kind, identity, rate, downstream_id))
}

fn channel_event(kind: ChannelKind, identity: &str, rate: &str, downstream_id: u32) -> Event {
    // An f32 printed with `{}`: `1000000000000`, `0.5`, `-1`, `inf`, `NaN`.
    let nominal_hash_rate = rate.trim().parse::<f64>().ok();
    // SRI 1.x appended `#<downstream_id>` to the identity before logging it.
    let suffix_len = identity
        .rsplit_once('#')
        .filter(|(_, id)| id.parse::<u32>() == Ok(downstream_id))
        .map_or(0, |(_, id)| id.len() + 1);
    Event::ChannelOpened {
        kind,
        downstream_id,
        user_identity: identity[..identity.len() - suffix_len].to_owned(),
        nominal_hash_rate,
    }
}

/// The value of a tracing field `name=<digits>`; the last one wins, since
/// fields follow the message.
fn field_u32(msg: &str, name: &str) -> Option<u32> {
    let mut search = msg;
    while let Some(i) = search.rfind(name) {
        let before_ok = i == 0 || search.as_bytes()[i - 1] == b' ';
        let after = &search[i + name.len()..];
        if before_ok {
            if let Some(value) = after.strip_prefix('=') {
                return leading_number(value);
            }
        }
        search = &search[..i];
    }
    None
}

fn number_after(s: &str, marker: &str) -> Option<u32> {
    leading_number(&s[s.find(marker)? + marker.len()..])
}

fn leading_number(s: &str) -> Option<u32> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    s[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETUP: &str = "2026-11-24T18:36:12.581187Z  INFO jd_client_sv2::downstream::common_message_handler: Received: SetupConnection(protocol: 0, min_version: 2, max_version: 2, flags: 0x00000001, endpoint_host: 127.0.0.1, endpoint_port: 34265, vendor: bitaxe, hardware_version: BM1370, firmware: , device_id: )";
    const STANDARD: &str = "2026-11-24T18:36:12.882611Z  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenStandardMiningChannel(request_id: 1, user_identity: bc1qexampleaddr.bitaxe1, nominal_hash_rate: 1000000000000, max_target: U256(ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)) downstream_id=0";

    fn event(line: &str) -> Option<Event> {
        parse_line(line).map(|p| p.event)
    }

    fn device(vendor: &str, hw: &str, fw: &str, id: &str) -> Event {
        Event::Setup(Device {
            vendor: vendor.into(),
            hardware_version: hw.into(),
            firmware: fw.into(),
            device_id: id.into(),
        })
    }

    #[test]
    fn setup_connection_fields_are_read_by_name() {
        let parsed = parse_line(SETUP).unwrap();
        assert_eq!(parsed.event, device("bitaxe", "BM1370", "", ""));
        assert_eq!(parsed.at.text, "2026-11-24T18:36:12.581187Z");
    }

    #[test]
    fn commas_and_parentheses_inside_strings_are_kept() {
        let cases = [
            ("vendor: Antminer, Inc., hardware_version: S19 (XP), firmware: 1.0 (beta), device_id: a,b)",
             device("Antminer, Inc.", "S19 (XP)", "1.0 (beta)", "a,b")),
            ("vendor: (x), hardware_version: ), firmware: ,, device_id: ))",
             device("(x)", ")", ",", ")")),
            ("vendor: , hardware_version: , firmware: , device_id: ) downstream_id=3",
             device("", "", "", "")),
        ];
        for (tail, want) in cases {
            let line = format!("2026-11-24T18:36:12.581187Z  INFO jd_client_sv2::downstream::common_message_handler: Received: SetupConnection(protocol: 0, min_version: 2, max_version: 2, flags: 0x00000001, endpoint_host: 10.0.0.2, endpoint_port: 34265, {tail}");
            assert_eq!(event(&line), Some(want), "{tail}");
        }
    }

    #[test]
    fn channel_opens_carry_identity_rate_and_id() {
        assert_eq!(
            event(STANDARD),
            Some(Event::ChannelOpened {
                kind: ChannelKind::Standard,
                downstream_id: 0,
                user_identity: "bc1qexampleaddr.bitaxe1".into(),
                nominal_hash_rate: Some(1e12),
            })
        );
        let extended = "2026-11-24T18:36:14.881370Z  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenExtendedMiningChannel(request_id: 0, user_identity: bc1qexampleaddr.miner1, nominal_hash_rate: 13500000000000, max_target: U256(ff), min_extranonce_size: 4) downstream_id=1";
        assert_eq!(
            event(extended),
            Some(Event::ChannelOpened {
                kind: ChannelKind::Extended,
                downstream_id: 1,
                user_identity: "bc1qexampleaddr.miner1".into(),
                nominal_hash_rate: Some(13.5e12),
            })
        );
    }

    #[test]
    fn older_channel_formats_are_understood() {
        // Up to 0.3.0 request_id prints as U32AsRef(1); SRI 1.x logged the
        // identity with `#<downstream_id>` appended.
        let line = "2025-06-01T10:00:00.000000Z  INFO jd_client::lib::channel_manager::downstream_message_handler: Received: OpenStandardMiningChannel(request_id: U32AsRef(1), user_identity: bc1qold.rig#7, nominal_hash_rate: 0.5, max_target: U256(ff)) downstream_id=7";
        assert_eq!(
            event(line),
            Some(Event::ChannelOpened {
                kind: ChannelKind::Standard,
                downstream_id: 7,
                user_identity: "bc1qold.rig".into(),
                nominal_hash_rate: Some(0.5),
            })
        );
        // A `#` that is not the id stays.
        let line = line.replace("#7", "#8");
        assert!(
            matches!(event(&line), Some(Event::ChannelOpened { user_identity, .. }) if user_identity == "bc1qold.rig#8")
        );
    }

    #[test]
    fn odd_hash_rates_are_reported_not_guessed() {
        for (text, want) in [
            ("-1", Some(-1.0)),
            ("0", Some(0.0)),
            ("inf", Some(f64::INFINITY)),
            ("lots", None),
        ] {
            let line = STANDARD.replace("1000000000000", text);
            match event(&line) {
                Some(Event::ChannelOpened {
                    nominal_hash_rate, ..
                }) => assert_eq!(nominal_hash_rate, want, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn identities_with_commas_and_parentheses_read_whole() {
        let line = STANDARD.replace("bc1qexampleaddr.bitaxe1", "bc1q.rig (a), b");
        assert!(
            matches!(event(&line), Some(Event::ChannelOpened { user_identity, .. }) if user_identity == "bc1q.rig (a), b")
        );
    }

    #[test]
    fn a_channel_open_without_downstream_id_is_not_a_miner() {
        let line = STANDARD.replace(" downstream_id=0", "");
        assert_eq!(event(&line), None);
    }

    #[test]
    fn every_disconnect_wording_is_recognised() {
        let cases = [
            ("2026-11-24T18:36:18.776785Z  WARN jd_client_sv2::downstream: Downstream::handle_downstream_message requested disconnect; cancelling downstream token downstream_id=0 error_kind=ChannelErrorReceiver(RecvError)", 0),
            ("2026-11-24T18:36:49.604444Z  WARN jd_client_sv2::downstream: Downstream::setup_connection_with_downstream requested disconnect; cancelling downstream token downstream_id=3 error_kind=SetupConnectionError", 3),
            ("2026-11-24T18:36:49.604444Z  WARN jd_client_sv2::channel_manager: ChannelManager::handle_downstream_message requested downstream disconnect downstream_id=12 error_kind=X", 12),
            ("2026-02-10T09:00:00.000000Z  WARN jd_client_sv2: Downstream 4 disconnected — cleaning up channel manager.", 4),
            ("2025-09-10T09:00:00.000000Z  WARN jd_client: Downstream 5 disconnected — Channel manager.", 5),
        ];
        for (line, id) in cases {
            assert_eq!(
                event(line),
                Some(Event::Disconnected { downstream_id: id }),
                "{line}"
            );
        }
    }

    #[test]
    fn setup_refusals_and_channel_failures() {
        assert_eq!(event("2026-11-24T18:36:48.603129Z  INFO jd_client_sv2::downstream::common_message_handler: Rejecting: work selection not allowed."), Some(Event::SetupRejected));
        assert_eq!(event("2026-11-24T18:36:48.603129Z  INFO jd_client_sv2::downstream::common_message_handler: Rejecting connection: no supported protocol version in requested range [3, 3] (supported: 2)."), Some(Event::SetupRejected));
        assert_eq!(
            event("2026-11-24T18:36:48.603138Z ERROR jd_client_sv2::downstream: Failed to set up downstream connection e=JDCError { kind: SetupConnectionError, action: Disconnect(3), _owner: PhantomData<jd_client_sv2::error::Downstream> }"),
            Some(Event::SetupFailed { downstream_id: Some(3), setup_logged: true })
        );
        assert_eq!(event("2026-11-24T18:36:51.982323Z ERROR jd_client_sv2::channel_manager::downstream_message_handler: Failed to create standard channel e=OpenChannelInvalidNominalHashrate(\"invalid-nominal-hashrate\")"), Some(Event::ChannelFailed));
        assert_eq!(event("2026-11-24T18:36:51.982323Z ERROR jd_client_sv2::channel_manager::downstream_message_handler: Failed to create ExtendedChannel e=X"), Some(Event::ChannelFailed));
    }

    #[test]
    fn restarts_fallbacks_and_shutdowns_reset() {
        let cases = [
            ("2026-11-24T18:36:04.814832Z  INFO jd_client_sv2::channel_manager: Starting downstream server at 127.0.0.1:34265", Reset::Started),
            ("2025-06-01T10:00:00.000000Z  INFO jd_client: Job declarator client starting... setting up subsystems", Reset::Started),
            ("2026-11-24T18:40:00.000000Z  WARN jd_client_sv2::jdc_runtime: Upstream/Job Declarator connection dropped — attempting reconnection...", Reset::UpstreamLost),
            ("2026-11-24T18:36:54.656632Z  INFO jd_client_sv2: Ctrl+C received — initiating graceful shutdown...", Reset::Shutdown),
            ("2026-11-24T18:36:54.657198Z  INFO jd_client_sv2::jdc_runtime: JD Client shutdown complete.", Reset::Shutdown),
            ("2025-06-01T10:00:00.000000Z  WARN jd_client: Template Receiver shutdown requested — initiating full shutdown.", Reset::Shutdown),
            ("2026-11-24T18:40:00.000000Z  WARN jd_client_sv2::channel_manager: ChannelManager::handle_upstream_message requested fallback error_kind=X", Reset::UpstreamLost),
        ];
        for (line, reset) in cases {
            assert_eq!(event(line), Some(Event::Reset(reset)), "{line}");
        }
    }

    #[test]
    fn colour_is_stripped_before_parsing() {
        // tracing-subscriber with ANSI: dimmed time, coloured level, dimmed
        // target and `:`, italic field name and dimmed `=`.
        let coloured = "\x1b[2m2026-11-24T18:36:12.882611Z\x1b[0m \x1b[32m INFO\x1b[0m \x1b[2mjd_client_sv2::channel_manager::downstream_message_handler\x1b[0m\x1b[2m:\x1b[0m Received: OpenStandardMiningChannel(request_id: 1, user_identity: bc1qexampleaddr.bitaxe1, nominal_hash_rate: 1000000000000, max_target: U256(ff)) \x1b[3mdownstream_id\x1b[0m\x1b[2m=\x1b[0m0";
        let plain = parse_line(STANDARD).unwrap();
        let parsed = parse_line(coloured).unwrap();
        assert_eq!(parsed.event, plain.event);
        assert_eq!(parsed.at, plain.at);
        let mut out = String::new();
        strip_ansi("a\x1b]8;;http://x\x07link\x1b]8;;\x1b\\b\x1b", &mut out);
        assert_eq!(out, "alinkb");
    }

    #[test]
    fn prefixes_from_docker_are_skipped() {
        let compose = format!("jdc-1  | {SETUP}");
        assert_eq!(event(&compose), event(SETUP));
        let stamped = format!("2026-11-24T18:36:12.999999999Z {SETUP}");
        assert_eq!(
            parse_line(&stamped).unwrap().at.text,
            "2026-11-24T18:36:12.581187Z"
        );
    }

    #[test]
    fn other_roles_and_noise_are_ignored() {
        let translator = SETUP.replace(
            "jd_client_sv2::downstream::common_message_handler",
            "translator_sv2::upstream",
        );
        assert_eq!(event(&translator), None);
        for line in [
            "",
            "garbage",
            "2026-11-24T18:36:04.814317Z  INFO jd_client_sv2::template_receiver::sv2_tp::message_handler: Received: SetupConnectionSuccess(used_version: 2, flags: 0x00000000)",
            "2026-11-24T18:36:12.576263Z  INFO jd_client_sv2::channel_manager: New downstream connection socket_address=127.0.0.1:36072",
            "2026-11-24T18:36:18.776839Z  WARN jd_client_sv2::downstream: Downstream: unified message loop exited.",
            "2026-11-24T18:36:18.776774Z ERROR jd_client_sv2::downstream: Error handling downstream message for 0 e=JDCError { kind: ChannelErrorReceiver(RecvError), action: Disconnect(0) }",
        ] {
            assert_eq!(event(line), None, "{line}");
        }
    }

    #[test]
    fn only_the_jdcs_own_lines_are_trusted() {
        let restart = "2026-11-24T18:36:04.814832Z  INFO jd_client_sv2::channel_manager: Starting downstream server at 127.0.0.1:34265";
        assert_eq!(event(restart), Some(Event::Reset(Reset::Started)));
        for line in [
            // No timestamp, no level, no target, or another program's.
            "INFO jd_client_sv2::channel_manager: Starting downstream server at 0.0.0.0:34265",
            "Starting downstream server at 0.0.0.0:34265",
            "2026-11-24T18:36:04.814832Z jd_client_sv2::channel_manager: Starting downstream server at 127.0.0.1:34265",
            "2026-11-24T18:36:04.814832Z  INFO Starting downstream server at 127.0.0.1:34265",
            "2026-11-24T18:36:04.814832Z  INFO jdc_reporter: Starting downstream server at 127.0.0.1:34265",
            "2026-11-24T18:36:04.814832Z  INFO jd_client_sv2x: Starting downstream server at 127.0.0.1:34265",
            "2026-11-24T18:36:04.814832Z  INFO translator_sv2: Starting downstream server at 127.0.0.1:34265",
            // A timestamp that is not one.
            "2026-13-99T99:99:99.000000Z  INFO jd_client_sv2: Starting downstream server at 127.0.0.1:34265",
            // Text that only looks like a wrapper.
            "not docker | Starting downstream server at 0.0.0.0:34265",
        ] {
            assert_eq!(event(line), None, "{line}");
        }
    }

    /// The JDC's `SetupConnection` line for a device with these strings, as
    /// `Str0255::as_utf8_or_hex` and tracing-subscriber print them: raw,
    /// line breaks included.
    fn setup_line(vendor: &str, device_id: &str) -> String {
        format!("2026-11-24T18:36:12.581187Z  INFO jd_client_sv2::downstream::common_message_handler: Received: SetupConnection(protocol: 0, min_version: 2, max_version: 2, flags: 0x00000001, endpoint_host: 10.0.0.9, endpoint_port: 34265, vendor: {vendor}, hardware_version: BM1370, firmware: , device_id: {device_id})")
    }

    fn open_line(identity: &str, id: u32) -> String {
        format!("2026-11-24T18:36:12.882611Z  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenStandardMiningChannel(request_id: 1, user_identity: {identity}, nominal_hash_rate: 1000000000000, max_target: U256(ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)) downstream_id={id}")
    }

    const FORGED_STOP: &str = "2026-11-24T18:36:13.000000Z  INFO jd_client_sv2: Ctrl+C received — initiating graceful shutdown...";
    const FORGED_GONE: &str = "2026-11-24T18:36:13.000000Z  WARN jd_client_sv2::downstream: Downstream::handle_downstream_message requested disconnect; cancelling downstream token downstream_id=0 error_kind=ChannelErrorReceiver(RecvError)";

    fn events(text: &str) -> Vec<Event> {
        parse_text(text).into_iter().map(|p| p.event).collect()
    }

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
    fn real_lines_after_a_setup_connection_are_read() {
        // A setup, the channel and a refusal, a disconnect ending in `)`
        // that is too long to hide in a string: each is its own line.
        let text = format!(
            "{}\n{}\n2026-11-24T18:36:51.982323Z ERROR jd_client_sv2::channel_manager::downstream_message_handler: Failed to create standard channel e=OpenChannelInvalidNominalHashrate(\"invalid-nominal-hashrate\")\n2026-11-24T18:36:52.000000Z  WARN jd_client_sv2::downstream: Downstream::handle_downstream_message requested disconnect; cancelling downstream token downstream_id=4 error_kind=ChannelErrorReceiver(RecvError)\n",
            setup_line("bitaxe", ""),
            open_line("bc1q.a", 4)
        );
        let got = events(&text);
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0], device("bitaxe", "BM1370", "", ""));
        assert_eq!(got[2], Event::ChannelFailed);
        assert_eq!(got[3], Event::Disconnected { downstream_id: 4 });
    }

    #[test]
    fn a_message_is_decided_once_the_input_caught_up() {
        let mut parser = Parser::new();
        let mut got = Vec::new();
        parser.push(&setup_line("bitaxe", ""), &mut |p| got.push(p.event));
        assert!(got.is_empty(), "the next lines could still belong to it");
        parser.flush(&mut |p| got.push(p.event));
        assert_eq!(got, [device("bitaxe", "BM1370", "", "")]);
        // A setup whose vendor's line break has not been followed by the
        // rest yet waits for it.
        let mut got = Vec::new();
        parser.push(
            setup_line("Acme\nx", "").lines().next().unwrap(),
            &mut |p| got.push(p.event),
        );
        parser.flush(&mut |p| got.push(p.event));
        assert!(got.is_empty());
        parser.push(FORGED_STOP, &mut |p| got.push(p.event));
        parser.flush(&mut |p| got.push(p.event));
        assert!(got.is_empty(), "{got:?}");
        parser.push(
            ", hardware_version: HW, firmware: , device_id: )",
            &mut |p| got.push(p.event),
        );
        parser.flush(&mut |p| got.push(p.event));
        assert_eq!(got, [Event::Setup(Device::default())]);
    }

    #[test]
    fn hostile_strings_full_of_field_names_are_read_quickly() {
        let names = ", hardware_version: , firmware: , device_id: )".repeat(5);
        let text = setup_line(&names, &names);
        // Bounded: each (position, field) is tried once.
        assert_eq!(events(&text).len(), 1);
    }
}
