//! One line of `jd_client_sv2` output in, at most one [`Event`] out.
//!
//! Pure: no IO and no clock, so the tracker and the tests can replay any log.
//! Every pattern here is one SRI actually prints (the fixture log, the
//! `sv2-apps` and older `stratum` sources), not a guess:
//!
//! - the line is tracing-subscriber's default format,
//!   `<RFC 3339> <LEVEL> <target>: <message> <key=value ...>`, with ANSI
//!   colour when the JDC's stdout was a terminal (stripped first);
//! - message structs are printed raw: an empty vendor prints as nothing and a
//!   comma or parenthesis inside a string is not escaped, so values are cut at
//!   the *next field name* (the field order is fixed), never at `,` or `)`;
//! - `downstream_id` is a tracing field after the message, not part of it.
//!
//! Most lines are noise (templates, shares, vardiff); they are rejected after
//! a few byte comparisons and without allocating.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

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

    /// The wall clock, for lines printed without a timestamp.
    pub fn now() -> Stamp {
        let now = Utc::now();
        Stamp {
            text: now.to_rfc3339_opts(SecondsFormat::Micros, true),
            time: now.fixed_offset(),
        }
    }
}

/// An event and when the JDC logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// `None` when the line had no timestamp (a custom log format).
    pub at: Option<Stamp>,
    pub event: Event,
}

/// A line parser with a reusable buffer for stripping colour, so a coloured
/// log costs no allocation per line either.
#[derive(Debug, Default)]
pub struct Parser {
    scratch: String,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses one whole line (with or without its line ending).
    pub fn parse(&mut self, line: &str) -> Option<Parsed> {
        let line = line.trim_end_matches(['\n', '\r']);
        if !line.as_bytes().contains(&ESC) {
            return parse_plain(line);
        }
        let mut clean = std::mem::take(&mut self.scratch);
        strip_ansi(line, &mut clean);
        let parsed = parse_plain(&clean);
        self.scratch = clean;
        parsed
    }
}

/// Parses one line; see [`Parser`] for the allocation-free way to parse many.
pub fn parse_line(line: &str) -> Option<Parsed> {
    Parser::new().parse(line)
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

fn parse_plain(line: &str) -> Option<Parsed> {
    let header = Header::split(line);
    if header.target.is_some_and(is_other_role) {
        return None;
    }
    let event = classify(header.message)?;
    Some(Parsed {
        at: header.timestamp.and_then(Stamp::parse),
        event,
    })
}

/// The parts of a tracing line before the message.
struct Header<'a> {
    timestamp: Option<&'a str>,
    target: Option<&'a str>,
    message: &'a str,
}

impl<'a> Header<'a> {
    fn split(line: &'a str) -> Header<'a> {
        let mut rest = line.trim_start();
        // `docker compose logs` puts `service-1  | ` in front.
        if !starts_with_timestamp(rest) {
            if let Some(i) = rest.find(" | ").filter(|&i| i < 80) {
                let after = rest[i + 3..].trim_start();
                if starts_with_timestamp(after) {
                    rest = after;
                }
            }
        }
        // `docker logs --timestamps` adds its own timestamp before the JDC's:
        // the last one is the JDC's.
        let mut timestamp = None;
        while starts_with_timestamp(rest) {
            let (token, after) = split_token(rest);
            timestamp = Some(token);
            rest = after;
        }
        let (token, after) = split_token(rest);
        if matches!(token, "INFO" | "WARN" | "ERROR" | "DEBUG" | "TRACE") {
            rest = after;
        }
        let (token, after) = split_token(rest);
        let mut target = None;
        if let Some(t) = token.strip_suffix(':').filter(|t| is_target(t)) {
            target = Some(t);
            rest = after;
        }
        Header {
            timestamp,
            target,
            message: rest,
        }
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

/// A tracing target is a lowercase module path (`jd_client_sv2::downstream`);
/// message words such as `Received:` are not.
fn is_target(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_lowercase() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b':')
}

/// Lines from the other SV2 roles (a translator or pool logging into the same
/// stream, or this reporter itself) describe *their* downstreams, not the
/// JDC's.
fn is_other_role(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    matches!(
        krate,
        "translator_sv2"
            | "translator"
            | "pool_sv2"
            | "pool"
            | "jd_server"
            | "jd_server_sv2"
            | "mining_device"
            | "mining_device_sv1"
            | "jdc_reporter"
    )
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
/// downstream_id=N`.
fn open_channel(kind: ChannelKind, body: &str) -> Option<Event> {
    let downstream_id = field_u32(body, "downstream_id")?;
    let start = body.find("user_identity: ")? + "user_identity: ".len();
    let (identity, rest) = body[start..].split_once(", nominal_hash_rate: ")?;
    let end = rest
        .find(", max_target: ")
        .or_else(|| rest.find(", "))
        .or_else(|| rest.find(')'))?;
    // An f32 printed with `{}`: `1000000000000`, `0.5`, `-1`, `inf`, `NaN`.
    let nominal_hash_rate = rest[..end].trim().parse::<f64>().ok();
    // SRI 1.x appended `#<downstream_id>` to the identity before logging it.
    let suffix_len = identity
        .rsplit_once('#')
        .filter(|(_, id)| id.parse::<u32>() == Ok(downstream_id))
        .map_or(0, |(_, id)| id.len() + 1);
    Some(Event::ChannelOpened {
        kind,
        downstream_id,
        user_identity: identity[..identity.len() - suffix_len].to_owned(),
        nominal_hash_rate,
    })
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
        assert_eq!(parsed.at.unwrap().text, "2026-11-24T18:36:12.581187Z");
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
            parse_line(&stamped).unwrap().at.unwrap().text,
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
    fn a_line_without_timestamp_still_parses() {
        let line =
            "INFO jd_client_sv2::channel_manager: Starting downstream server at 0.0.0.0:34265";
        let parsed = parse_line(line).unwrap();
        assert_eq!(parsed.at, None);
        assert_eq!(parsed.event, Event::Reset(Reset::Started));
    }
}
