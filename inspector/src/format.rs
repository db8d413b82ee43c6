//! How numbers and times read on the page: hash rates in SI units, durations
//! in the two largest units that matter, and wall-clock times. Pure functions
//! of their inputs (the caller passes "now"), so they are tested natively.

use chrono::{DateTime, Datelike, TimeZone, Timelike};

/// Hash-rate units, each 1000 times the previous one.
const HASH_UNITS: [&str; 8] = [
    "H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s", "ZH/s",
];

/// A hash rate in H/s as people read it: three significant digits and the
/// largest unit that keeps the number at least 1 (`1.20 TH/s`, `12.5 PH/s`,
/// `480 GH/s`). Zero is `0 H/s`; a negative or non-finite value, which only a
/// broken report can carry, is shown as `?`, not as a number.
pub fn hash_rate(hps: f64) -> String {
    if !hps.is_finite() || hps < 0.0 {
        return "?".into();
    }
    if hps == 0.0 {
        return "0 H/s".into();
    }
    let mut value = hps;
    let mut unit = 0;
    // Round first, then move up a unit if rounding reached 1000
    // (999.6 TH/s reads "1.00 PH/s", not "1000 TH/s").
    while unit + 1 < HASH_UNITS.len() && round_sig3(value) >= 1000.0 {
        value /= 1000.0;
        unit += 1;
    }
    let shown = round_sig3(value);
    format!("{} {}", fixed(shown, decimals_for(shown)), HASH_UNITS[unit])
}

/// `value` (finite, not negative) with `decimals` decimals, rounded half
/// up. Integer arithmetic on purpose: Rust's float formatting (`{:.2}`)
/// would bring its code and tables into the page's WebAssembly, and
/// nothing else in the page formats a float.
pub fn fixed(value: f64, decimals: usize) -> String {
    let scale = 10u64.pow(decimals as u32);
    let n = (value * scale as f64).round() as u64;
    if decimals == 0 {
        n.to_string()
    } else {
        format!("{}.{:0decimals$}", n / scale, n % scale)
    }
}

/// Decimals that leave three significant digits for a value of at least 1.
fn decimals_for(value: f64) -> usize {
    if value < 10.0 {
        2
    } else if value < 100.0 {
        1
    } else {
        0
    }
}

/// `value` rounded to three significant digits, as `hash_rate` prints it.
fn round_sig3(value: f64) -> f64 {
    let scale = 10f64.powi(decimals_for(value) as i32);
    (value * scale).round() / scale
}

/// A span of seconds in its two largest units: `45 s`, `1 min 05 s`,
/// `2 h 03 min`, `3 d 04 h`. Negative spans (a browser clock behind the
/// pool's) read as `0 s`.
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m, s) = (s / 86_400, s / 3_600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d} d {h:02} h")
    } else if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

/// How long ago something happened: `12 s ago`, `just now` under a second.
pub fn ago(secs: i64) -> String {
    if secs < 1 {
        "just now".into()
    } else {
        format!("{} ago", duration(secs))
    }
}

/// When something will happen: `in 4 min 48 s`, or `now` once it is due.
pub fn until(secs: i64) -> String {
    if secs < 1 {
        "now".into()
    } else {
        format!("in {}", duration(secs))
    }
}

/// A wall-clock time as `2026-11-26 02:00:05` in the zone it carries: the
/// page passes the browser's local time.
pub fn date_time<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A count with its noun, singular or plural: `1 miner`, `3 miners`.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// A fraction in 0..=1 as a whole percentage; `<1%` for small non-zero
/// shares so a vendor with a sliver of hash rate does not read as none.
pub fn percent(fraction: f64) -> String {
    if !fraction.is_finite() || fraction <= 0.0 {
        "0%".into()
    } else {
        // Round half up (formatting would round 0.5 to even, i.e. to 0).
        let whole = (fraction.min(1.0) * 100.0).round() as u32;
        if whole < 1 {
            "<1%".into()
        } else {
            format!("{whole}%")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, Utc};

    #[test]
    fn hash_rates_use_si_units_with_three_significant_digits() {
        let cases = [
            (0.0, "0 H/s"),
            (0.5, "0.50 H/s"),
            (1.0, "1.00 H/s"),
            (999.0, "999 H/s"),
            (1_000.0, "1.00 kH/s"),
            (480e9, "480 GH/s"),
            (1e12, "1.00 TH/s"),
            (1.2e12, "1.20 TH/s"),
            (1.234_5e12, "1.23 TH/s"),
            (12.5e12, "12.5 TH/s"),
            (123.4e12, "123 TH/s"),
            (999.4e12, "999 TH/s"),
            (999.6e12, "1.00 PH/s"),
            (9.996e12, "10.0 TH/s"),
            (99.96e12, "100 TH/s"),
            (1.5e15, "1.50 PH/s"),
            (2e18, "2.00 EH/s"),
            (3e21, "3.00 ZH/s"),
            (4e24, "4000 ZH/s"),
        ];
        for (hps, want) in cases {
            assert_eq!(hash_rate(hps), want, "{hps}");
        }
    }

    #[test]
    fn fixed_point_rounds_half_up_without_float_formatting() {
        let cases = [
            (0.0, 0, "0"),
            (0.0, 2, "0.00"),
            (0.5, 2, "0.50"),
            (2.0 / 3.0 * 100.0, 2, "66.67"),
            (12.345, 1, "12.3"),
            (12.35, 1, "12.4"),
            (999.5, 0, "1000"),
            (100.0, 2, "100.00"),
        ];
        for (value, decimals, want) in cases {
            assert_eq!(fixed(value, decimals), want, "{value} {decimals}");
        }
    }

    #[test]
    fn broken_hash_rates_do_not_read_as_numbers() {
        for hps in [-1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(hash_rate(hps), "?", "{hps}");
        }
    }

    #[test]
    fn durations_show_their_two_largest_units() {
        let cases = [
            (-5, "0 s"),
            (0, "0 s"),
            (59, "59 s"),
            (60, "1 min 00 s"),
            (65, "1 min 05 s"),
            (90, "1 min 30 s"),
            (300, "5 min 00 s"),
            (3_599, "59 min 59 s"),
            (3_600, "1 h 00 min"),
            (7_380, "2 h 03 min"),
            (86_399, "23 h 59 min"),
            (86_400, "1 d 00 h"),
            (3 * 86_400 + 4 * 3_600 + 59, "3 d 04 h"),
        ];
        for (secs, want) in cases {
            assert_eq!(duration(secs), want, "{secs}");
        }
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(-3), "just now");
        assert_eq!(ago(12), "12 s ago");
        assert_eq!(ago(125), "2 min 05 s ago");
        assert_eq!(until(0), "now");
        assert_eq!(until(-30), "now");
        assert_eq!(until(288), "in 4 min 48 s");
    }

    #[test]
    fn date_times_are_shown_in_the_zone_they_carry() {
        let t = "2026-11-26T01:02:03.456Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(date_time(&t), "2026-11-26 01:02:03");
        let east = t.with_timezone(&FixedOffset::east_opt(5 * 3600 + 1800).unwrap());
        assert_eq!(date_time(&east), "2026-11-26 06:32:03");
    }

    #[test]
    fn counts_and_percentages() {
        assert_eq!(count(0, "miner", "miners"), "0 miners");
        assert_eq!(count(1, "miner", "miners"), "1 miner");
        assert_eq!(count(2, "JDC", "JDCs"), "2 JDCs");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(f64::NAN), "0%");
        assert_eq!(percent(0.001), "<1%");
        assert_eq!(percent(0.004), "<1%");
        assert_eq!(percent(0.005), "1%");
        assert_eq!(percent(0.125), "13%");
        assert_eq!(percent(0.626), "63%");
        assert_eq!(percent(1.0), "100%");
    }
}
