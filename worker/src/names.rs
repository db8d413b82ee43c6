//! When a report writes its JDC's name to D1, and when it need not.
//!
//! D1's `jdc_names` table holds, per identity, the `userAgent` its reports
//! derive and until when (the report's TTL); triggers on `clients` name a
//! live `jd-client/sv2` row from it the moment the pool writes the row
//! (`worker/migrations/0003_jdc_names.sql`). So a report needs D1 only when
//! the entry must change: its name differs, it is missing or ended, or it
//! nears its end; or the report names nothing and a live entry must go.
//! Every other report makes no D1 call at all.
//!
//! What the entry holds is known without asking D1: the stored copy's KV
//! metadata, and this instance's note of it, carry the name and the entry's
//! end ([`Hint::name_until`]), written only after D1 was.
//!
//! An entry is renewed once it is as old as a stored copy may get before it
//! is written again ([`refresh_after_secs`]), so at the protocol's 60 s
//! cadence one report in three writes D1, the same one that writes KV
//! again, and the entry always outlives the next report by more than a
//! minute. Several JDCs of one address each have their own entry, so
//! however their majority vendors differ, none overwrites another's.

use dmr_shared::JDC_USER_AGENT;

#[cfg(doc)]
use dmr_shared::limits::refresh_after_secs;

use crate::store::Hint;

/// What a report does to its identity's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameWrite {
    /// Nothing: the entry (`until`, or none) stays as it is.
    Keep { until: Option<String> },
    /// Writes the entry with this name and renames the address's live
    /// `jd-client/sv2` rows to it.
    Put(String),
    /// Deletes the live entry: the report names nothing any more.
    Forget,
}

/// What the report deriving `user_agent` does to its entry, given what the
/// stored copy says (`known`). Times are RFC 3339 in UTC with milliseconds,
/// so they compare as text: `now`, and `renew_before`, the end an entry
/// written `refresh_after_secs` ago has (an entry ending before it is
/// renewed).
pub fn needed(
    user_agent: Option<&str>,
    known: Option<&Hint>,
    now: &str,
    renew_before: &str,
) -> NameWrite {
    // The JDC's own name is never written: naming rows what they are
    // already called would change nothing.
    let user_agent = user_agent.filter(|ua| *ua != JDC_USER_AGENT);
    let live = known
        .and_then(|k| k.name_until.as_deref())
        .filter(|until| *until > now);
    let same = known.is_some_and(|k| k.user_agent.as_deref() == user_agent);
    match (user_agent, live) {
        (Some(_), Some(until)) if same && until >= renew_before => NameWrite::Keep {
            until: Some(until.to_owned()),
        },
        (Some(ua), _) => NameWrite::Put(ua.to_owned()),
        (None, Some(_)) => NameWrite::Forget,
        (None, None) => NameWrite::Keep { until: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, Utc};
    use dmr_shared::limits::refresh_after_secs;
    use dmr_shared::rfc3339;

    fn hint(user_agent: Option<&str>, name_until: Option<&str>) -> Hint {
        Hint {
            content: "c".into(),
            user_agent: user_agent.map(Into::into),
            received_at: "2026-12-07T10:00:00.000Z".into(),
            expires_at: "2026-12-07T10:05:00.000Z".into(),
            name_until: name_until.map(Into::into),
        }
    }

    const NOW: &str = "2026-12-07T10:02:00.000Z";
    const RENEW_BEFORE: &str = "2026-12-07T10:04:45.000Z";

    #[test]
    fn only_a_new_name_a_missing_or_old_entry_or_a_lost_name_writes() {
        let put = || NameWrite::Put("bitaxe/sv2".into());
        let keep = |until: Option<&str>| NameWrite::Keep {
            until: until.map(Into::into),
        };
        let fresh = "2026-12-07T10:06:00.000Z";
        let old = "2026-12-07T10:04:00.000Z";
        let ended = "2026-12-07T10:01:00.000Z";
        let bitaxe = Some("bitaxe/sv2");
        let cases = [
            // (derived, known, what the report does)
            (bitaxe, Some(hint(bitaxe, Some(fresh))), keep(Some(fresh))),
            (
                bitaxe,
                Some(hint(bitaxe, Some(RENEW_BEFORE))),
                keep(Some(RENEW_BEFORE)),
            ),
            (bitaxe, Some(hint(bitaxe, Some(old))), put()),
            (bitaxe, Some(hint(bitaxe, Some(ended))), put()),
            (bitaxe, Some(hint(bitaxe, None)), put()),
            (
                bitaxe,
                Some(hint(Some("NerdQAxe++/sv2"), Some(fresh))),
                put(),
            ),
            (bitaxe, Some(hint(None, None)), put()),
            (bitaxe, None, put()),
            (None, Some(hint(bitaxe, Some(fresh))), NameWrite::Forget),
            (None, Some(hint(bitaxe, Some(ended))), keep(None)),
            (None, Some(hint(None, None)), keep(None)),
            (None, None, keep(None)),
            (Some(JDC_USER_AGENT), None, keep(None)),
            (
                Some(JDC_USER_AGENT),
                Some(hint(bitaxe, Some(fresh))),
                NameWrite::Forget,
            ),
        ];
        for (n, (derived, known, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                needed(derived, known.as_ref(), NOW, RENEW_BEFORE),
                want,
                "case {n}"
            );
        }
    }

    /// A JDC reporting the same miners every `cadence` seconds for an hour
    /// under `ttl`: the share of its reports that write D1, and the least
    /// time its entry had left when a report arrived.
    fn steady(cadence: i64, ttl: i64) -> (f64, i64) {
        let start: DateTime<Utc> = "2026-12-07T10:00:00Z".parse().unwrap();
        let refresh = refresh_after_secs(ttl as u64) as i64;
        let mut known: Option<Hint> = None;
        let (mut writes, mut reports, mut least_left) = (0, 0, i64::MAX);
        for n in 0..3600 / cadence {
            let now = start + Duration::seconds(n * cadence);
            if let Some(until) = known.as_ref().and_then(|k| k.name_until.as_deref()) {
                let until: DateTime<Utc> = until.parse().unwrap();
                least_left = least_left.min((until - now).num_seconds());
            }
            let renew_before = rfc3339(now + Duration::seconds(ttl - refresh));
            let write = needed(
                Some("bitaxe/sv2"),
                known.as_ref(),
                &rfc3339(now),
                &renew_before,
            );
            reports += 1;
            if let NameWrite::Put(_) = write {
                writes += 1;
                known = Some(hint(
                    Some("bitaxe/sv2"),
                    Some(&rfc3339(now + Duration::seconds(ttl))),
                ));
            }
        }
        (writes as f64 / reports as f64, least_left)
    }

    #[test]
    fn at_the_protocols_cadence_one_report_in_three_writes_and_the_entry_never_ends() {
        let (share, least_left) = steady(60, 300);
        assert!(share <= 0.34, "{share}");
        assert!(least_left > 60, "{least_left}");
        // The shortest TTL: renewed every 30 s, still never ended.
        let (share, least_left) = steady(10, 60);
        assert!(share <= 0.34, "{share}");
        assert!(least_left > 10, "{least_left}");
    }
}
