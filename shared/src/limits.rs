//! Protocol timings and input limits, each defined once and shared by the
//! pool, the reporter and the inspector.

/// A JDC sends a report every this many seconds.
pub const REPORT_INTERVAL_SECS: u64 = 60;

/// The pool keeps a JDC's latest report this long after receiving it: five
/// missed reports' worth, so one lost POST never hides a live JDC.
pub const REPORT_TTL_SECS: u64 = 300;

/// A report whose content (identity and miners) is unchanged is stored again
/// only once the stored copy is at least this old: with a report every 60 s
/// that is every third report, a third of the KV writes, and the copy never
/// gets older than three intervals. See [`refresh_after_secs`].
pub const REFRESH_AFTER_SECS: u64 = 135;

/// When an unchanged report is stored again under a TTL of `ttl_secs`: after
/// [`REFRESH_AFTER_SECS`], or half the TTL if that is sooner, so a JDC that
/// keeps reporting never expires.
pub fn refresh_after_secs(ttl_secs: u64) -> u64 {
    REFRESH_AFTER_SECS.min(ttl_secs / 2)
}

/// A JDC whose stored report is older than this has missed reports: the
/// inspector shows it as stale until it expires. A JDC that reports every
/// 60 s has its report stored at least every 180 s (a changed report at
/// once, an unchanged one every third time), so older than 200 s means at
/// least one report did not arrive.
pub const STALE_AFTER_SECS: u64 = 200;

/// Longest `jdcUserIdentity`, in bytes. Bitcoin addresses are at most 90
/// characters; the rest leaves room for a `.worker` suffix. It is also part of
/// a Workers KV key, which may not exceed 512 bytes.
pub const MAX_IDENTITY_LEN: usize = 256;

/// Longest miner string field, in bytes: SV2 sends these as `STR0_255`.
pub const MAX_FIELD_LEN: usize = 255;

/// Longest timestamp string, in bytes (RFC 3339 with nanoseconds and an offset
/// is 35).
pub const MAX_TIMESTAMP_LEN: usize = 64;

/// Most miners one report may carry. A JDC in front of a large translator
/// proxy can serve a few thousand SV1 devices; beyond this a report is abuse.
pub const MAX_MINERS: usize = 2_000;

/// Longest vendor name that reaches the database, in characters, before the
/// `/sv2` suffix.
pub const MAX_VENDOR_LEN: usize = 32;

/// Largest report body accepted, in bytes. A report of [`MAX_MINERS`] miners
/// with every string at its longest (written without escapes) stays under it.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Deepest nesting of arrays and objects accepted in a body. A report needs
/// three (report, miners, miner); the rest is room for unknown fields.
pub const MAX_JSON_DEPTH: usize = 16;

/// Most members one JSON object of a body may have, known or not. Reports
/// need seven at most; the rest is room for fields JDCs add. The bound keeps
/// the check for repeated keys (a hash per member of each open object) small
/// whatever the body.
pub const MAX_OBJECT_MEMBERS: usize = 1_000;

/// Largest nominal hash rate one miner may claim, in H/s: a billion times
/// the whole Bitcoin network. Beyond it the number is garbage, and sums over
/// a report's miners must stay finite.
pub const MAX_NOMINAL_HASH_RATE: f64 = 1e30;

/// Most full reports in one page of `GET /api/downstream-report`: one KV
/// `list` call's worth.
pub const MAX_REPORTS_PAGE: usize = 1_000;

/// Most summaries in one page of `GET /api/jdcs`: ten KV `list` calls.
pub const MAX_SUMMARIES_PAGE: usize = 10_000;

/// Largest page of a read, in bytes of JSON: a page ends before the item that
/// would take it past this, and always holds at least one item. So a read
/// costs the Worker a bounded amount of memory however large the reports it
/// holds (a stored report is at most about [`MAX_BODY_BYTES`]), and a full
/// read of any store is a chain of `Link`s to pages that all answer 200.
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// Longest `cursor` a paged read accepts, in bytes. The pool's own cursors
/// (KV's, wrapped with a checksum) are a few hundred bytes at most.
pub const MAX_CURSOR_LEN: usize = 2048;
