//! The part of a line before the JDC's message: what a log collector put in
//! front (a `docker compose` prefix, a `docker logs --timestamps` stamp), the
//! timestamp, the level and the target, which says whose line it is; and the
//! colour codes a terminal's output carries, stripped before any of it is
//! read.
//!
//! Only a line with the JDC's own header (its timestamp, a level, and a
//! target in the JDC's crate) is read at all; the translator's log is read
//! through the same [`Header::split_for`] with its own crate.

pub(super) const ESC: u8 = 0x1b;

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
pub(super) struct Wrapper {
    /// `docker compose logs`: `service-1  | `.
    prefix: String,
    /// `docker logs --timestamps`: its own timestamp and a space.
    stamped: bool,
}

impl Wrapper {
    /// A following line without what the collector put in front of it.
    pub(super) fn strip<'a>(&self, line: &'a str) -> &'a str {
        let mut line = line.strip_prefix(self.prefix.as_str()).unwrap_or(line);
        if self.stamped && starts_with_timestamp(line) {
            line = split_token(line).1;
        }
        line
    }

    /// A stripped line as the collector wrote it, to be read anew. (The
    /// collector's own timestamp is gone; the JDC's header comes next and is
    /// what counts.)
    pub(super) fn restore<'a>(&self, line: &'a str) -> std::borrow::Cow<'a, str> {
        if self.prefix.is_empty() {
            return line.into();
        }
        format!("{}{line}", self.prefix).into()
    }
}

/// The parts of one of the JDC's lines before the message.
pub(crate) struct Header<'a> {
    pub(super) wrapper: Wrapper,
    pub(crate) timestamp: &'a str,
    pub(crate) message: &'a str,
}

/// The crates the JDC has logged as: `jd_client_sv2`, and `jd_client` before
/// it was renamed.
const JDC_CRATES: [&str; 2] = ["jd_client_sv2", "jd_client"];

impl<'a> Header<'a> {
    /// The header of one of the JDC's own lines, `None` for any other line.
    pub(super) fn split(line: &'a str) -> Option<Header<'a>> {
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

#[cfg(test)]
mod tests {
    use super::super::samples::{event, SETUP, STANDARD};
    use super::super::{parse_line, Event, Reset};
    use super::strip_ansi;

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
}
