//! Lines as the JDC prints them, shared by the parts' unit tests.

use super::{parse_line, parse_text, Device, Event};

pub(super) const SETUP: &str = "2026-11-24T18:36:12.581187Z  INFO jd_client_sv2::downstream::common_message_handler: Received: SetupConnection(protocol: 0, min_version: 2, max_version: 2, flags: 0x00000001, endpoint_host: 127.0.0.1, endpoint_port: 34265, vendor: bitaxe, hardware_version: BM1370, firmware: , device_id: )";
pub(super) const STANDARD: &str = "2026-11-24T18:36:12.882611Z  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenStandardMiningChannel(request_id: 1, user_identity: bc1qexampleaddr.bitaxe1, nominal_hash_rate: 1000000000000, max_target: U256(ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)) downstream_id=0";

pub(super) fn event(line: &str) -> Option<Event> {
    parse_line(line).map(|p| p.event)
}

pub(super) fn device(vendor: &str, hw: &str, fw: &str, id: &str) -> Event {
    Event::Setup(Device {
        vendor: vendor.into(),
        hardware_version: hw.into(),
        firmware: fw.into(),
        device_id: id.into(),
    })
}

/// The JDC's `SetupConnection` line for a device with these strings, as
/// `Str0255::as_utf8_or_hex` and tracing-subscriber print them: raw,
/// line breaks included.
pub(super) fn setup_line(vendor: &str, device_id: &str) -> String {
    format!("2026-11-24T18:36:12.581187Z  INFO jd_client_sv2::downstream::common_message_handler: Received: SetupConnection(protocol: 0, min_version: 2, max_version: 2, flags: 0x00000001, endpoint_host: 10.0.0.9, endpoint_port: 34265, vendor: {vendor}, hardware_version: BM1370, firmware: , device_id: {device_id})")
}

pub(super) fn open_line(identity: &str, id: u32) -> String {
    format!("2026-11-24T18:36:12.882611Z  INFO jd_client_sv2::channel_manager::downstream_message_handler: Received: OpenStandardMiningChannel(request_id: 1, user_identity: {identity}, nominal_hash_rate: 1000000000000, max_target: U256(ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)) downstream_id={id}")
}

pub(super) const FORGED_STOP: &str = "2026-11-24T18:36:13.000000Z  INFO jd_client_sv2: Ctrl+C received — initiating graceful shutdown...";
pub(super) const FORGED_GONE: &str = "2026-11-24T18:36:13.000000Z  WARN jd_client_sv2::downstream: Downstream::handle_downstream_message requested disconnect; cancelling downstream token downstream_id=0 error_kind=ChannelErrorReceiver(RecvError)";

pub(super) fn events(text: &str) -> Vec<Event> {
    parse_text(text).into_iter().map(|p| p.event).collect()
}
