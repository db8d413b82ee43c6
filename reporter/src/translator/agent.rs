//! An SV1 device's user agent (`mining.subscribe` params[0]) to its make:
//! vendor, hardware and firmware, by the shapes common firmware sends.
//!
//! | user agent | vendor | hardware | firmware |
//! |---|---|---|---|
//! | `bitaxe/BM1370/v2.14.0` | `bitaxe` | `BM1370` | `v2.14.0` |
//! | `NerdQAxe++/BM1370/v1.0.37` | `NerdQAxe++` | `BM1370` | `v1.0.37` |
//! | `cgminer/4.11.1`, `bmminer/2.0.0`, `whatsminer/v1.0` | the name | | the version |
//! | `Antminer S21/<build date>` | `Antminer` | `S21` | the build date |
//! | `Antminer` | `Antminer` | | |
//! | `Antminer S19k Pro\|LUXminer 2026.3.30\|...` (LuxOS) | `Antminer` | `S19k Pro` | `LUXminer 2026.3.30` |
//! | `<date>-<hash>-26.01-plus;bosminer-plus-tuner 0.9.0-<hash>` (Braiins OS) | `Braiins OS` | | `26.01-plus` |
//! | `xminer-1.2.7` (VNish) | `VNish` | | `1.2.7` |
//! | `PowerPlay-BM/1.0` (ePIC) | `ePIC` | | `PowerPlay-BM/1.0` |
//!
//! Any other shape: the text before the first `/` or space is the vendor,
//! and nothing else is invented. An agent that is empty, longer than 255
//! bytes or holds control characters is not believed at all: such a device
//! is reported with its make unknown (an empty vendor, which does not vote).

use dmr_shared::limits::MAX_FIELD_LEN;

/// What a user agent says about the device that sent it. Empty strings where
/// it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Make {
    pub vendor: String,
    pub hardware_version: String,
    pub firmware: String,
}

impl Make {
    fn new(vendor: &str, hardware_version: &str, firmware: &str) -> Make {
        Make {
            vendor: vendor.trim().to_owned(),
            hardware_version: hardware_version.trim().to_owned(),
            firmware: firmware.trim().to_owned(),
        }
    }

    /// Whether the make names anything.
    pub fn is_known(&self) -> bool {
        !self.vendor.is_empty()
    }
}

/// SV1 mining programs that send `<name>/<version>`.
const NAME_SLASH_VERSION: [&str; 6] = [
    "cgminer",
    "bmminer",
    "whatsminer",
    "sgminer",
    "bfgminer",
    "cpuminer",
];

/// The make a user agent names; [`Make::default`] when it names none.
pub fn make_of(agent: &str) -> Make {
    if agent.len() > MAX_FIELD_LEN || agent.chars().any(char::is_control) {
        return Make::default();
    }
    let agent = agent.trim();
    if agent.is_empty() {
        return Make::default();
    }
    let parts: Vec<&str> = agent.split('/').collect();
    // `<model>/<ASIC>/<version>`: bitaxe, NerdQAxe, NerdAxe (ESP-Miner and
    // its forks). The ASIC is a Bitmain chip name, `BM` and digits.
    if let [model, asic, version] = parts[..] {
        if is_asic(asic) && !model.trim().is_empty() {
            return Make::new(model, asic, version);
        }
    }
    if let [name, version] = parts[..] {
        if NAME_SLASH_VERSION
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name.trim()))
        {
            return Make::new(name, "", version);
        }
        if name.trim() == "PowerPlay-BM" {
            return Make::new("ePIC", "", agent);
        }
    }
    if let Some(rest) = agent.strip_prefix("Antminer") {
        if rest.is_empty() || rest.starts_with([' ', '/', '|']) {
            return antminer(rest);
        }
    }
    if let Some(make) = braiins(agent) {
        return make;
    }
    if let Some(version) = agent.strip_prefix("xminer-") {
        return Make::new("VNish", "", version);
    }
    let end = agent.find(['/', ' ']).unwrap_or(agent.len());
    Make::new(&agent[..end], "", "")
}

fn is_asic(s: &str) -> bool {
    s.strip_prefix("BM")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// What follows `Antminer`: ` S21/<build date>` (stock), ` S19k Pro|LUXminer
/// ...|...` (LuxOS), or nothing.
fn antminer(rest: &str) -> Make {
    if rest.contains('|') {
        let mut fields = rest.split('|');
        let model = fields.next().unwrap_or_default();
        let firmware = fields.next().unwrap_or_default();
        return Make::new("Antminer", model, firmware);
    }
    match rest.split_once('/') {
        Some((model, build)) => Make::new("Antminer", model, build),
        None => Make::new("Antminer", rest, ""),
    }
}

/// Braiins OS: `<date>-<hash>-<version>;bosminer-plus-tuner <version>-<hash>`.
/// The firmware is the version at the end of the part before `;`.
fn braiins(agent: &str) -> Option<Make> {
    let (os, miner) = agent.split_once(';')?;
    if !miner.trim_start().starts_with("bosminer") {
        return None;
    }
    // The version is the last `-`-separated run that starts with a digit and
    // holds a `.` (`26.01-plus`: from `26.01` to the end).
    let version = os
        .match_indices('-')
        .map(|(i, _)| &os[i + 1..])
        .find(|tail| {
            tail.starts_with(|c: char| c.is_ascii_digit())
                && tail.split('-').next().is_some_and(|v| v.contains('.'))
        })
        .unwrap_or("");
    Some(Make::new("Braiins OS", "", version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(agent: &str) -> (String, String, String) {
        let m = make_of(agent);
        (m.vendor, m.hardware_version, m.firmware)
    }

    fn is(vendor: &str, hardware: &str, firmware: &str) -> (String, String, String) {
        (vendor.into(), hardware.into(), firmware.into())
    }

    #[test]
    fn common_firmware_is_split_into_vendor_hardware_and_firmware() {
        let table = [
            ("bitaxe/BM1370/v2.14.0", is("bitaxe", "BM1370", "v2.14.0")),
            (
                "NerdQAxe++/BM1370/v1.0.37",
                is("NerdQAxe++", "BM1370", "v1.0.37"),
            ),
            ("NerdAxe/BM1366/v1.0.10", is("NerdAxe", "BM1366", "v1.0.10")),
            ("cgminer/4.11.1", is("cgminer", "", "4.11.1")),
            ("bmminer/2.0.0", is("bmminer", "", "2.0.0")),
            ("whatsminer/v1.0", is("whatsminer", "", "v1.0")),
            (
                "Antminer S21/Mon Jan 15 10:00:00 CST 2024",
                is("Antminer", "S21", "Mon Jan 15 10:00:00 CST 2024"),
            ),
            ("Antminer", is("Antminer", "", "")),
            (
                "Antminer S19k Pro|LUXminer 2026.3.30.172419-a1b2c3d|S19kPro",
                is("Antminer", "S19k Pro", "LUXminer 2026.3.30.172419-a1b2c3d"),
            ),
            (
                "2026-01-15-0-4d1a7e2c-26.01-plus;bosminer-plus-tuner 0.9.0-4d1a7e2c",
                is("Braiins OS", "", "26.01-plus"),
            ),
            ("xminer-1.2.7", is("VNish", "", "1.2.7")),
            ("PowerPlay-BM/1.0", is("ePIC", "", "PowerPlay-BM/1.0")),
        ];
        for (agent, want) in table {
            assert_eq!(make(agent), want, "{agent}");
        }
    }

    #[test]
    fn unknown_shapes_give_a_vendor_and_nothing_invented() {
        assert_eq!(make("foo/bar/baz"), is("foo", "", ""));
        assert_eq!(make("MyRig 3000"), is("MyRig", "", ""));
        assert_eq!(make("solo"), is("solo", "", ""));
        // Three parts whose middle is no ASIC name: only the vendor.
        assert_eq!(make("bitaxe/gamma/v2"), is("bitaxe", "", ""));
        assert_eq!(
            make("  bitaxe/BM1370/v2.14.0  "),
            is("bitaxe", "BM1370", "v2.14.0")
        );
    }

    #[test]
    fn odd_and_hostile_agents_name_nothing() {
        for agent in [
            "",
            "   ",
            "/",
            "//",
            "/BM1370/v1",
            "bit\naxe/BM1370/v2",
            "bitaxe\u{7}",
            "evil\r\n2026-01-01T00:00:00Z DEBUG translator_sv2: x",
        ] {
            assert!(!make_of(agent).is_known(), "{agent:?}");
        }
        let longest = format!("bitaxe/BM1370/{}", "v".repeat(255 - 14));
        assert_eq!(longest.len(), 255);
        assert_eq!(make_of(&longest).vendor, "bitaxe");
        assert!(!make_of(&format!("{longest}x")).is_known());
        // Only what is there: a bare ASIC is no vendor.
        assert_eq!(make("BM1370"), is("BM1370", "", ""));
    }
}
