//! One whole message of the JDC's to the [`Event`] it says, if any: the
//! wordings every SRI version has used for a new device, a channel, a
//! refusal, a disconnect and a reset.
//!
//! Message structs are printed raw (see the [parent module](super)), so
//! values are cut at the *next field name*, never at `,` or `)`. Most
//! messages are noise (templates, shares, vardiff) and are turned away
//! after a few byte comparisons, without allocating.

use super::framing::channel_parts;
use super::{ChannelKind, Device, Event, Reset};

pub(super) fn classify(msg: &str) -> Option<Event> {
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

pub(super) fn channel_event(
    kind: ChannelKind,
    identity: &str,
    rate: &str,
    downstream_id: u32,
) -> Event {
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
    use super::super::samples::{device, event, SETUP, STANDARD};
    use super::super::{parse_line, ChannelKind, Event, Reset};

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
}
