//! SV1 devices behind an SRI translator (`translator_sv2`), named by their
//! own make.
//!
//! The JDC sees a translator as one downstream (`vendor: SRI,
//! hardware_version: Translator Proxy`) with one extended channel per SV1
//! device, and nothing about the devices. The translator knows them: their
//! user agent (its DEBUG log), their worker names and hash rates (its log and
//! its monitoring API), and what their own management interface says (the
//! API's miner telemetry). This module reads those and ties each device to
//! its channel on the JDC; [`crate::tracker`] then reports it in place of
//! the bare channel.
//!
//! - [`agent`]: a user agent to vendor, hardware and firmware.
//! - [`log`]: the translator's log lines to events; pure.
//! - [`devices`]: the table of SV1 devices those events and the API build.
//! - [`api`]: the translator's monitoring API.

pub mod agent;
pub mod api;
pub mod devices;
pub mod log;

pub use devices::{Devices, Sv1Device};

/// Whether a downstream's `SetupConnection` is the SRI translator's own
/// (`SRI`, `Translator Proxy`, any case).
pub fn is_translator(vendor: &str, hardware_version: &str) -> bool {
    vendor.trim().eq_ignore_ascii_case("SRI")
        && hardware_version
            .trim()
            .eq_ignore_ascii_case("Translator Proxy")
}
