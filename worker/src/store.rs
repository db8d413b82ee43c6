//! [`ReportStore`]: the latest report of each JDC, in Workers KV.
//!
//! One key per identity (`report:<jdcUserIdentity>`), written with an
//! expiration TTL, so a JDC that stops reporting disappears on its own with
//! no cleanup job. The value is the full [`StoredReport`]; the key's metadata
//! (at most 1 KiB) is a [`JdcSummary`], so an overview of every JDC needs
//! only `list` calls (1,000 keys each) and no reads, and a report whose
//! content did not change can be recognised without reading the value.
//! KV is eventually consistent across locations, which suits a view
//! refreshed every few seconds.

use dmr_shared::api::{kv_key, KV_KEY_PREFIX};
use dmr_shared::{JdcSummary, StoredReport};
use worker::kv::KvStore;
use worker::Env;

use crate::config::REPORTS_KV;
use crate::error::ApiError;

/// KV's largest page of `list()` results.
pub const LIST_PAGE: usize = 1000;

/// KV's largest batch for one bulk `get`.
const GET_BATCH: usize = 100;

/// The latest reports, one per JDC identity.
pub struct ReportStore {
    kv: KvStore,
    /// KV calls made so far (a bulk get is one call), for the logs.
    pub operations: usize,
}

fn kv_error(e: impl ToString) -> ApiError {
    ApiError::unavailable("KV", e)
}

/// One page of summaries, in identity order.
pub struct Page {
    pub summaries: Vec<JdcSummary>,
    /// Where the next page starts, when there is one.
    pub cursor: Option<String>,
}

impl ReportStore {
    /// Opens the store bound as [`REPORTS_KV`].
    pub fn open(env: &Env) -> Result<Self, ApiError> {
        let kv = env.kv(REPORTS_KV).map_err(kv_error)?;
        Ok(ReportStore { kv, operations: 0 })
    }

    /// The summary stored with an identity's report, if it has one. One KV
    /// read, and reads cost a tenth of writes.
    pub async fn summary(&mut self, identity: &str) -> Result<Option<JdcSummary>, ApiError> {
        self.operations += 1;
        let (value, summary) = self
            .kv
            .get(&kv_key(identity))
            .bytes_with_metadata::<JdcSummary>()
            .await
            .map_err(kv_error)?;
        Ok(value.and(summary))
    }

    /// Replaces the identity's report and summary; KV forgets both after
    /// `ttl_secs`.
    pub async fn put(
        &mut self,
        stored: &StoredReport,
        summary: &JdcSummary,
        ttl_secs: u64,
    ) -> Result<(), ApiError> {
        let value = serde_json::to_string(stored).map_err(|e| ApiError::Internal(e.to_string()))?;
        self.operations += 1;
        self.kv
            .put(&kv_key(&stored.report.jdc_user_identity), value)
            .map_err(kv_error)?
            .expiration_ttl(ttl_secs)
            .metadata(summary)
            .map_err(kv_error)?
            .execute()
            .await
            .map_err(|e| {
                // KV takes one write per second per key; a faster burst for
                // one identity is the client's to slow down, not an outage.
                if e.to_string().contains("429") {
                    ApiError::RateLimited { retry_after: 1 }
                } else {
                    kv_error(e)
                }
            })
    }

    /// One identity's live report.
    pub async fn get(
        &mut self,
        identity: &str,
        now: &str,
    ) -> Result<Option<StoredReport>, ApiError> {
        self.operations += 1;
        let stored = self
            .kv
            .get(&kv_key(identity))
            .json::<StoredReport>()
            .await
            .map_err(kv_error)?;
        Ok(stored.filter(|r| r.expires_at.as_str() > now))
    }

    /// Up to `limit` live summaries from `cursor` on (one `list` call per
    /// 1,000 keys, no reads). KV may list an entry for a while after it
    /// expired; the expiry in its summary is exact, so those are dropped.
    /// A `cursor` KV does not take is the caller's mistake (400), not an
    /// outage.
    pub async fn summaries(
        &mut self,
        now: &str,
        limit: usize,
        mut cursor: Option<String>,
    ) -> Result<Page, ApiError> {
        let mut summaries = Vec::new();
        let given_cursor = cursor.is_some();
        let mut calls = 0;
        loop {
            let mut list = self
                .kv
                .list()
                .prefix(KV_KEY_PREFIX.into())
                .limit(LIST_PAGE.min(limit - summaries.len()) as u64);
            if let Some(c) = cursor.take() {
                list = list.cursor(c);
            }
            self.operations += 1;
            calls += 1;
            let page = list.execute().await.map_err(|e| {
                if given_cursor && calls == 1 {
                    ApiError::BadQuery {
                        field: "cursor",
                        problem: "is not a cursor from this API's Link header, or it expired"
                            .into(),
                    }
                } else {
                    kv_error(e)
                }
            })?;
            for key in page.keys {
                let Some(mut summary) = key
                    .metadata
                    .and_then(|m| serde_json::from_value::<JdcSummary>(m).ok())
                else {
                    continue;
                };
                if summary.expires_at.as_str() > now {
                    summary.identity = key.name[KV_KEY_PREFIX.len()..].to_owned();
                    summaries.push(summary);
                }
            }
            let next = page.cursor.filter(|c| !page.list_complete && !c.is_empty());
            match next {
                Some(c) if summaries.len() < limit => cursor = Some(c),
                next => {
                    return Ok(Page {
                        summaries,
                        cursor: next,
                    })
                }
            }
        }
    }

    /// The full reports of `summaries`, in the same order, fetched 100 per
    /// bulk read. Entries that expire in between are skipped.
    pub async fn reports(
        &mut self,
        summaries: &[JdcSummary],
        now: &str,
    ) -> Result<Vec<StoredReport>, ApiError> {
        let keys: Vec<String> = summaries.iter().map(|s| kv_key(&s.identity)).collect();
        let mut reports = Vec::with_capacity(keys.len());
        for batch in keys.chunks(GET_BATCH) {
            self.operations += 1;
            let mut found = self
                .kv
                .get_bulk(batch)
                .json::<StoredReport>()
                .await
                .map_err(kv_error)?;
            reports.extend(batch.iter().filter_map(|k| found.remove(k).flatten()));
        }
        reports.retain(|r| r.expires_at.as_str() > now);
        Ok(reports)
    }
}
