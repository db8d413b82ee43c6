//! [`ReportStore`]: the latest report of each JDC, in Workers KV.
//!
//! One key per identity (`report:<jdcUserIdentity>`), written with an
//! expiration TTL, so a JDC that stops reporting disappears on its own with
//! no cleanup job. The value is the full [`StoredReport`] as JSON; the key's
//! metadata (at most 1 KiB) is its [`JdcSummary`] plus the value's size, so
//! an overview of every JDC needs only `list` calls (1,000 keys each) and
//! no reads, a report whose content did not change can be recognised
//! without reading the value, and a page of full reports can be cut to a
//! byte budget before any value is read.
//!
//! Reads pass the stored JSON through as text: a page of reports is the
//! values joined into an array, never parsed and written again. KV is
//! eventually consistent across locations, which suits a view refreshed
//! every few seconds.
//!
//! [`Hints`]: each Worker instance notes what it last stored (or read) for
//! an identity, so an unchanged report need not read KV.

use std::cell::RefCell;
use std::collections::HashMap;

use dmr_shared::api::{kv_key, KV_KEY_PREFIX};
use dmr_shared::limits::MAX_BODY_BYTES;
use dmr_shared::{JdcSummary, StoredReport};
use serde::{Deserialize, Serialize};
use worker::js_sys::{Function, Promise, Reflect, Uint8Array, JSON};
use worker::kv::KvStore;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::config::REPORTS_KV;
use crate::error::ApiError;

/// KV's largest page of `list()` results.
pub const LIST_PAGE: usize = 1000;

/// KV's largest batch for one bulk `get`.
const GET_BATCH: usize = 100;

/// Most bytes of values fetched by one bulk `get`, so a page of large
/// reports is read a few at a time rather than held twice at once.
const GET_BATCH_BYTES: usize = 1024 * 1024;

/// A key's metadata as written: the summary, the value's size in bytes and
/// until when D1's entry for the identity holds the summary's `userAgent`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(flatten)]
    summary: JdcSummary,
    /// Missing from entries written before it was kept: taken as the
    /// largest a report can be.
    #[serde(default = "largest_value")]
    bytes: usize,
    /// See [`Hint::name_until`]; missing when there is no such entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name_until: Option<String>,
}

/// [`Metadata`] as it is written, borrowing the summary.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetadataRef<'a> {
    #[serde(flatten)]
    summary: &'a JdcSummary,
    bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    name_until: Option<&'a str>,
}

fn largest_value() -> usize {
    MAX_BODY_BYTES
}

/// One live entry found by listing: its summary (identity filled in) and
/// the size of its value.
pub struct Listed {
    pub summary: JdcSummary,
    pub bytes: usize,
}

/// The latest reports, one per JDC identity.
pub struct ReportStore {
    kv: KvStore,
    /// The binding itself, for the write (see [`ReportStore::put`]).
    namespace: JsValue,
    /// KV calls made so far (a bulk get is one call), for the logs.
    pub operations: usize,
}

fn kv_error(e: impl ToString) -> ApiError {
    ApiError::unavailable("KV", e)
}

/// What a JS exception says.
pub fn js_text(e: &JsValue) -> String {
    e.dyn_ref::<worker::js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

impl ReportStore {
    /// Opens the store bound as [`REPORTS_KV`].
    pub fn open(env: &Env) -> Result<Self, ApiError> {
        let kv = env.kv(REPORTS_KV).map_err(kv_error)?;
        let namespace = Reflect::get(env, &REPORTS_KV.into()).map_err(|e| kv_error(js_text(&e)))?;
        Ok(ReportStore {
            kv,
            namespace,
            operations: 0,
        })
    }

    /// What the stored copy of an identity's report says of it (its
    /// metadata), if it has one. One KV read, and reads cost a tenth of
    /// writes. The value comes back as a stream that is cancelled unread:
    /// only the metadata is needed, and a large report is not copied into
    /// the Worker's memory for it.
    pub async fn summary(&mut self, identity: &str) -> Result<Option<Hint>, ApiError> {
        self.operations += 1;
        let (value, metadata) = self
            .kv
            .get(&kv_key(identity))
            .stream_with_metadata::<Metadata>()
            .await
            .map_err(kv_error)?;
        let Some(value) = value else {
            return Ok(None);
        };
        // Nothing waits on the cancellation; its promise is dropped.
        let _ = value.cancel();
        Ok(metadata.map(|m| Hint::of(&m.summary, m.name_until)))
    }

    /// Replaces the identity's report and summary, noting until when D1's
    /// entry holds its name (`name_until`); KV forgets both after
    /// `ttl_secs`. The JSON is written into `buffer` (emptied first), so the
    /// caller can lend one it no longer needs.
    pub async fn put(
        &mut self,
        stored: &StoredReport,
        summary: &JdcSummary,
        name_until: Option<&str>,
        ttl_secs: u64,
        mut buffer: Vec<u8>,
    ) -> Result<(), ApiError> {
        buffer.clear();
        serde_json::to_writer(&mut buffer, stored)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        // The options go across as one JSON text that V8 parses, rather
        // than as a JSON tree built in Rust and then copied into a JS object
        // member by member.
        let metadata = serde_json::to_string(&MetadataRef {
            summary,
            bytes: buffer.len(),
            name_until,
        })
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        let options = JSON::parse(&format!(
            "{{\"expirationTtl\":{ttl_secs},\"metadata\":{metadata}}}"
        ))
        .map_err(|e| ApiError::Internal(js_text(&e)))?;
        let put: Function = Reflect::get(&self.namespace, &"put".into())
            .and_then(|f| f.dyn_into())
            .map_err(|e| kv_error(js_text(&e)))?;
        let key = JsValue::from_str(&kv_key(&stored.report.jdc_user_identity));
        let value = Uint8Array::from(buffer.as_slice());
        self.operations += 1;
        let written = put
            .call3(&self.namespace, &key, &value, &options)
            .and_then(|p| p.dyn_into::<Promise>());
        let outcome = match written {
            Ok(promise) => JsFuture::from(promise).await.map(|_| ()),
            Err(e) => Err(e),
        };
        outcome.map_err(|e| {
            let e = js_text(&e);
            // KV takes one write per second per key; a faster burst for
            // one identity is the client's to slow down, not an outage.
            if e.contains("429") {
                ApiError::RateLimited { retry_after: 1 }
            } else {
                kv_error(e)
            }
        })
    }

    /// One identity's live report, as the stored JSON text.
    pub async fn get(&mut self, identity: &str, now: &str) -> Result<Option<String>, ApiError> {
        self.operations += 1;
        let (value, summary) = self
            .kv
            .get(&kv_key(identity))
            .text_with_metadata::<JdcSummary>()
            .await
            .map_err(kv_error)?;
        let live = summary.is_some_and(|s| s.expires_at.as_str() > now);
        Ok(value.filter(|_| live))
    }

    /// Lists live entries in identity order from `cursor` on, offering each
    /// to `take` until `limit` were taken or `take` refuses one (its page is
    /// full; `take` must accept the first it is offered). One `list` call
    /// per 1,000 keys, no reads. Returns how many were taken and KV's cursor
    /// of the first entry not taken, when there is one.
    ///
    /// KV may list an entry for a while after it expired; the expiry in its
    /// summary is exact, so those are skipped. A `cursor` KV does not take
    /// is the caller's mistake (400), not an outage.
    pub async fn list(
        &mut self,
        now: &str,
        limit: usize,
        mut cursor: Option<String>,
        mut take: impl FnMut(Listed) -> bool,
    ) -> Result<(usize, Option<String>), ApiError> {
        let mut taken = 0;
        let mut first_call = cursor.is_some();
        loop {
            let start = cursor.take();
            let page = self
                .list_keys(start.clone(), LIST_PAGE.min(limit - taken))
                .await
                .map_err(|e| match e {
                    ApiError::Unavailable { .. } if first_call => ApiError::BadQuery {
                        field: "cursor".into(),
                        problem: "is not a cursor from this API's Link header, or it expired"
                            .into(),
                    },
                    other => other,
                })?;
            first_call = false;
            for (position, key) in page.keys.into_iter().enumerate() {
                let Some(listed) = listed(key, now) else {
                    continue;
                };
                if !take(listed) {
                    // The page is full before this key: the next one starts
                    // at it. KV's cursors only point past what a list call
                    // returned, so list again up to (not including) it.
                    let next = match position {
                        0 => start,
                        _ => self.list_keys(start, position).await?.cursor,
                    };
                    return Ok((taken, next));
                }
                taken += 1;
            }
            match page.cursor {
                Some(next) if taken < limit => cursor = Some(next),
                next => return Ok((taken, next)),
            }
        }
    }

    /// One `list` call: up to `limit` report keys after `cursor`, and the
    /// cursor past them when more remain.
    async fn list_keys(
        &mut self,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<KeyPage, ApiError> {
        let mut list = self
            .kv
            .list()
            .prefix(KV_KEY_PREFIX.into())
            .limit(limit as u64);
        if let Some(c) = cursor {
            list = list.cursor(c);
        }
        self.operations += 1;
        let page = list.execute().await.map_err(kv_error)?;
        let cursor = page.cursor.filter(|c| !page.list_complete && !c.is_empty());
        Ok(KeyPage {
            keys: page.keys,
            cursor,
        })
    }

    /// Appends the stored values of `entries` to `out` as JSON array
    /// elements (comma-separated, in order), fetched by bulk reads of at
    /// most 100 keys and about a MiB. Entries that expired in between are
    /// left out. Returns how many were written.
    pub async fn append_values(
        &mut self,
        entries: &[Listed],
        out: &mut Vec<u8>,
    ) -> Result<usize, ApiError> {
        let mut written = 0;
        let mut rest = entries;
        while !rest.is_empty() {
            let mut bytes = 0;
            let count = rest
                .iter()
                .take(GET_BATCH)
                .take_while(|e| {
                    bytes += e.bytes;
                    bytes <= GET_BATCH_BYTES
                })
                .count()
                .max(1);
            let (batch, after) = rest.split_at(count);
            rest = after;
            let keys: Vec<String> = batch.iter().map(|e| kv_key(&e.summary.identity)).collect();
            self.operations += 1;
            let mut found = self.kv.get_bulk(&keys).text().await.map_err(kv_error)?;
            for key in &keys {
                if let Some(value) = found.remove(key).flatten() {
                    if written > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(value.as_bytes());
                    written += 1;
                }
            }
        }
        Ok(written)
    }
}

/// What the stored copy of an identity's report is, as far as a report
/// needs to know: its content, its user agent, when it was stored, and
/// until when D1 names the identity's rows with that user agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hint {
    pub content: String,
    pub user_agent: Option<String>,
    pub received_at: String,
    pub expires_at: String,
    /// The end of the identity's entry in D1's `jdc_names`, which holds
    /// `user_agent`; `None` when the copy was stored with no such entry.
    /// Written only after the entry was, so a report can tell from it alone
    /// whether D1 must be written (see `names`).
    pub name_until: Option<String>,
}

impl Hint {
    /// The note of a copy summarised by `summary` whose name D1 holds until
    /// `name_until`.
    pub fn of(summary: &JdcSummary, name_until: Option<String>) -> Self {
        Hint {
            content: summary.content.clone(),
            user_agent: summary.user_agent.clone(),
            received_at: summary.received_at.clone(),
            expires_at: summary.expires_at.clone(),
            name_until,
        }
    }
}

/// Most identities a Worker instance keeps notes for; past it the notes
/// start over, so they cost at most a few MiB of memory.
const MAX_NOTES: usize = 10_000;

thread_local! {
    static NOTES: RefCell<HashMap<String, Hint>> = RefCell::new(HashMap::new());
}

/// This Worker instance's notes of the last stored copy of each identity's
/// report, kept in its memory between requests, so an unchanged report is
/// answered without the KV read when it reaches an instance that stored (or
/// read) the copy before. A note is written after the KV write it describes
/// (or after a KV read found that copy), so it never describes a copy that
/// was not stored; a missing note (a new instance, another machine), or one
/// that does not match the report, falls back to the KV read. A note can be
/// stale only if another instance stored a different copy since: that
/// costs at most one refresh interval, after which the report is written
/// again in any case.
pub struct Hints;

impl Hints {
    /// The note for `identity`, if this instance has one.
    pub fn get(identity: &str) -> Option<Hint> {
        NOTES.with(|notes| notes.borrow().get(identity).cloned())
    }

    /// Notes `hint` for `identity`.
    pub fn put(identity: &str, hint: Hint) {
        NOTES.with(|notes| {
            let mut notes = notes.borrow_mut();
            if notes.len() >= MAX_NOTES && !notes.contains_key(identity) {
                notes.clear();
            }
            notes.insert(identity.to_owned(), hint);
        });
    }
}

/// What one `list` call returned.
struct KeyPage {
    keys: Vec<worker::kv::Key>,
    cursor: Option<String>,
}

/// A listed key as a live entry, or `None` when it is not one of ours or
/// has expired.
fn listed(key: worker::kv::Key, now: &str) -> Option<Listed> {
    let Metadata {
        mut summary, bytes, ..
    } = serde_json::from_value(key.metadata?).ok()?;
    if summary.expires_at.as_str() <= now {
        return None;
    }
    summary.identity = key.name.strip_prefix(KV_KEY_PREFIX)?.to_owned();
    Some(Listed { summary, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmr_shared::limits::MAX_MINERS;
    use dmr_shared::summary::MAX_METADATA_BYTES;
    use dmr_shared::testing::{miner, report};

    #[test]
    fn the_largest_metadata_fits_in_kv() {
        // Nine vendors of the longest name (eight listed, the rest folded),
        // hash rates whose sums print as long as an f64 can, the longest
        // user agent and the times the Worker writes, and the largest size.
        let miners = (0..MAX_MINERS)
            .map(|i| {
                miner(
                    &format!("{:0>32}", i % 9),
                    1.234_567_890_123_456_7e26 + i as f64,
                    "w",
                )
            })
            .collect();
        let report = report("bc1q.jdc", miners);
        let ua = Some(format!("{}/sv2", "V".repeat(32)));
        let time = "2026-02-15T12:00:00.123Z";
        let summary = JdcSummary::of(&report, ua, time, time);
        let metadata = Metadata {
            summary,
            bytes: MAX_BODY_BYTES * 2,
            name_until: Some(time.into()),
        };
        let text = serde_json::to_string(&metadata).unwrap();
        assert!(
            text.len() <= MAX_METADATA_BYTES,
            "{} bytes: {text}",
            text.len()
        );
        // And it reads back as the summary alone, as reports read it.
        let back: JdcSummary = serde_json::from_str(&text).unwrap();
        assert_eq!(back, metadata.summary);
        let listed: Metadata = serde_json::from_str(&text).unwrap();
        assert_eq!(listed.bytes, MAX_BODY_BYTES * 2);
        // Entries written before the size was kept count as the largest.
        let old = serde_json::to_string(&metadata.summary).unwrap();
        let old: Metadata = serde_json::from_str(&old).unwrap();
        assert_eq!(old.bytes, MAX_BODY_BYTES);
    }
}
