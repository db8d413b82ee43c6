//! [`ReportStore`]: the latest report of each JDC, in Workers KV.
//!
//! One key per identity (`report:<jdcUserIdentity>`), written with an
//! expiration TTL, so a JDC that stops reporting disappears on its own with
//! no cleanup job. KV is eventually consistent across locations, which suits
//! a debugging view refreshed every few seconds.

use dmr_shared::StoredReport;
use worker::kv::KvStore;
use worker::Env;

use crate::config::REPORTS_KV;
use crate::error::ApiError;

/// Prefix of every report key, so other data can share the namespace.
pub const KEY_PREFIX: &str = "report:";

/// KV's largest page of `list()` results.
const LIST_PAGE: u64 = 1000;

/// KV's largest batch for one bulk `get`.
const GET_BATCH: usize = 100;

/// The latest reports, one per JDC identity.
pub struct ReportStore {
    kv: KvStore,
}

fn kv_error(e: impl ToString) -> ApiError {
    ApiError::unavailable("KV", e)
}

impl ReportStore {
    /// Opens the store bound as [`REPORTS_KV`].
    pub fn open(env: &Env) -> Result<Self, ApiError> {
        let kv = env.kv(REPORTS_KV).map_err(kv_error)?;
        Ok(ReportStore { kv })
    }

    /// Replaces the identity's report; KV forgets it after `ttl_secs`.
    pub async fn put(&self, stored: &StoredReport, ttl_secs: u64) -> Result<(), ApiError> {
        let key = format!("{KEY_PREFIX}{}", stored.report.jdc_user_identity);
        let value = serde_json::to_string(stored).map_err(|e| ApiError::Internal(e.to_string()))?;
        self.kv
            .put(&key, value)
            .map_err(kv_error)?
            .expiration_ttl(ttl_secs)
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

    /// Every live report, in key (identity) order. Entries that expire between
    /// the listing and the read are skipped.
    pub async fn all(&self, now: &str) -> Result<Vec<StoredReport>, ApiError> {
        let keys = self.keys().await?;
        let mut reports = Vec::with_capacity(keys.len());
        for batch in keys.chunks(GET_BATCH) {
            let mut found = self
                .kv
                .get_bulk(batch)
                .json::<StoredReport>()
                .await
                .map_err(kv_error)?;
            reports.extend(batch.iter().filter_map(|k| found.remove(k).flatten()));
        }
        // KV may still list or return an entry for up to a minute after it
        // expired; the stored expiry is exact.
        reports.retain(|r| r.expires_at.as_str() > now);
        Ok(reports)
    }

    async fn keys(&self) -> Result<Vec<String>, ApiError> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let mut list = self.kv.list().prefix(KEY_PREFIX.into()).limit(LIST_PAGE);
            if let Some(c) = cursor.take() {
                list = list.cursor(c);
            }
            let page = list.execute().await.map_err(kv_error)?;
            keys.extend(page.keys.into_iter().map(|k| k.name));
            match page.cursor {
                Some(c) if !page.list_complete && !c.is_empty() => cursor = Some(c),
                _ => return Ok(keys),
            }
        }
    }
}
