//! The [`Parser`]: lines in, [`Parsed`] events out, in log order.
//!
//! A line with the JDC's header is classified at once, unless its message
//! carries miners' strings: then it is held with the lines after it until
//! [`framing`](super::framing) can say where it ends. Deciding that needs the
//! lines after it, so the parser holds them until the message's budget is
//! spent or the input is caught up ([`Parser::flush`]: the JDC writes each
//! message whole), then hands out the events in log order and reads the
//! lines the message did not take anew.

use super::classify::{channel_event, classify};
use super::framing::{channel_parts, Carrier};
use super::header::{strip_ansi, Header, Wrapper, ESC};
use super::{Device, Event, Parsed, Stamp};

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

/// The JDC's output, line by line, to events. Holds a little state: a
/// buffer for stripping colour, and a message that carries miners' strings,
/// held with the lines after it until its end is decided.
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
            // wording, or output cut short): the first line alone, read as
            // any other line is.
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

#[cfg(test)]
mod tests {
    use super::super::samples::{device, events, open_line, setup_line, FORGED_STOP};
    use super::super::{Device, Event};
    use super::Parser;

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
}
