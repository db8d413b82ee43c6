//! When a JDC's report was stored and when the pool lets it go, seen from
//! the browser clock: its age, its countdown, whether it is live, stale or
//! gone, and the lines the page says it in. Pure, so the arithmetic and the
//! wording are tested natively.

use chrono::{DateTime, Duration, Utc};
use dmr_shared::limits::{REPORT_TTL_SECS, STALE_AFTER_SECS};
use dmr_shared::JdcSummary;

use crate::format;

/// Where a JDC stands, as the page colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Its stored report is at most [`STALE_AFTER_SECS`] old.
    Live,
    /// Missed a report (stored copy older than [`STALE_AFTER_SECS`]) but
    /// still served: it expires at `expiresAt` unless a report arrives.
    Stale,
    /// Listed before, no longer served: its report expired.
    Gone,
}

impl Health {
    /// The word on the badge and in `data-state`.
    pub fn label(self) -> &'static str {
        match self {
            Health::Live => "live",
            Health::Stale => "stale",
            Health::Gone => "gone",
        }
    }
}

/// An RFC 3339 time from the API, in UTC; `None` if it does not parse.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A JDC's `receivedAt` and `expiresAt`, parsed once per summary: the page
/// ages every JDC every second, and comparing two times is much cheaper
/// than parsing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportTimes {
    /// When the pool stored the report.
    pub received: DateTime<Utc>,
    /// When the pool forgets it unless a newer one arrives.
    pub expires: DateTime<Utc>,
}

impl ReportTimes {
    /// The times of `jdc`; `None` if `receivedAt` does not parse. A missing
    /// or broken `expiresAt` is taken as `receivedAt` plus the protocol TTL,
    /// which is what the pool uses.
    pub fn of(jdc: &JdcSummary) -> Option<Self> {
        let received = parse_time(&jdc.received_at)?;
        let expires = parse_time(&jdc.expires_at)
            .unwrap_or(received + Duration::seconds(REPORT_TTL_SECS as i64));
        Some(ReportTimes { received, expires })
    }

    /// The same times seen from the browser clock at `now`.
    pub fn at(self, now: DateTime<Utc>) -> Timing {
        Timing {
            age_secs: (now - self.received).num_seconds(),
            expires_in_secs: (self.expires - now).num_seconds(),
        }
    }
}

/// One JDC's report timing, seen from the browser clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Seconds since the pool stored the report (negative if the browser
    /// clock is behind the pool's).
    pub age_secs: i64,
    /// Seconds until the pool forgets it (negative once past).
    pub expires_in_secs: i64,
}

impl Timing {
    /// Missed a report: stored copy older than [`STALE_AFTER_SECS`].
    pub fn is_stale(self) -> bool {
        self.age_secs > STALE_AFTER_SECS as i64
    }
}

/// Health of a JDC with report `times` at `now`: `gone` if the API no
/// longer lists it, else stale or live by its age. A JDC whose time cannot
/// be read counts as stale: nothing says it is fresh.
pub fn health(times: Option<ReportTimes>, gone: bool, now: DateTime<Utc>) -> Health {
    if gone {
        return Health::Gone;
    }
    match times {
        Some(t) if !t.at(now).is_stale() => Health::Live,
        _ => Health::Stale,
    }
}

/// The line under a JDC card's summary: when its report was stored and
/// when it expires, or why it is stale or gone.
///
/// `receivedAt` is when the pool last *stored* the report: an unchanged
/// report is stored again only every third time, so the line says
/// "stored", not "reported".
pub fn timing_line(times: Option<ReportTimes>, gone: bool, now: DateTime<Utc>) -> String {
    let Some(times) = times else {
        return "report time unreadable".into();
    };
    let t = times.at(now);
    match health(Some(times), gone, now) {
        Health::Live => format!(
            "stored {} · expires {}",
            format::ago(t.age_secs),
            format::until(t.expires_in_secs)
        ),
        Health::Stale if t.expires_in_secs > 0 => format!(
            "not stored for {}, missed a report · expires {}",
            format::duration(t.age_secs),
            format::until(t.expires_in_secs)
        ),
        Health::Stale => format!(
            "not stored for {}, missed a report · expired, leaving the list",
            format::duration(t.age_secs)
        ),
        Health::Gone => format!(
            "gone: no longer reported, its report expired · stored {}",
            format::ago(t.age_secs)
        ),
    }
}

/// The header's "updated N s ago" line, from when the last applied answer
/// was requested (`None` before the first) and the poll interval.
pub fn updated_line(
    updated_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    refresh_secs: u64,
) -> String {
    match updated_at {
        None => "waiting for the first answer".into(),
        Some(at) => format!(
            "updated {} · refreshes every {refresh_secs} s",
            format::ago((now - at).num_seconds())
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{summary, t};

    /// `STALE_AFTER_SECS` after 02:00:00, plus `delta` seconds.
    fn stale_edge(delta: i64) -> DateTime<Utc> {
        t("2026-11-26T02:00:00Z") + Duration::seconds(STALE_AFTER_SECS as i64 + delta)
    }

    fn times(received: &str) -> Option<ReportTimes> {
        ReportTimes::of(&summary("bc1qa", received, vec![]))
    }

    #[test]
    fn timing_uses_the_browser_clock_against_received_and_expires() {
        let jdc = times("2026-11-26T02:00:01.123Z").unwrap();
        let cases = [
            ("2026-11-26T02:00:01.123Z", 0, 300),
            ("2026-11-26T02:00:31.200Z", 30, 269),
            ("2026-11-26T02:05:01.123Z", 300, 0),
            ("2026-11-26T02:06:01.123Z", 360, -60),
            // Browser clock behind the pool's.
            ("2026-11-26T01:59:51.123Z", -10, 310),
        ];
        for (now, age, expires_in) in cases {
            let timing = jdc.at(t(now));
            assert_eq!(
                (timing.age_secs, timing.expires_in_secs),
                (age, expires_in),
                "{now}"
            );
        }
    }

    #[test]
    fn a_broken_expires_at_falls_back_to_the_protocol_ttl() {
        let mut jdc = summary("bc1qa", "2026-11-26T02:00:00Z", vec![]);
        jdc.expires_at = "soon".into();
        let timing = ReportTimes::of(&jdc).unwrap().at(t("2026-11-26T02:01:00Z"));
        assert_eq!(timing.expires_in_secs, REPORT_TTL_SECS as i64 - 60);
        jdc.received_at = "yesterday".into();
        assert_eq!(ReportTimes::of(&jdc), None);
    }

    #[test]
    fn a_jdc_goes_stale_once_its_stored_report_is_older_than_the_limit() {
        let jdc = times("2026-11-26T02:00:00Z");
        let cases = [
            (t("2026-11-26T01:59:00Z"), Health::Live),
            (t("2026-11-26T02:00:00Z"), Health::Live),
            (stale_edge(-1), Health::Live),
            (stale_edge(0), Health::Live),
            (stale_edge(1), Health::Stale),
            (t("2026-11-26T02:04:59Z"), Health::Stale),
            (t("2026-11-26T02:07:00Z"), Health::Stale),
        ];
        for (now, want) in cases {
            assert_eq!(health(jdc, false, now), want, "{now}");
        }
        let now = t("2026-11-26T02:00:10Z");
        assert_eq!(health(jdc, true, now), Health::Gone);
        assert_eq!(health(None, false, now), Health::Stale, "unreadable");
        assert_eq!(health(None, true, now), Health::Gone);
    }

    #[test]
    fn the_timing_line_says_stored_expires_stale_or_gone() {
        let jdc = times("2026-11-26T02:00:00Z");
        let cases = [
            (
                t("2026-11-26T02:00:00Z"),
                false,
                "stored just now · expires in 5 min 00 s",
            ),
            (
                t("2026-11-26T02:01:12Z"),
                false,
                "stored 1 min 12 s ago · expires in 3 min 48 s",
            ),
            (
                stale_edge(1),
                false,
                "not stored for 3 min 21 s, missed a report · expires in 1 min 39 s",
            ),
            (
                t("2026-11-26T02:05:00Z"),
                false,
                "not stored for 5 min 00 s, missed a report · expired, leaving the list",
            ),
            (
                t("2026-11-26T02:06:00Z"),
                true,
                "gone: no longer reported, its report expired · stored 6 min 00 s ago",
            ),
        ];
        for (now, gone, want) in cases {
            assert_eq!(timing_line(jdc, gone, now), want, "{now} gone={gone}");
        }
        assert_eq!(
            timing_line(None, false, t("2026-11-26T02:00:00Z")),
            "report time unreadable"
        );
    }

    #[test]
    fn the_updated_line_counts_from_the_last_applied_answer() {
        let at = t("2026-11-26T02:00:00Z");
        let cases = [
            (None, at, "waiting for the first answer"),
            (Some(at), at, "updated just now · refreshes every 5 s"),
            (
                Some(at),
                t("2026-11-26T02:00:12Z"),
                "updated 12 s ago · refreshes every 5 s",
            ),
            (
                Some(at),
                t("2026-11-26T01:59:00Z"),
                "updated just now · refreshes every 5 s",
            ),
        ];
        for (updated, now, want) in cases {
            assert_eq!(updated_line(updated, now, 5), want, "{updated:?} {now}");
        }
    }
}
